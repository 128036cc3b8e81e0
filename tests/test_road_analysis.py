"""Road-safety breakdowns, accident map, dangerous sites, CLI and demo data."""

from __future__ import annotations

import json
import random
from pathlib import Path

import sqlalchemy as sa

from ingest.baac import import_baac
from observatoire.road.breakdowns import accident_points, accidents_by, methodology_text, victims_by
from observatoire.road.indicators import yearly_indicators
from observatoire.road.sites import dangerous_sites, sites_tables
from sample_data.baac import synthetic_accident
from sample_data.baac_writer import Accident, User, Vehicle, write_year
from tests.conftest import run_cli


def _accident(
    acc_id: int,
    year: int,
    lat: float,
    lon: float,
    gravities: list[int],
    births: list[int],
    hour: int = 8,
    pedestrian: bool = False,
) -> Accident:
    acc = Accident(
        id=acc_id,
        year=year,
        month=3,
        day=2,
        hour=hour,
        minute=5,
        insee="04112",
        lat=lat,
        lon=lon,
        vehicles=[Vehicle("A01", 7, acc_id % 10**6)],
    )
    for n, (grav, born) in enumerate(zip(gravities, births, strict=True)):
        acc.users.append(User("A01", 3 if pedestrian and n else 1, grav, born))
    return acc


def _planted(tmp_path: Path) -> list[Accident]:
    """A cluster of 4 accidents within ~20 m, a pair 30 m apart elsewhere, and scattered others."""
    rng = random.Random(3)
    refs = [1, 1]
    accidents = []
    for year in (2021, 2022):
        base = year * 10**8
        accidents += [
            _accident(base + 1, year, 43.82620, 5.78110, [2, 1], [1950, 1990]),
            _accident(base + 2, year, 43.82625, 5.78118, [3], [2005]),
            _accident(base + 3, year, 43.83500, 5.79700, [4], [1980]),
            _accident(base + 4, year, 43.83527, 5.79700, [3, 4], [1970, 1960], hour=22, pedestrian=True),
        ]
        accidents += [
            synthetic_accident(rng, base + 10 + k, year, "04112", 43.80 + 0.004 * k, 5.74 + 0.005 * k, refs)
            for k in range(6)
        ]
        write_year(tmp_path, year, [a for a in accidents if a.year == year])
    return accidents


def test_breakdowns_points_and_sites(engine, tmp_path):
    accidents = _planted(tmp_path)
    import_baac(engine, [tmp_path], user="test")

    ages = victims_by(engine, "COM:04112", "2021-2022", by="age")
    planted = ages[ages["annee"] == 2021].groupby("groupe", observed=True)["victimes"].sum()
    assert set(ages["gravite"]) <= {"Tué", "Blessé hospitalisé", "Blessé léger"}
    assert ages.attrs["annees_gravite_inconnue"] == []
    expected_young = sum(
        1
        for a in accidents
        if a.year == 2021
        for u in a.users
        if u.gravity in (2, 3, 4) and u.birth_year and 2021 - u.birth_year < 25
    )
    assert planted.get("Moins de 25 ans", 0) == expected_young
    types = victims_by(engine, "COM:04112", "2022", by="type_usager")
    assert "Piéton" in set(types["groupe"])

    hours = accidents_by(engine, "COM:04112", "2021-2022", by="heure")
    assert len(hours) == 24 and hours["accidents"].sum() == 20
    assert int(hours.loc[hours["code"] == 22, "accidents"].iloc[0]) >= 2
    assert accidents_by(engine, "COM:04112", None, by="jour")["libelle"].tolist()[0] == "lundi"
    assert accidents_by(engine, "COM:04112", None, by="luminosite")["libelle"].iloc[0] == "Plein jour"

    points = accident_points(engine, "COM:04112", "2021")
    assert len(points["features"]) == 10
    by_id = {f["properties"]["id"]: f["properties"] for f in points["features"]}
    assert by_id[202100000001]["gravite"] == "mortel" and by_id[202100000002]["gravite"] == "grave"
    assert by_id[202100000003]["gravite"] == "leger"

    sites = dangerous_sites(engine, "COM:04112", "2021-2022", radius_m=50, min_accidents=3)
    assert len(sites["features"]) == 2
    first, second = (f["properties"] for f in sites["features"])
    assert (first["rang"], first["accidents"], first["tues"], first["hospitalises"]) == (1, 4, 2, 2)
    assert second["accidents"] == 4 and second["indice_gravite"] < first["indice_gravite"]
    assert {a["id"] for a in first["accidents_liste"]} == {
        202100000001,
        202100000002,
        202200000001,
        202200000002,
    }
    assert first["rayon_m"] < 20
    table, listing = sites_tables(sites)
    assert list(table["rang"]) == [1, 2] and len(listing) == 8
    # Tighter radius: the 30 m pair of the second site no longer links up.
    assert len(dangerous_sites(engine, "04112", "2021-2022", radius_m=15, min_accidents=3)["features"]) == 1
    # Default period: the last 5 years with accidents.
    assert dangerous_sites(engine, "04112")["metadata"]["annees"] == [2018, 2022]

    text = methodology_text()
    assert "Blessé hospitalisé" in text and "24 heures" in text and "labellisé" in text and "inconnu" in text


def test_per_1000_inhabitants_uses_the_closest_population(engine, tmp_path):
    accidents = _planted(tmp_path)
    import_baac(engine, [tmp_path], user="test")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO obs.population (territory_code, year, inhabitants, census_vintage, source) "
                "VALUES ('COM:04112', 2020, 22000, 2020, 'insee-rp')"
            )
        )
    row = yearly_indicators(engine, "COM:04112", "2022").iloc[0]
    assert row["annee_population"] == 2020
    assert row["accidents_pour_1000"] == 10 / 22000 * 1000
    victims = sum(1 for a in accidents if a.year == 2022 for u in a.users if u.gravity in (2, 3, 4))
    assert row["victimes"] == victims


def test_cli_import_stats_and_sites(cli_env, engine, tmp_path):
    _planted(tmp_path)
    result = run_cli("import", "baac", str(tmp_path), "--territory", "04112")
    assert result.exit_code == 0, result.output
    assert result.output.count("insérées") == 8
    result = run_cli(
        "stats", "accidents", "--territory", "COM:04112", "--years", "2020-2022", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["annee"] for r in rows] == [2020, 2021, 2022]
    assert (
        rows[0]["accidents"] is None and rows[1]["accidents"] == 10 and rows[1]["gravite_inconnue"] is False
    )
    table = run_cli("stats", "accidents", "--territory", "04112", "--years", "2021-2022")
    assert table.exit_code == 0 and "Tués" in table.output and "ONISR" in table.output
    csv = run_cli("stats", "accidents", "--territory", "04112", "--format", "csv")
    assert csv.output.startswith("\ufeffannee;accidents;")  # the French CSV of every export
    geo = run_cli(
        "accidents",
        "sites",
        "--territory",
        "COM:04112",
        "--radius",
        "50",
        "--min",
        "3",
        "--years",
        "2021-2022",
        "--format",
        "geojson",
    )
    assert geo.exit_code == 0, geo.output
    assert len(json.loads(geo.output)["features"]) == 2
    bad = run_cli("stats", "accidents", "--territory", "PARIS")
    assert (
        bad.exit_code == 1
        and "Territoire invalide : « PARIS »" in bad.output
        and "Traceback" not in bad.output
    )


def test_cli_refuses_an_altered_subset_in_french(cli_env, shared_data):
    result = run_cli(
        "import", "baac", str(shared_data / "baac" / "dep04_2020_subset_caracteristiques_2020.csv")
    )
    assert result.exit_code == 1
    assert "ré-enregistré" in result.output and "Traceback" not in result.output


def test_demo_files_load_and_show_their_sites(engine):
    from sample_data import baac

    files = Path(baac.__file__).resolve().parent / "files"
    baac.load(engine, files, "demo")
    table = yearly_indicators(engine, "COM:04112")
    assert list(table["annee"]) == list(baac.YEARS)
    # every accident of each year's file is counted once (the files' names vary as the real ones do)
    in_files = [
        sum(len(f.read_text(encoding="utf-8").splitlines()) - 1 for f in files.glob(f"baac/ca*-{year}.csv"))
        for year in baac.YEARS
    ]
    assert list(table["accidents"]) == in_files and not table["gravite_inconnue"].any()
    assert len(set(in_files)) > 1  # the demo's yearly counts vary, as real ones do
    sites = dangerous_sites(engine, "COM:04112", radius_m=50, min_accidents=3)
    assert len(sites["features"]) >= 2


def test_demo_generation_is_deterministic(tmp_path):
    from sample_data import baac

    baac.generate(tmp_path / "a", 4112)
    baac.generate(tmp_path / "b", 4112)
    committed = Path(baac.__file__).resolve().parent / "files" / "baac"
    for path in sorted((tmp_path / "a" / "baac").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / "baac" / path.name).read_bytes()
        assert path.read_bytes() == (committed / path.name).read_bytes()
