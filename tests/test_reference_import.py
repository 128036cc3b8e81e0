"""Contours and populations: the real files import and show; bad files are refused whole."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from ingest.territories import import_territories
from observatoire.errors import InputFileError, ValidationFailed
from observatoire.territories import commune_overview
from tests.conftest import run_cli


def _count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def test_real_contours_and_populations_import_once(cli_env, engine, shared_data):
    geo = shared_data / "geo"
    result = run_cli(
        "import",
        "territories",
        str(geo / "communes-04-alpes-de-haute-provence.geojson"),
        "--level",
        "commune",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"rows_read", "inserted", "duplicates", "rejected", "errors"} <= set(report)
    assert (report["rows_read"], report["inserted"], report["rejected"]) == (198, 198, 0)
    again = json.loads(
        run_cli(
            "import",
            "territories",
            str(geo / "communes-04-alpes-de-haute-provence.geojson"),
            "--level",
            "commune",
            "--format",
            "json",
        ).output
    )
    assert (again["inserted"], again["duplicates"]) == (0, 198)

    for name, level in [
        ("departement-04-alpes-de-haute-provence.geojson", "departement"),  # a single Feature
        ("region-provence-alpes-cote-d-azur.geojson", "region"),
        ("iris_2020_manosque_from_vector_tiles.geojson", "iris"),
        ("qpv_2024_dep04_simplified.geojson", "qpv"),
    ]:
        out = run_cli("import", "territories", str(geo / name), "--level", level)
        assert out.exit_code == 0, out.output
    pop = run_cli(
        "import",
        "insee-population",
        str(shared_data / "insee" / "population_municipale_communes_p13_p21.csv.gz"),
    )
    assert pop.exit_code == 0, pop.output

    assert (
        _count(
            engine,
            "SELECT count(*) FROM obs.territory WHERE level = 'commune' AND code LIKE 'COM:04%' AND geom IS NOT NULL",
        )
        == 198
    )
    assert (
        _count(
            engine, "SELECT count(*) FROM obs.territory WHERE level = 'iris' AND parent_code = 'COM:04112'"
        )
        == 10
    )
    assert (
        _count(engine, "SELECT count(*) FROM obs.territory WHERE level = 'qpv' AND parent_code = 'COM:04112'")
        == 2
    )
    # Official sums quoted in SOURCES.md.
    assert (
        _count(
            engine,
            "SELECT sum(inhabitants) FROM obs.population p JOIN obs.territory t ON t.code = p.territory_code "
            "WHERE t.parent_code = 'DEP:04' AND p.year = 2020",
        )
        == 165451
    )
    assert (
        _count(
            engine,
            "SELECT inhabitants FROM obs.population WHERE territory_code = 'COM:04112' AND year = 2020",
        )
        == 23018
    )
    # Overseas communes written 971101 in this redistribution are stored under their real code.
    assert _count(engine, "SELECT count(*) FROM obs.population WHERE territory_code = 'COM:97101'") == 9
    assert _count(engine, "SELECT parent_code FROM obs.territory WHERE code = 'DEP:04'") == "REG:93"

    overview = commune_overview(engine, "COM:04112")
    assert overview["name"] == "Manosque" and overview["iris"] == 10 and overview["qpv"] == 2
    assert overview["population"]["inhabitants"] == 22926 and overview["population"]["year"] == 2021
    (south, west), (north, east) = overview["bounds"]
    assert 43.7 < south < north < 43.95 and 5.6 < west < east < 5.95


def _feature(props, coords):
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [coords]}}


SQUARE = [[5.78, 43.83], [5.79, 43.83], [5.79, 43.84], [5.78, 43.84], [5.78, 43.83]]


def test_bad_contours_refused_with_the_feature_and_property_named(engine, tmp_path):
    bowtie = [[5.78, 43.83], [5.79, 43.84], [5.79, 43.83], [5.78, 43.84], [5.78, 43.83]]
    path = tmp_path / "mauvais.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    _feature({"code": "04112", "nom": "Manosque"}, SQUARE),
                    _feature({"nom": "Sans code"}, SQUARE),
                    _feature({"code": "04070", "nom": "Digne"}, bowtie),
                    _feature(
                        {"code": "04001", "nom": "Aiglun"},
                        [[900000, 6300000], [900100, 6300000], [900100, 6300100], [900000, 6300000]],
                    ),
                ],
            }
        )
    )
    with pytest.raises(ValidationFailed) as exc:
        import_territories(engine, path, "commune")
    errors = exc.value.report.errors
    assert "mauvais.geojson" in exc.value.message
    assert [(e.line, e.column) for e in errors] == [
        (2, "code/INSEE_COM/insee/codgeo/CODE_INSEE"),
        (3, "geometry"),
        (4, "geometry"),
    ]
    assert "invalide" in errors[1].message and "Lambert-93" in errors[2].message
    assert _count(engine, "SELECT count(*) FROM obs.territory") == 0  # nothing half-imported
    assert _count(engine, "SELECT count(*) FROM obs.import_batch WHERE status = 'echec'") == 1

    repaired = tmp_path / "repare.geojson"
    repaired.write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [_feature({"code": "04070", "nom": "Digne"}, bowtie)]}
        )
    )
    report = import_territories(engine, repaired, "commune", repair=True)
    assert report.inserted == 1 and report.warnings


def test_declared_foreign_crs_refused(engine, tmp_path):
    path = tmp_path / "l93.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
                "features": [_feature({"code": "04112", "nom": "Manosque"}, SQUARE)],
            }
        )
    )
    with pytest.raises(InputFileError, match="EPSG::2154"):
        import_territories(engine, path, "commune")


def test_geopackage_in_lambert93_is_reprojected(engine, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame(
        {"code": ["04112"], "nom": ["Manosque"]}, geometry=[box(925000, 6305000, 935000, 6315000)], crs=2154
    )
    path = tmp_path / "communes.gpkg"
    frame.to_file(path, driver="GPKG")
    assert import_territories(engine, path, "commune").inserted == 1
    with engine.connect() as conn:
        x = conn.execute(
            sa.text("SELECT ST_X(ST_Centroid(geom)) FROM obs.territory WHERE code = 'COM:04112'")
        ).scalar()
    assert 5.5 < x < 6.2


def test_demo_data_loads_twice_without_duplicates(engine):
    from sample_data.demo import FILES
    from sample_data.reference import load

    load(engine, FILES, "demo")
    counts = [_count(engine, f"SELECT count(*) FROM obs.{t}") for t in ("territory", "population")]
    load(engine, FILES, "demo")
    assert [_count(engine, f"SELECT count(*) FROM obs.{t}") for t in ("territory", "population")] == counts
    assert counts[1] == 9
