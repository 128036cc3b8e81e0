"""Hexagon counts against a spatial join on ST_HexagonGrid, IRIS/QPV counts with rates and classes, and the
points / clusters / hexagons decision."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sqlalchemy as sa

from observatoire.events import choropleth, hexgrid, spatial
from observatoire.events.filter import EventFilter
from tests.events_helpers import CENTRE_L93, insert_pn_facts, square_outline


@pytest.mark.parametrize("size", [150.0, 73.5])
def test_hexagon_counts_equal_a_spatial_join_on_st_hexagongrid(engine, size):
    rng = np.random.default_rng(7)
    x0, y0 = CENTRE_L93
    # a dense centre and a sparse patch a few kilometres away (odd and even columns, many rows)
    x = np.concatenate([rng.normal(x0, 800, 3000), rng.uniform(x0 + 3000, x0 + 6000, 200)])
    y = np.concatenate([rng.normal(y0, 600, 3000), rng.uniform(y0 - 4000, y0 - 1000, 200)])
    insert_pn_facts(engine, x, y)
    with engine.connect() as conn:
        ours = hexgrid.count_cells(conn, EventFilter(), size)
        direct = conn.execute(
            sa.text("""
            SELECT g.i, g.j, count(*)::int FROM obs.pn_fact f
            JOIN ST_HexagonGrid(:s, (SELECT ST_SetSRID(ST_Extent(geom_l93)::geometry, 2154) FROM obs.pn_fact)) g
              ON ST_Intersects(g.geom, f.geom_l93)
            GROUP BY 1, 2"""),
            {"s": size},
        ).all()
    assert ours["count"].sum() == 3200
    assert {(int(r.i), int(r.j)): int(r.count) for r in ours.itertuples()} == {
        (i, j): n for i, j, n in direct
    }
    layer = hexgrid.hex_counts(engine, EventFilter(), size)
    assert layer["total"] == 3200 and layer["cells"] == len(direct)
    assert sum(f["properties"]["count"] for f in layer["features"]) == 3200
    ring = layer["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 7 and 5 < ring[0][0] < 6  # WGS84 outline


def test_cell_centres_match_st_hexagon(engine):
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT i, j, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM "
                "ST_HexagonGrid(100, ST_MakeEnvelope(-450, -450, 450, 450))"
            )
        ).all()
    i, j, cx, cy = (np.array(v, dtype=float) for v in zip(*rows, strict=True))
    x, y = hexgrid.cell_centres(i.astype(int), j.astype(int), 100)
    assert np.allclose(x, cx) and np.allclose(y, cy)


def test_outlines_are_the_rings_of_st_hexagon(engine):
    import pandas as pd

    cells = pd.DataFrame({"i": [4133, 4134, 4135, 4200], "j": [24268, 24268, 24300, 24100]})
    with engine.connect() as conn:
        rings = [
            json.loads(g)
            for g in conn.execute(
                sa.text("""
            SELECT ST_AsGeoJSON(ST_Transform(ST_Hexagon(150, c.i, c.j, ST_SetSRID(ST_MakePoint(0, 0), 2154)), 4326), 6)
            FROM unnest(CAST(:i AS int[]), CAST(:j AS int[])) WITH ORDINALITY AS c(i, j, k) ORDER BY c.k"""),
                {"i": cells["i"].tolist(), "j": cells["j"].tolist()},
            ).scalars()
        ]
    ours = hexgrid.outlines(cells, 150)
    assert len(ours) == 4 and all(o["type"] == "Polygon" for o in ours)
    for mine, theirs in zip(ours, rings, strict=True):
        assert np.allclose(mine["coordinates"][0], theirs["coordinates"][0], atol=2e-6)


def _zones(engine):
    x0, y0 = CENTRE_L93
    square_outline(engine, "COM:04112", x0 - 2000, y0 - 2000, x0 + 2000, y0 + 2000)
    square_outline(
        engine, "IRIS:041120101", x0 - 2000, y0 - 2000, x0, y0 + 2000, level="iris", parent="COM:04112"
    )
    square_outline(
        engine, "IRIS:041120102", x0, y0 - 2000, x0 + 2000, y0 + 2000, level="iris", parent="COM:04112"
    )
    square_outline(
        engine, "QPV:QN00402M", x0 + 100, y0 + 100, x0 + 600, y0 + 600, level="qpv", parent="COM:04112"
    )


def test_iris_and_qpv_counts_with_rates(engine):
    _zones(engine)
    x0, y0 = CENTRE_L93
    insert_pn_facts(engine, [x0 - 500] * 30 + [x0 + 300] * 12 + [x0 + 9000] * 2, [y0 + 300] * 44)
    result = spatial.zone_counts(engine, EventFilter(), "iris", commune="04112")
    props = {f["properties"]["code"]: f["properties"] for f in result["features"]}
    assert (props["IRIS:041120101"]["count"], props["IRIS:041120102"]["count"]) == (30, 12)
    assert "rate" not in props["IRIS:041120101"] and result["outside"] == 2 and result["total"] == 44
    assert result["classes"]["on"] == "nombre d'événements"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO obs.population (territory_code, year, inhabitants, census_vintage, source) "
                "VALUES ('IRIS:041120101', 2021, 2000, 2021, 'test'), "
                "('IRIS:041120102', 2021, 3000, 2021, 'test')"
            )
        )
    result = spatial.zone_counts(engine, EventFilter(), "iris", commune="04112", scheme="equal_interval", k=2)
    props = {f["properties"]["code"]: f["properties"] for f in result["features"]}
    assert props["IRIS:041120101"]["rate"] == 15.0 and props["IRIS:041120102"]["rate"] == 4.0
    assert result["classes"]["on"] == "taux pour 1 000 habitants"
    assert (props["IRIS:041120101"]["class"], props["IRIS:041120102"]["class"]) == (1, 0)
    qpv = spatial.zone_counts(engine, EventFilter(), "qpv", commune="04112")
    assert [f["properties"]["count"] for f in qpv["features"]] == [12] and qpv["outside"] == 32


def test_classes_have_french_labels():
    result = choropleth.classify([0, 1, 2, 3, 5, 8, 13, 21, 34, 55], "quantiles", 5)
    assert [c["label"] for c in result["classes"]][:2] == ["de 0 à 1", "de 2 à 4"]  # bounds 1.8 and 4.2
    assert sum(c["members"] for c in result["classes"]) == 10
    rates = choropleth.classify([0.5, 1.25, 3.7, 10.2], "natural_breaks", 2)
    assert rates["classes"][1]["label"].startswith("plus de ") and "," in rates["classes"][0]["label"]
    assert choropleth.classify([4, 4, 4], "quantiles", 5)["k"] == 1


def test_points_clusters_or_hexagons_never_more_than_the_limit(engine):
    rng = np.random.default_rng(3)
    x0, y0 = CENTRE_L93
    insert_pn_facts(engine, rng.normal(x0, 500, 400), rng.normal(y0, 500, 400))
    few = spatial.map_layers(engine, EventFilter(), "analyste", max_features=500)
    assert [layer["kind"] for layer in few["layers"]] == ["points"]
    assert len(few["layers"][0]["geojson"]["features"]) == 400
    many = spatial.map_layers(engine, EventFilter(), "analyste", max_features=100)
    assert [layer["kind"] for layer in many["layers"]] == ["clusters"]
    features = many["layers"][0]["geojson"]["features"]
    assert 0 < len(features) <= 100 and sum(f["properties"]["count"] for f in features) == 400
    assert "regroupés" in many["reason"]
    hexes = spatial.map_layers(engine, EventFilter(), "conseil", max_features=20, cell=100)
    layer = hexes["layers"][0]["geojson"]
    assert hexes["layers"][0]["kind"] == "hexagons" and layer["cells"] <= 20
    assert layer["method"]["taille_cellule_m"] > 100  # enlarged to fit
