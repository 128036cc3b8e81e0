"""BAAC import on the real files of ``../shared/data/baac`` (read in place)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from ingest.baac import import_baac
from observatoire.errors import InputFileError, ValidationFailed


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def test_national_2013_imports_and_manosque_has_7_accidents_of_unknown_gravity(engine, shared_data):
    from observatoire.road.indicators import yearly_indicators

    baac = shared_data / "baac"
    files = [baac / f"national_2013_{t}_2013.csv.gz" for t in ("vehicules", "lieux", "caracteristiques")]
    reports = import_baac(engine, files, user="test")
    assert [r.extra["table"] for r in reports] == ["caracteristiques", "lieux", "vehicules"]
    assert [r.inserted for r in reports] == [58397, 58397, 98925]
    assert all(r.errors_total == 0 for r in reports)
    assert _count(engine, "SELECT count(*) FROM obs.road_accident WHERE commune_insee = '04112'") == 7
    assert _count(engine, "SELECT count(*) FROM obs.road_accident WHERE departement = '04'") == 114
    # Corsica (201/202) and overseas (972 + 009 → 97209) codes are rebuilt from the old layout.
    assert _count(engine, "SELECT count(*) FROM obs.road_accident WHERE departement IN ('2A', '2B')") > 0
    assert _count(engine, "SELECT count(*) FROM obs.road_accident WHERE commune_insee = '97209'") > 0
    assert _count(engine, "SELECT count(*) FROM obs.territory WHERE code = 'COM:04112'") == 1

    table = yearly_indicators(engine, "COM:04112", years=(2013, 2013))
    row = table.iloc[0].to_dict()
    assert row["annee"] == 2013 and row["accidents"] == 7
    assert row["gravite_inconnue"]
    for column in ("accidents_mortels", "accidents_graves", "tues", "hospitalises", "blesses_legers"):
        assert pd.isna(row[column])  # unknown, never zero

    again = import_baac(engine, files, user="test")
    assert [r.inserted for r in again] == [0, 0, 0]
    assert [r.duplicates for r in again] == [58397, 58397, 98925]
    assert _count(engine, "SELECT count(*) FROM obs.road_accident") == 58397


def test_territory_option_keeps_one_commune(engine, shared_data):
    baac = shared_data / "baac"
    with pytest.raises(InputFileError):  # the folder holds altered subsets: nothing is imported
        import_baac(engine, [baac], territory="04112", user="test")
    assert _count(engine, "SELECT count(*) FROM obs.import_batch") == 0
    reports = import_baac(engine, sorted(baac.glob("dep04_2013_*.csv")), territory="04112", user="test")
    by_table = {r.extra["table"]: r for r in reports}
    assert by_table["caracteristiques"].inserted == 7
    assert by_table["lieux"].inserted == 7
    assert _count(engine, "SELECT count(*) FROM obs.road_accident") == 7
    assert _count(engine, "SELECT count(DISTINCT departement) FROM obs.road_accident") == 1


@pytest.mark.parametrize(
    "name", ["dep04_2015_subset_caracteristiques_2015.csv", "dep04_2020_subset_vehicules_2020.csv"]
)
def test_altered_subsets_are_refused_with_the_reason(engine, shared_data, name):
    with pytest.raises(InputFileError) as exc:
        import_baac(engine, [shared_data / "baac" / name], user="test")
    assert "ré-enregistré" in exc.value.message and "data.gouv.fr" in exc.value.message
    assert _count(engine, "SELECT count(*) FROM obs.road_accident") == 0


def test_places_without_their_accidents_are_refused_whole(engine, shared_data):
    with pytest.raises(ValidationFailed) as exc:
        import_baac(engine, [shared_data / "baac" / "dep04_2013_lieux_2013.csv"], user="test")
    assert "importez d'abord le fichier caracteristiques" in exc.value.report.errors[0].message
    assert exc.value.report.errors_total == 114
    assert _count(engine, "SELECT count(*) FROM obs.road_place") == 0
    assert _count(engine, "SELECT count(*) FROM obs.import_batch WHERE status = 'echec'") == 1


def test_transcribed_2021_rows_read_correctly(engine, shared_data):
    baac = shared_data / "baac"
    reports = import_baac(
        engine,
        [
            baac / "sample_2021_caracteristiques_rows_transcribed.csv",
            baac / "sample_2021_usagers_rows_transcribed.csv",
        ],
        user="test",
    )
    assert [r.inserted for r in reports] == [9, 8]
    with engine.connect() as conn:
        polynesia = conn.execute(
            sa.text(
                "SELECT commune_insee, departement, region, ST_Y(geom), ST_X(geom) FROM obs.road_accident "
                "WHERE id = 202100000008"
            )
        ).one()
        vendee_lon = conn.execute(
            sa.text("SELECT ST_X(geom) FROM obs.road_accident WHERE id = 202100000003")
        ).scalar()
        manosque = conn.execute(
            sa.text(
                "SELECT accident_date, accident_time, lighting FROM obs.road_accident WHERE commune_insee = '04112'"
            )
        ).one()
        refs = (
            conn.execute(
                sa.text(
                    "SELECT vehicle_ref FROM obs.road_user WHERE accident_id = 202100000001 ORDER BY rank_in_accident"
                )
            )
            .scalars()
            .all()
        )
        unknown = conn.execute(
            sa.text(
                "SELECT gravity, birth_year FROM obs.road_user WHERE accident_id = 202100000005 AND rank_in_accident = 2"
            )
        ).one()
    assert polynesia == ("98715", "987", None, pytest.approx(-17.584522), pytest.approx(-149.568578))
    assert vendee_lon == pytest.approx(-0.96446)
    assert str(manosque.accident_date) == "2021-12-21" and str(manosque.accident_time) == "09:50:00"
    assert refs == ["201764", "201765"]  # the non-breaking space inside id_vehicule is gone
    assert tuple(unknown) == (None, None)  # grav " -1" and an_nais "" stay unknown, not zero


def _outcome(call):
    """(counts of each file) or the refusal, as a person reads them."""
    try:
        reports = call()
    except ValidationFailed as exc:
        return ("refusé", exc.message, exc.report.errors_total)
    return [
        (r.extra["table"], r.rows_read, r.inserted, r.duplicates, r.rejected, r.errors_total) for r in reports
    ]


@pytest.mark.parametrize("territory", [None, "DEP:04"], ids=["france", "departement"])
def test_a_dry_run_of_a_new_years_set_says_what_the_import_then_does(engine, territory):
    """Each file is its own batch: a dry run used to roll back the accidents before the places, vehicles and
    users were checked, and refused a new year's full set (or kept none of its rows with a territory) that the
    import then accepted whole."""
    from pathlib import Path

    files = sorted(
        (Path(__file__).resolve().parents[1] / "sample_data" / "files" / "baac").glob("*-2021.csv")
    )
    assert len(files) == 4
    dry = _outcome(lambda: import_baac(engine, files, territory=territory, user="test", dry_run=True))
    assert _count(engine, "SELECT count(*) FROM obs.road_accident") == 0
    assert _count(engine, "SELECT count(*) FROM obs.import_batch WHERE status <> 'echec'") == 0
    real = _outcome(lambda: import_baac(engine, files, territory=territory, user="test"))
    assert dry == real
    assert [t for t, *_ in real] == ["caracteristiques", "lieux", "vehicules", "usagers"]
    assert all(inserted > 0 for _, _, inserted, *_ in real)
    # once imported, a dry run of the same set finds everything there already, as a second import does
    assert _outcome(lambda: import_baac(engine, files, territory=territory, dry_run=True)) == _outcome(
        lambda: import_baac(engine, files, territory=territory)
    )


def test_the_cli_dry_run_of_a_year_agrees_with_its_import(engine, cli_env):
    import json
    from pathlib import Path

    from tests.conftest import run_cli

    folder = Path(__file__).resolve().parents[1] / "sample_data" / "files" / "baac"
    files = [str(p) for p in sorted(folder.glob("*-2020.csv"))]
    dry = run_cli("import", "baac", *files, "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.output
    real = run_cli("import", "baac", *files, "--format", "json")
    assert real.exit_code == 0, real.output

    def counts(output: str) -> list[tuple]:
        decoder, reports, at = json.JSONDecoder(), [], 0
        while at < len(output.strip()):
            report, end = decoder.raw_decode(output, at)
            reports.append(
                (report["file_name"], report["inserted"], report["rejected"], report["errors_total"])
            )
            at = end + 1
        return reports

    assert counts(dry.output) == counts(real.output) and len(counts(real.output)) == 4
