"""Reading police municipale exports: encodings, separators, header rows and variants, dates, times,
decimal commas, coordinates in WGS84 or Lambert-93, Excel files."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from ingest import police_municipale as pm
from ingest import tabular
from observatoire.errors import InputFileError
from tests.pm_helpers import HEADER, ROWS, write_export


@pytest.mark.parametrize(
    "encoding,bom", [("utf-8", False), ("utf-8", True), ("cp1252", False), ("latin-1", False)]
)
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_encodings_and_separators_are_detected(tmp_path, encoding, bom, sep):
    rows = [[c.replace(",", ".") for c in r] for r in ROWS] if sep == "," else ROWS
    f = write_export(tmp_path / "export.csv", rows=rows, sep=sep, encoding=encoding, bom=bom)
    p = pm.preview(f)
    assert p.separator == sep
    assert p.header == HEADER
    assert p.rows[1][2] == "Stationnement gênant"
    assert p.proposal["outcome"] == ("Suite donnée", 1.0)


def test_header_found_below_title_lines(tmp_path):
    f = tmp_path / "export.csv"
    f.write_text(
        "Extraction main courante\nPériode du 01/03/2024 au 31/03/2024\n\n"
        + ";".join(HEADER)
        + "\n"
        + ";".join(ROWS[0])
        + "\n",
        encoding="utf-8",
    )
    p = pm.preview(f)
    assert p.header_line == 4
    assert p.rows == [ROWS[0]]


def test_header_variants_are_recognised_with_a_confidence():
    header = [
        "Date/heure",
        "Motif",
        "Lieu",
        "Longitude",
        "Latitude",
        "Quartier",
        "Origine de l'intervention",
        "Suite",
        "N°",
        "Date de l'intervention saisie",
        "Colonne inutile",
    ]
    proposal = tabular.propose_mapping(header, pm.FIELDS)
    assert proposal["date"] == ("Date/heure", 1.0)
    assert proposal["label"] == ("Motif", 1.0)
    assert proposal["address"] == ("Lieu", 1.0)
    assert proposal["x"] == ("Longitude", 1.0)
    assert proposal["y"] == ("Latitude", 1.0)
    assert proposal["sector"] == ("Quartier", 1.0)
    assert proposal["origin"] == ("Origine de l'intervention", 1.0)
    assert proposal["outcome"] == ("Suite", 1.0)
    assert proposal["record_id"] == ("N°", 1.0)
    assert "Colonne inutile" not in {c for c, _ in proposal.values()}
    # a header holding a known spelling, and a typo, get lower confidences
    assert tabular.propose_mapping(["Heure de l'appel reçu"], pm.FIELDS)["time"][1] == 0.7
    assert tabular.propose_mapping(["Adrese"], pm.FIELDS)["address"] == ("Adrese", 0.5)


def _occurred(engine):
    with engine.connect() as conn:
        return dict(
            conn.execute(sa.text("SELECT source_record_id, occurred_at FROM obs.pm_intervention")).all()
        )


def test_date_and_time_formats(engine, tmp_path):
    rows = [
        ["12/03/2024", "22:15", "Tapage", "rue Grande", "", "", "", "", "", "A"],
        ["13/03/24", "8h05", "Tapage", "rue Grande", "", "", "", "", "", "B"],
        ["2024-03-14", "17h", "Tapage", "rue Grande", "", "", "", "", "", "C"],
        ["45366", "0930", "Tapage", "rue Grande", "", "", "", "", "", "D"],
        ["16/03/2024 23:40", "", "Tapage", "rue Grande", "", "", "", "", "", "E"],
        ["2024-03-17T06:30:00", "", "Tapage", "rue Grande", "", "", "", "", "", "F"],
        ["18.03.2024", "21H30", "Tapage", "rue Grande", "", "", "", "", "", "G"],
    ]
    report = pm.commit(engine, write_export(tmp_path / "dates.csv", rows=rows), commune="04112")
    assert report.errors_total == 0, report.errors
    got = _occurred(engine)
    assert got["A"] == datetime(2024, 3, 12, 22, 15)
    assert got["B"] == datetime(2024, 3, 13, 8, 5)
    assert got["C"] == datetime(2024, 3, 14, 17, 0)
    assert got["D"] == datetime(2024, 3, 15, 9, 30)  # Excel serial day 45366
    assert got["E"] == datetime(2024, 3, 16, 23, 40)
    assert got["F"] == datetime(2024, 3, 17, 6, 30)
    assert got["G"] == datetime(2024, 3, 18, 21, 30)


def test_bad_dates_times_and_coordinates_are_explained(engine, tmp_path):
    from observatoire.errors import ValidationFailed

    rows = [
        ["31/02/2024", "10:00", "Tapage", "rue Grande", "", "", "", "", "", "A"],
        ["12/03/2024", "25:99", "Tapage", "rue Grande", "", "", "", "", "", "B"],
        ["", "10:00", "Tapage", "rue Grande", "", "", "", "", "", "C"],
        ["12/03/2024", "10:00", "", "rue Grande", "", "", "", "", "", "D"],
        ["12/03/2024", "10:00", "Tapage", "", "abc", "43,8", "", "", "", "E"],
        ["12/03/2024", "10:00", "Tapage", "", "43,83", "5,78", "", "", "", "F"],
        ["12/03/2024", "10:00", "Tapage", "", "2500000", "100", "", "", "", "G"],
        ["12/03/2099", "10:00", "Tapage", "rue Grande", "", "", "", "", "", "H"],
    ]
    with pytest.raises(ValidationFailed) as exc:
        pm.commit(engine, write_export(tmp_path / "bad.csv", rows=rows), commune="04112")
    report = exc.value.report
    by_line = {e.line: e for e in report.errors}
    assert report.errors_total == 8 and report.rejected == 8
    assert (
        by_line[2].column == "Date"
        and by_line[2].value == "31/02/2024"
        and "jj/mm/aaaa" in by_line[2].message
    )
    assert by_line[3].column == "Heure" and "HH:MM" in by_line[3].message
    assert "date absente" in by_line[4].message
    assert by_line[5].column == "Nature de l'intervention"
    assert by_line[6].column == "X" and "non numérique" in by_line[6].message
    assert "inversées" in by_line[7].message
    assert "Lambert-93" in by_line[8].message
    assert "période plausible" in by_line[9].message
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM obs.pm_intervention")).scalar() == 0
        assert conn.execute(sa.text("SELECT status FROM obs.import_batch")).scalars().all() == ["echec"]


def test_lambert93_is_detected_by_range_and_decimal_commas_read(engine, tmp_path):
    rows = [
        ["12/03/2024", "10:00", "Tapage", "", "5,78716", "43,83423", "", "", "", "W"],
        ["12/03/2024", "10:00", "Tapage", "", "931 512,40", "6 304 980,10", "", "", "", "L"],
    ]
    report = pm.commit(engine, write_export(tmp_path / "xy.csv", rows=rows), commune="04112")
    assert report.extra["systemes_coordonnees"] == {"WGS84": 1, "Lambert-93": 1}
    with engine.connect() as conn:
        pts = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute(
                sa.text(
                    "SELECT source_record_id, ST_X(geom), ST_Y(geom), geocoding_status FROM obs.pm_intervention"
                )
            )
        }
    assert pts["W"] == pytest.approx((5.78716, 43.83423, "coordonnees"))
    lon, lat, status = pts["L"]
    assert status == "coordonnees"
    assert 5.7 < lon < 5.9 and 43.7 < lat < 43.9  # Manosque, from Lambert-93 metres


def test_stated_system_overrides_detection(engine, tmp_path):
    from observatoire.errors import ValidationFailed

    rows = [["12/03/2024", "10:00", "Tapage", "", "931512", "6304980", "", "", "", "L"]]
    f = write_export(tmp_path / "xy.csv", rows=rows)
    with pytest.raises(ValidationFailed) as exc:
        pm.commit(engine, f, mapping={"columns": {}, "crs": "wgs84"}, commune="04112")
    assert "WGS84" in exc.value.report.errors[0].message


def test_excel_files_are_read(engine, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(["Main courante - export"])
    ws.append(["Date", "Heure", "Motif", "Lieu", "Longitude", "Latitude", "N° d'intervention"])
    ws.append([datetime(2024, 5, 1, 0, 0), "14:30", "Rodéo urbain", "av. Jean Giono", 5.79, 43.83, 101])
    ws.append([datetime(2024, 5, 2, 21, 10), None, "Dépôt sauvage", "rue Grande", None, None, 102])
    f = tmp_path / "export.xlsx"
    book.save(f)
    p = pm.preview(f)
    assert p.kind == "xlsx" and p.header_line == 2
    assert p.rows[0][0] == "2024-05-01"
    report = pm.commit(engine, f, commune="04112")
    assert report.inserted == 2
    got = _occurred(engine)
    assert got["101"] == datetime(2024, 5, 1, 14, 30)
    assert got["102"] == datetime(2024, 5, 2, 21, 10)


def _labels(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT label FROM obs.pm_intervention")).scalars())


FILLER = [
    ["12/03/2024", "10:00", "Tapage nocturne", "rue Grande", "", "", "", "", "", f"F-{i}"]
    for i in range(2000)
]


@pytest.mark.parametrize("where", ["debut", "loin"], ids=["premiers-64-Ko", "apres-64-Ko"])
def test_one_bad_byte_in_a_utf8_file_refuses_it_naming_the_line_instead_of_garbling_every_accent(
    engine, tmp_path, where
):
    """A UTF-8 export with one damaged character was read as Windows-1252 (« Stationnement gÃªnant ») when the
    byte was in the first 64 Ko, and refused without its line further down: it is refused, naming the line."""
    rows = (
        [*ROWS, *FILLER]
        if where == "loin"
        else [*ROWS[:1], ["12/03/2024", "", "Tapage", "", "", "", "", "", "", "Z"], *ROWS[1:]]
    )
    data = bytearray(
        write_export(tmp_path / "export.csv", rows=rows, encoding="utf-8", bom=False).read_bytes()
    )
    line = len(rows) + 1 if where == "loin" else 3
    damaged = data.rindex(b"Tapage") if where == "loin" else data.index(b";Tapage;") + 1
    data[damaged + 1] = 0xE9  # « T\xe9page »: one byte of another encoding
    path = tmp_path / "endommage.csv"
    path.write_bytes(bytes(data))
    for dry_run in (True, False):
        with pytest.raises(InputFileError) as caught:
            pm.commit(engine, path, commune="04112", dry_run=dry_run)
        assert f"la ligne {line} contient un octet illisible en UTF-8 (0xe9)" in caught.value.message
    assert _labels(engine) == set()


def test_a_cp1252_file_whose_first_accent_is_far_down_is_read_as_cp1252(engine, tmp_path):
    """Its first 64 Ko are ASCII: it was taken for UTF-8, and refused at its first accent."""
    rows = [*FILLER, ["12/03/2024", "10:00", "Stationnement gênant", "", "", "", "", "", "", "G"]]
    header = [h.replace("é", "e").replace("°", "o") for h in HEADER]
    path = write_export(tmp_path / "export.csv", rows=rows, header=header, encoding="cp1252")
    assert max(path.read_bytes()[: 64 * 1024]) < 0x80
    pm.commit(engine, path, commune="04112")
    assert _labels(engine) == {"Tapage nocturne", "Stationnement gênant"}


def test_a_cp1252_file_with_a_chance_utf8_pair_stays_cp1252(engine, tmp_path):
    """« RÉSERVÉ » followed by a no-break space reads as one UTF-8 character: among the file's other accents,
    chance, not UTF-8."""
    rows = [list(r) for r in ROWS]
    rows[0][6] = "SECTEUR RÉSERVÉ\u00a0"
    path = write_export(tmp_path / "export.csv", rows=rows, encoding="cp1252")
    assert "É\u00a0".encode("cp1252").decode("utf-8") == "ɠ"
    pm.commit(engine, path, commune="04112")
    assert _labels(engine) == {r[2] for r in ROWS}


@pytest.mark.parametrize(
    "data,expected",
    [
        (
            b"\xef\xbb\xbf"
            + ";".join(HEADER).encode()
            + b"\r\n"
            + ";".join(ROWS[1]).encode("cp1252")
            + b"\r\n",
            "commence par la marque des fichiers UTF-8 (BOM), mais la ligne 2 contient un octet illisible en UTF-8",
        ),
        (
            ("\r\n".join(";".join(r) for r in [HEADER, *ROWS[:2]]) + "\r\n").encode()
            + ("\r\n".join(";".join(r) for r in ROWS[1:] * 3) + "\r\n").encode("cp1252"),
            "est écrit en UTF-8, mais la ligne 4 contient un octet illisible en UTF-8 (0xea)",
        ),
        ((";".join(HEADER) + "\r\n" + ";".join(ROWS[1]) + "\r\n").encode("utf-16"), "UTF-16"),
        ((";".join(HEADER) + "\r\n" + ";".join(ROWS[1]) + "\r\n").encode("utf-16-le"), "UTF-16"),
        (
            (";".join(HEADER) + "\r\n").encode("cp1252") + b"12/03/2024;10:00;Tapage\x81;;;;;;;A\r\n",
            "caractère illisible ligne 2 (octet 0x81) : le fichier n'est ni en UTF-8 ni en Windows-1252",
        ),
        (b"\xef\xbb\xbf", "est vide"),
        (b"\xef\xbb\xbf\r\n\r\n", "est vide"),
    ],
    ids=[
        "bom-puis-cp1252",
        "utf8-puis-cp1252",
        "utf16",
        "utf16-sans-bom",
        "ni-l-un-ni-l-autre",
        "bom",
        "bom-lignes",
    ],
)
def test_files_neither_utf8_nor_cp1252_throughout_are_refused(engine, tmp_path, data, expected):
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    with pytest.raises(InputFileError) as caught:
        pm.commit(engine, path, commune="04112", dry_run=True)
    assert expected in caught.value.message


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("1 234,5", 1234.5),
        ("1234.5", 1234.5),
        (" -0,96", -0.96),
        ("931\u202f512,40", 931512.4),
        ("6\u00a0304\u00a0980", 6304980.0),
        ("+5,78", 5.78),
        ("1,5E-05", 1.5e-05),
        ("NA", None),
        ("", None),
    ],
)
def test_french_numbers_are_read(raw, expected):
    from ingest.reading import parse_decimal

    assert (
        parse_decimal(raw) == pytest.approx(expected) if expected is not None else parse_decimal(raw) is None
    )


@pytest.mark.parametrize(
    "raw",
    [
        "5,787.12",
        "5.787,12",
        "1,234,567",
        "1.234.567",
        "12 34",
        "inf",
        "-inf",
        "1e400",
        "1_000",
        "\uff15,78",
        "--5",
    ],
)
def test_numbers_with_mixed_separators_or_other_digits_are_refused_not_misread(raw):
    from ingest.reading import parse_decimal, parse_int

    with pytest.raises(ValueError):
        parse_decimal(raw)
    with pytest.raises(ValueError):
        parse_int(raw)


@pytest.mark.parametrize("by_rows", [False, True], ids=["lecture-colonnes", "lecture-lignes"])
@pytest.mark.parametrize(
    "x,y", [("5,787.12", "43,83"), ("5,78", "43.834,1"), ("inf", "43,83"), ("5_78", "43,83")]
)
def test_coordinates_with_mixed_separators_are_row_errors(engine, monkeypatch, tmp_path, by_rows, x, y):
    """« 5,787.12 » was read 5.78712, a place in Manosque: the row is refused by both readers."""
    from ingest import columnar
    from observatoire.errors import ValidationFailed

    if by_rows:
        monkeypatch.setattr(columnar, "read_regular", lambda table: None)
    body = [list(r) for r in ROWS]
    body[1][4], body[1][5] = x, y
    with pytest.raises(ValidationFailed) as exc:
        pm.commit(engine, write_export(tmp_path / "xy.csv", rows=body), commune="04112", dry_run=True)
    (error,) = exc.value.report.errors
    assert error.line == 3 and error.value == f"{x} ; {y}" and "jamais les deux" in error.message


@pytest.mark.parametrize("by_rows", [False, True], ids=["lecture-colonnes", "lecture-lignes"])
@pytest.mark.parametrize(
    "x,y",
    [
        ("5,787", "4"),  # latitude 4: the Gulf of Guinea
        ("-5,787", "43,83"),  # the Atlantic
        ("2,3522", "48,8566"),  # Paris
        ("-61,53", "16,24"),  # Guadeloupe
        ("652 000", "6 862 000"),  # Paris, in Lambert-93
        ("7,3", "43,7"),  # Nice: next door, yet another département
    ],
)
def test_positions_outside_the_departement_of_the_commune_are_row_errors(
    engine, monkeypatch, tmp_path, by_rows, x, y
):
    """The template promises that positions outside France are row errors; a point outside the département of
    the commune is one too (a point of the département outside the commune is kept, with a warning)."""
    from ingest import columnar
    from observatoire.errors import ValidationFailed

    if by_rows:
        monkeypatch.setattr(columnar, "read_regular", lambda table: None)
    body = [list(r) for r in ROWS]
    body[1][4], body[1][5] = x, y
    path = write_export(tmp_path / "xy.csv", rows=body)
    for dry_run in (True, False):
        with pytest.raises(ValidationFailed) as exc:
            pm.commit(engine, path, commune="04112", dry_run=dry_run)
        (error,) = exc.value.report.errors
        assert error.line == 3 and error.value == f"{x} ; {y}" and error.column == "X"
        assert error.message.startswith("coordonnées hors du département 04 (Alpes-de-Haute-Provence) ;")
    report = pm.commit(engine, path, commune="04112", accept_valid=True)
    assert report.rejected == 1 and report.inserted == len(ROWS) - 1
    with engine.connect() as conn:
        points = conn.execute(
            sa.text("SELECT ST_X(geom), ST_Y(geom) FROM obs.pm_intervention WHERE geom IS NOT NULL")
        )
        assert all(5.4 < lon < 7.1 and 43.6 < lat < 44.8 for lon, lat in points)


def test_an_overseas_commune_takes_its_own_departement_and_a_point_of_the_departement_outside_the_commune_is_kept(
    engine, tmp_path
):
    from observatoire.errors import ValidationFailed

    rows = [
        [
            "12/03/2024",
            "10:00",
            "Tapage",
            "",
            "55,45",
            "-20,88",
            "",
            "",
            "",
            "R1",
        ],  # Saint-Denis de La Réunion
        ["12/03/2024", "10:00", "Tapage", "", "5,78", "43,83", "", "", "", "R2"],  # Manosque
    ]
    with pytest.raises(ValidationFailed) as exc:
        pm.commit(engine, write_export(tmp_path / "reunion.csv", rows=rows), commune="97411")
    (error,) = exc.value.report.errors
    assert error.line == 3 and "hors du département 974 (La Réunion)" in error.message
    kept = pm.commit(
        engine,
        write_export(
            tmp_path / "digne.csv",
            rows=[
                rows[1][:9] + ["D1"],
                ["12/03/2024", "10:00", "Tapage", "", "6,236", "44,092", "", "", "", "D2"],
            ],
        ),
        commune="04112",
    )
    assert kept.inserted == 2 and kept.errors_total == 0  # Digne-les-Bains: in the département
