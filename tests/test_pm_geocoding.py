"""Address normalisation on the real address strings of Manosque, matching scores, BAN import."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ingest import police_municipale as pm
from ingest.ban import import_ban
from ingest.geocoding import Geocoder, normalise_address
from tests.conftest import run_cli
from tests.pm_helpers import write_export

ABBREVIATIONS = {
    "CHEMIN": "CH.",
    "AVENUE": "AV",
    "BOULEVARD": "BD",
    "IMPASSE": "IMP.",
    "PLACE": "PL",
    "ROUTE": "RTE",
    "ALLÉE": "ALL.",
    "ALLEE": "ALL.",
    "LOTISSEMENT": "LOT.",
    "TRAVERSE": "TRAV.",
}
BAN_HEADER = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat"
BAN_ROWS = [
    "04112_0001_00010;;10;;Avenue Jean Giono;04100;04112;Manosque;5.7850;43.8350",
    "04112_0001_00012;;12;;Avenue Jean Giono;04100;04112;Manosque;5.7852;43.8351",
    "04112_0001_00012_bis;;12;bis;Avenue Jean Giono;04100;04112;Manosque;5.7853;43.8352",
    "04112_0001_00020;;20;;Avenue Jean Giono;04100;04112;Manosque;5.7860;43.8356",
    "04112_0002_00001;;1;;Chemin de la Forestière;04100;04112;Manosque;5.7700;43.8400",
    "04112_0002_00003;;3;;Chemin de la Forestière;04100;04112;Manosque;5.7702;43.8402",
    "04112_0003_00005;;5;;Place de l'Hôtel de Ville;04100;04112;Manosque;5.7870;43.8340",
    "04112_0004_00002;;2;;Boulevard du Général de Gaulle;04100;04112;Manosque;5.7900;43.8300",
]


def _lines(shared_data):
    path = shared_data / "adresses" / "adresses_texte_manosque_sans_coordonnees.csv"
    lines = [line.rsplit(";", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    return [line for line in lines if line.endswith(", 4100, Manosque")]


def test_normaliser_on_the_real_manosque_addresses(shared_data):
    lines = _lines(shared_data)
    assert len(lines) == 9601
    streets = set()
    for line in lines:
        number, street = line.split(", ")[:2]
        parsed = normalise_address(line, "Manosque")
        m = re.fullmatch(r"(\d+)\s*([a-z]*)", number.lower())
        assert m, line
        assert parsed.numero == int(m.group(1)), line
        assert (parsed.rep or "") in ("", "bis", "ter", "quater", m.group(2)), line
        assert parsed.key and "4100" not in parsed.key and not parsed.key.endswith(" 4100 manosque"), line
        streets.add(parsed.key)
        # the same address as an officer types it: no commas, abbreviated type, upper case, no postcode
        first, _, rest = street.upper().partition(" ")
        typed = f"{number} {ABBREVIATIONS.get(first, first)} {rest}"
        assert normalise_address(typed).key == parsed.key, (line, typed)
    assert len(streets) > 300  # distinct streets survive normalisation


def test_geocoder_matches_all_real_addresses_against_themselves(shared_data):
    lines = _lines(shared_data)
    rows = []
    for i, line in enumerate(lines):
        p = normalise_address(line, "Manosque")
        rows.append((p.numero, p.rep, p.key, 5.7 + i * 1e-6, 43.8))
    geocoder = Geocoder(rows, "Manosque")
    scores = [geocoder.match(line) for line in lines]
    assert sum(1 for s in scores if s and s.score == 1.0) / len(lines) > 0.99


def _ban(tmp_path):
    f = tmp_path / "adresses-04.csv"
    f.write_text("\n".join([BAN_HEADER, *BAN_ROWS]) + "\n", encoding="utf-8")
    return f


def _geocoder():
    from ingest.geocoding import street_key

    rows = []
    for r in BAN_ROWS:
        parts = r.split(";")
        rows.append((int(parts[2]), parts[3] or None, street_key(parts[4]), float(parts[8]), float(parts[9])))
    return Geocoder(rows, "Manosque")


@pytest.mark.parametrize(
    "text,how,score,lon",
    [
        ("12 av. Jean Giono", "numero", 1.0, 5.7852),
        ("12 bis avenue Jean Giono", "numero", 1.0, 5.7853),
        ("12 ter av Jean Giono", "numero", 0.95, 5.7852),
        ("14 AVENUE JEAN GIONO 04100 MANOSQUE", "numero_proche", 0.8, 5.7852),
        ("avenue Jean Giono", "voie", 0.6, None),
        ("3, ch. de la Forestiere, 04100, Manosque", "numero", 1.0, 5.7702),
        ("pl. Hôtel de Ville", "voie", 0.6, 5.7870),
        ("2 bd du Gal de Gaulle", "numero", 1.0, 5.7900),
        ("10 av Jean Gionno", "numero", None, 5.7850),  # a typo: fuzzy street, lower score
    ],
)
def test_match_scores(text, how, score, lon):
    m = _geocoder().match(text)
    assert m is not None and m.how == how
    if score is not None:
        assert m.score == pytest.approx(score)
    else:
        assert 0.5 <= m.score < 1.0
    if lon is not None:
        assert m.lon == pytest.approx(lon)


@pytest.mark.parametrize("text", ["Parking Intermarché", "", "Stade municipal"])
def test_unknown_places_are_not_placed(text):
    assert _geocoder().match(text) is None


def test_ban_import_then_geocoded_and_non_geocoded_rows_counted(engine, tmp_path, cli_env):
    result = run_cli("import", "ban", str(_ban(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "8 insérées" in result.output
    again = import_ban(engine, _ban(tmp_path))
    assert (again.inserted, again.duplicates) == (0, 8)
    rows = [
        ["12/03/2024", "22:15", "Tapage nocturne", "12 av. Jean Giono", "", "", "", "", "", "A"],
        ["12/03/2024", "22:15", "Tapage nocturne", "Parking Intermarché", "", "", "", "", "", "B"],
        ["12/03/2024", "22:15", "Tapage nocturne", "", "", "", "", "", "", "C"],
        [
            "12/03/2024",
            "22:15",
            "Tapage nocturne",
            "5 place de l'Hotel de Ville",
            "5,80",
            "43,84",
            "",
            "",
            "",
            "D",
        ],
    ]
    report = pm.commit(engine, write_export(tmp_path / "geo.csv", rows=rows), commune="04112")
    assert report.extra["non_geolocalises"] == 2
    assert report.extra["lignes_non_geolocalisees"] == [3, 4]
    with engine.connect() as conn:
        got = {
            r[0]: r[1:]
            for r in conn.execute(
                sa.text(
                    "SELECT source_record_id, geocoding_status, geocoding_score, ST_X(geom) FROM obs.pm_intervention"
                )
            )
        }
    assert got["A"] == ("geocode", 1.0, pytest.approx(5.7852))
    assert got["B"] == ("non_geolocalise", None, None)
    assert got["C"] == ("non_geolocalise", None, None)
    assert got["D"] == ("coordonnees", None, pytest.approx(5.80))  # coordinates win over the address


def test_points_outside_the_commune_are_warnings(engine, tmp_path):
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO obs.territory (code, level, name) VALUES ('FRA', 'pays', 'France'), "
                "('REG:93', 'region', 'PACA'), ('DEP:04', 'departement', 'AHP')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO obs.territory (code, level, name, parent_code, geom) VALUES ('COM:04112', 'commune', "
                "'Manosque', 'DEP:04', ST_Multi(ST_MakeEnvelope(5.73, 43.78, 5.85, 43.88, 4326)))"
            )
        )
    rows = [
        ["12/03/2024", "22:15", "Tapage nocturne", "", "5,79", "43,83", "", "", "", "IN"],
        ["12/03/2024", "22:15", "Tapage nocturne", "", "6,236", "44,092", "", "", "", "OUT"],  # Digne
    ]
    report = pm.commit(engine, write_export(tmp_path / "hors.csv", rows=rows), commune="04112")
    assert report.inserted == 2 and report.errors_total == 0
    assert report.extra["hors_commune"] == 1 and report.extra["lignes_hors_commune"] == [3]
    assert any("hors de la commune" in w for w in report.warnings)


def test_ban_without_its_columns_is_refused(engine, tmp_path):
    from observatoire.errors import InputFileError

    f = tmp_path / "pas_ban.csv"
    f.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        import_ban(engine, f)
    assert "nom_voie" in exc.value.message
