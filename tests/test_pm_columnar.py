"""Regular exports are read column by column: the same rows refused with the same errors, the same rows stored,
the same personal data refused as when the file is read row by row (irregular files still are)."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from ingest import columnar, event_exports, faults, pn_faits, tabular
from ingest import police_municipale as pm
from ingest.privacy import COLUMN_PREFILTER, first_violation, value_rule
from observatoire.errors import PersonalDataRefused, ValidationFailed
from tests.pm_helpers import HEADER, ROWS, write_export

MESSY = [
    *ROWS,
    ["31/13/2024", "10:00", "Tapage", "rue Grande", "", "", "", "", "", "MC-9"],  # no such month
    ["", "10:00", "Tapage", "rue Grande", "", "", "", "", "", "MC-10"],  # no date
    ["12/03/1850", "10:00", "Tapage", "", "5.78", "43.83", "", "", "", "MC-11"],  # implausible year
    ["12/03/2024", "25h99", "Tapage", "", "5.78", "43.83", "", "", "", "MC-12"],  # no such time
    ["12/03/2024 22:10", "", "Rodéo urbain", "", "5.78", "43.83", "", "", "", "MC-13"],  # time in the date
    ["2024-03-12T07:45", "", "Rodéo urbain", "", "5.78", "43.83", "", "", "", "MC-14"],
    ["2024-03-12 7h", "", "Rodéo urbain", "", "", "", "", "", "", "MC-15"],
    ["12/03/2024 x", "", "Rodéo urbain", "", "", "", "", "", "", "MC-16"],  # bad time after the date
    ["12/03/2024", "", "", "rue Grande", "", "", "", "", "", "MC-17"],  # no label
    ["12/03/2024", "", "  Bruit  ", "  rue Grande ", "", "", " Nord ", "  appel 17 ", " PV ", "  MC-18  "],
    ["12/03/2024", "", "Bruit", "", "abc", "43.8", "", "", "", "MC-19"],  # X not a number
    ["12/03/2024", "", "Bruit", "", "5.78", "", "", "", "", "MC-20"],  # Y missing
    ["12/03/2024", "", "Bruit", "", "43.83", "5.78", "", "", "", "MC-21"],  # swapped
    ["12/03/2024", "", "Bruit", "", "2000000", "9000000", "", "", "", "MC-22"],  # nowhere
    ["12/03/2024", "", "Bruit", "", "-5.787", "43.83", "", "", "", "MC-27"],  # outside the département
    ["12/03/2024", "", "Bruit", "", "652000", "6862000", "", "", "", "MC-28"],  # Paris, in Lambert-93
    ["12/03/2024", "", "Bruit", "", "0", "0", "", "", "", "MC-23"],  # 0;0 means no position
    ["12/03/2024", "", "Bruit", "", "931 500,5", "6 305 000", "", "", "", "MC-24"],  # spaces in numbers
    ["12/03/2024", "", "Bruit", "", "nan", "nan", "", "", "", "MC-25"],
    ["12/03/2024", "", "Bruit", "", "5,78", "43,83", "", "", "", ""],  # no record id
    ["12/03/2024", "", "Bruit", "", "5.78", "43.83", "", "", "", "MC-2"],  # repeated record id
    ["13/03/2024", "08:05", "Libellé inconnu du tout", "", "", "", "", "", "", "MC-26"],
    ["13/03/2024", "08:05", "X" * 140, "Y" * 140, "", "", "", "", "", "Z" * 140],  # long values are cut
    ["   ", " ", "", "", "", "", "", "", "", ""],  # blank row, skipped
]


def _rows_read_by_rows(monkeypatch):
    monkeypatch.setattr(columnar, "read_regular", lambda table: None)


def _stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT occurred_at, time_known, label, label_key, type_code, place, ST_AsText(geom), geocoding_status, "
                    "sector, origin, outcome, source_record_id, natural_key FROM obs.pm_intervention ORDER BY natural_key"
                )
            )
        ]


def _both_ways(engine, monkeypatch, path, **options):
    """(report, stored rows) read as columns, then the same read row by row on an emptied table."""
    results = []
    for by_rows in (False, True):
        with monkeypatch.context() as m:
            if by_rows:
                _rows_read_by_rows(m)
            try:
                report = pm.commit(engine, path, commune="04112", **options)
            except ValidationFailed as exc:
                report = exc.report
            results.append((report, _stored(engine)))
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM obs.pm_intervention"))
            conn.execute(sa.text("DELETE FROM obs.import_batch"))
    return results


def _same(a, b) -> None:
    (ra, sa_), (rb, sb) = a, b
    assert [(e.line, e.column, e.value, e.message) for e in ra.errors] == [
        (e.line, e.column, e.value, e.message) for e in rb.errors
    ]
    assert (ra.rows_read, ra.inserted, ra.duplicates, ra.rejected, ra.errors_total) == (
        rb.rows_read,
        rb.inserted,
        rb.duplicates,
        rb.rejected,
        rb.errors_total,
    )
    assert ra.warnings == rb.warnings
    for key in ("systemes_coordonnees", "libelles_inconnus", "non_geolocalises", "lignes_non_geolocalisees"):
        assert ra.extra.get(key) == rb.extra.get(key), key
    assert sa_ == sb


@pytest.mark.parametrize("encoding,sep", [("cp1252", ";"), ("utf-8", ","), ("utf-8", "\t")])
def test_a_messy_export_gives_the_same_report_and_rows_both_ways(
    engine, monkeypatch, tmp_path, encoding, sep
):
    rows = [[v.replace(",", ".") if sep == "," else v for v in r] for r in MESSY]
    f = write_export(tmp_path / "messy.csv", rows=rows, encoding=encoding, sep=sep, bom=encoding == "utf-8")
    columns, by_rows = _both_ways(engine, monkeypatch, f, accept_valid=True)
    assert columns[0].rejected >= 10 and columns[0].inserted >= 8
    assert any(e.message.startswith("date absente") for e in columns[0].errors)
    assert any("inversées" in e.message for e in columns[0].errors)
    assert ("MC-18", "Bruit", "Nord", "appel", "PV") in {(r[11], r[2], r[8], r[9], r[10]) for r in columns[1]}
    _same(columns, by_rows)


@pytest.mark.parametrize("accept_valid", [True, False])
def test_a_file_parsed_in_many_blocks_keeps_its_line_numbers(engine, monkeypatch, tmp_path, accept_valid):
    """Large files are parsed in blocks by several threads, their unique columns are not encoded, and they are
    checked and copied in parts: every row must keep its own line, and the report its totals, as read row by
    row."""
    f = write_export(tmp_path / "messy.csv", rows=MESSY * 3)
    monkeypatch.setattr(columnar, "BLOCK", 512)
    monkeypatch.setattr(columnar, "SAMPLE", 4)
    monkeypatch.setattr(event_exports, "PART_ROWS", 7)  # checked, built and copied in parts of 7 rows
    table = tabular.open_export(f, pm.FIELDS)
    data = columnar.read_regular(table)
    assert data is not None and len(data) == 3 * len(MESSY)
    assert not isinstance(data.columns[-1], pa.DictionaryArray)  # the record ids: nearly all different
    columns, by_rows = _both_ways(engine, monkeypatch, f, accept_valid=accept_valid)
    assert columns[0].rejected >= 30
    if accept_valid:
        assert columns[0].duplicates > 0
    else:  # refused: written no further than its first bad part, and all rolled back
        assert columns[0].status == "echec" and columns[1] == []
    _same(columns, by_rows)


def test_all_or_nothing_reports_the_same_errors_both_ways(engine, monkeypatch, tmp_path):
    f = write_export(tmp_path / "messy.csv", rows=MESSY)
    columns, by_rows = _both_ways(engine, monkeypatch, f)
    assert columns[0].status == "echec" and columns[1] == []
    _same(columns, by_rows)


def test_every_fault_of_the_table_is_given_by_both_readers(engine, monkeypatch, tmp_path):
    """Both readers take their messages from ingest.faults: each of its faults is met by the row reader and by
    the column reader (the messy export holds them all, a second file a telephone number)."""
    messy = write_export(tmp_path / "messy.csv", rows=MESSY)
    rows = [list(r) for r in ROWS]
    rows[1][6] = "joindre au 06 12 34 56 78"
    personal = write_export(tmp_path / "personnel.csv", rows=rows)
    given: dict[bool, set[str]] = {False: set(), True: set()}
    original = faults.message
    for by_rows in (False, True):
        with monkeypatch.context() as m:
            if by_rows:
                _rows_read_by_rows(m)
            m.setattr(
                faults,
                "message",
                lambda fault, by_rows=by_rows, **values: (
                    given[by_rows].add(fault) or original(fault, **values)
                ),
            )
            with pytest.raises(ValidationFailed):
                pm.commit(engine, messy, commune="04112")
            with pytest.raises(PersonalDataRefused):
                pm.commit(engine, personal, commune="04112")
    assert given[False] == given[True] == set(faults.MESSAGES)


def test_a_regular_file_is_read_as_columns_and_an_irregular_one_row_by_row(engine, tmp_path):
    from ingest import tabular

    regular = write_export(tmp_path / "regular.csv")
    table = tabular.open_export(regular, pm.FIELDS)
    data = columnar.read_regular(table)
    assert data is not None and list(data.lines) == [2, 3, 4, 5]  # CRLF line ends
    lone_cr = tmp_path / "cr.csv"  # a carriage return alone would shift line numbers
    lone_cr.write_bytes(regular.read_bytes().replace(b"Centre", b'"Cen\rtre"', 1))
    assert columnar.read_regular(tabular.open_export(lone_cr, pm.FIELDS)) is None
    # a blank line, a line break inside a quoted value, a short row: line numbers come from the row reader
    text = (
        ";".join(HEADER)
        + "\n"
        + ";".join(ROWS[0])
        + "\n\n"
        + ";".join(ROWS[1]).replace("PV", '"P\nV"')
        + "\n"
        + ";".join(ROWS[2][:5])
        + "\n"
        + "31/02/2024;10:00;Tapage;;;;;;;MC-7\n"
    )
    for name, body in [("blank.csv", text.replace(";".join(ROWS[2][:5]) + "\n", "")), ("short.csv", text)]:
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        assert columnar.read_regular(tabular.open_export(path, pm.FIELDS)) is None
        with pytest.raises(ValidationFailed) as exc:
            pm.commit(engine, path, commune="04112")
        assert [e.line for e in exc.value.report.errors][-1] == (7 if name == "short.csv" else 6)


def test_bad_bytes_are_reported_by_the_row_reader(engine, tmp_path):
    from observatoire.errors import InputFileError

    f = tmp_path / "bad.csv"
    f.write_bytes(
        (";".join(HEADER) + "\n" + ";".join(ROWS[0]) + "\n").encode("utf-8") + b"12/03/2024;\x81\x8d;x\n"
    )
    with pytest.raises(InputFileError) as exc:
        pm.commit(engine, f, commune="04112")
    assert "illisible" in exc.value.message


@pytest.mark.parametrize(
    "value",
    [
        "rappeler le 06 12 34 56 78",
        "tél 0612345678",
        "+33 6 12 34 56 78",
        "0033 (0) 6.12.34.56.78",
        "06\u00a012\u00a034\u00a056\u00a078",
        "contact jean.dupont@example.fr",
        "véhicule AB-123-CD",
        "ab 123 cd",
        "1234 AB 04",
        "12 ABC 2A",
        "x" * 151,
    ],
)
def test_the_column_guard_refuses_what_the_row_guard_refuses(value):
    assert value_rule(value)
    column = pa.array(["Tapage", "", value, "Rappel à la loi", value])
    with pytest.raises(PersonalDataRefused) as exc:
        first_violation(["Nature", "Suite donnée"], [pa.array(["a"] * 5), column], [10, 11, 12, 13, 14])
    assert "« Suite donnée »" in exc.value.message and "ligne 12" in exc.value.message
    assert value not in exc.value.message


def test_the_column_guard_passes_what_the_row_guard_passes_on_random_values():
    rng = random.Random(5)
    alphabet = "0123456789 .-+()@ABCDEFabcdefıİſK\u00a0\u202f\u2009٠١٢٣٤٥٦٧٨٩\t\x85"
    values = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(4, 25))) for _ in range(20_000)]
    values += ["12 av. Jean Giono", "MC-2024-000123", "Tapage nocturne", "04100 Manosque", "PV n° 20240312"]
    # The prefilter over the whole column at once (it is compiled at each call): every value a rule refuses must
    # be among its candidates, each candidate is then checked by the rules themselves.
    candidates = pc.match_substring_regex(pa.array(values), COLUMN_PREFILTER).to_pylist()
    assert all(found for value, found in zip(values, candidates, strict=True) if value_rule(value))
    for value in values[:300]:
        column = pa.array(["ok", value])
        if value_rule(value):
            with pytest.raises(PersonalDataRefused):
                first_violation(["Suite"], [column], [2, 3])
        else:
            first_violation(["Suite"], [column], [2, 3])


def test_the_first_offending_row_and_column_are_named(engine, tmp_path):
    rows = [list(r) for r in ROWS]
    rows[3][8] = "joindre au 06 12 34 56 78"
    rows[2][9] = "AB-123-CD"
    rows[2][6] = "mail: a@b.fr"
    f = write_export(tmp_path / "deux.csv", rows=rows)
    with pytest.raises(PersonalDataRefused) as exc:
        pm.commit(engine, f, commune="04112")
    assert "« Secteur »" in exc.value.message and "ligne 4" in exc.value.message


def test_police_nationale_facts_are_read_as_columns_too(engine, monkeypatch, tmp_path):
    header = ["Date des faits", "Heure", "Index", "Adresse", "X", "Y", "N° procédure"]
    rows = [
        ["12/03/2024", "22:15", "27", "", "5.78", "43.83", "P1"],
        ["13/03/2024", "", "Index 32", "", "931500", "6305000", "P2"],
        ["14/03/2024", "", "", "", "5.78", "43.83", "P3"],
    ]
    f = write_export(tmp_path / "pn.csv", rows=rows, header=header)
    reports = []
    for by_rows in (False, True):
        with monkeypatch.context() as m:
            if by_rows:
                _rows_read_by_rows(m)
            reports.append(pn_faits.commit(engine, f, commune="04112", accept_valid=True))
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM obs.pn_fact"))
            conn.execute(sa.text("DELETE FROM obs.import_batch"))
    assert reports[0].inserted == reports[1].inserted == 2
    assert [(e.line, e.message) for e in reports[0].errors] == [
        (e.line, e.message) for e in reports[1].errors
    ]
