"""Privacy on the map (BRIEF §6): sensitive categories never come back as points or clusters, whatever the
role; the conseil gets no point at all and no exact count under the threshold anywhere."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from pyproj import Transformer

from observatoire.errors import PermissionDenied
from observatoire.events import density, hexgrid, hotspots, spatial
from observatoire.events.filter import EventFilter
from observatoire.permissions import ROLES
from tests.events_helpers import CENTRE_L93, insert_pn_facts, new_batch, square_outline

_TO_WGS = Transformer.from_crs(2154, 4326, always_xy=True)
SENSITIVE_FILTERS = [
    EventFilter(),
    EventFilter(categories=("violences_intrafamiliales", "violences_sexuelles")),
    EventFilter(families=("avip",)),
    EventFilter(categories=("differends_familiaux",)),
    EventFilter(sensitive=True),
]


@pytest.fixture
def mixed(engine):
    """Non-sensitive facts on one side, sensitive facts (PN and PM) on unique positions on the other."""
    rng = np.random.default_rng(11)
    x0, y0 = CENTRE_L93
    insert_pn_facts(engine, rng.normal(x0 - 1500, 200, 60), rng.normal(y0, 200, 60))
    sx, sy = rng.normal(x0 + 1500, 200, 25), rng.normal(y0, 200, 25)
    insert_pn_facts(engine, sx[:15], sy[:15], category="violences_intrafamiliales")
    insert_pn_facts(engine, sx[15:20], sy[15:20], category="violences_sexuelles")
    lon, lat = _TO_WGS.transform(sx[20:], sy[20:])
    with engine.begin() as conn:
        batch = new_batch(conn, "pm")
        for k, (a, b) in enumerate(zip(lon, lat, strict=True)):
            conn.execute(
                sa.text("""
                INSERT INTO obs.pm_intervention (occurred_at, label, label_key, type_code, family_code, geom,
                                                 geocoding_status, natural_key, batch_id)
                VALUES ('2023-05-01 21:00', 'Différend familial', 'differend familial', 'differends_familiaux',
                        'tranquillite', ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'coordonnees', :k, :b)"""),
                {"x": float(a), "y": float(b), "k": f"s{k}", "b": batch},
            )
    return list(zip(*_TO_WGS.transform(sx, sy), strict=True))


def _point_positions(structure: Any) -> list[tuple[float, float]]:
    found = []
    if isinstance(structure, dict):
        geometry = structure.get("geometry")
        if isinstance(geometry, dict) and geometry.get("type") in ("Point", "MultiPoint"):
            coords = geometry["coordinates"]
            found += [tuple(c) for c in (coords if geometry["type"] == "MultiPoint" else [coords])]
        for value in structure.values():
            found += _point_positions(value)
    elif isinstance(structure, list):
        for value in structure:
            found += _point_positions(value)
    return found


@pytest.mark.parametrize("role", list(ROLES))
def test_sensitive_events_never_come_back_as_points_for_any_role(engine, mixed, role):
    sensitive_positions = np.array(mixed)
    for f in SENSITIVE_FILTERS:
        try:
            answers = [
                spatial.map_layers(engine, f, role, max_features=3000),
                spatial.map_layers(engine, f, role, max_features=10),
            ]
        except PermissionDenied:
            assert role not in ("admin", "analyste", "conseil", "police_municipale")
            continue
        for fn in (spatial.points, spatial.clusters):
            try:
                answers.append(fn(engine, f, role))
            except PermissionDenied:
                assert role == "conseil" or role == "videoprotection"
        for answer in answers:
            for lon, lat in _point_positions(answer):
                distance = np.hypot(sensitive_positions[:, 0] - lon, sensitive_positions[:, 1] - lat).min()
                assert distance > 1e-4, (role, f, "position d'un fait sensible renvoyée en point")
            for layer in answer.get("layers", []):
                if layer["sensitive"]:
                    assert layer["kind"] == "hexagons"
        if f.sensitive is True or f.categories == ("violences_intrafamiliales", "violences_sexuelles"):
            assert all(layer["kind"] == "hexagons" for a in answers for layer in a.get("layers", []))


def test_the_sensitive_layer_is_there_as_hexagons(engine, mixed):
    answer = spatial.map_layers(engine, EventFilter(), "analyste")
    kinds = {layer["id"]: layer["kind"] for layer in answer["layers"]}
    assert kinds == {"points": "points", "sensibles": "hexagons"}
    sensitive = next(layer for layer in answer["layers"] if layer["id"] == "sensibles")["geojson"]
    assert sensitive["total"] == 25
    assert (
        len(next(layer for layer in answer["layers"] if layer["id"] == "points")["geojson"]["features"]) == 60
    )


def _numbers(structure: Any, path: str = "") -> list[tuple[str, float]]:
    if isinstance(structure, bool):
        return []
    if isinstance(structure, int | float):
        return [(path, float(structure))]
    if isinstance(structure, dict):
        return [n for k, v in structure.items() for n in _numbers(v, f"{path}.{k}")]
    if isinstance(structure, list):
        return [n for i, v in enumerate(structure) for n in _numbers(v, f"{path}[{i}]")]
    return []


def test_conseil_never_gets_exact_small_counts(engine):
    x0, y0 = CENTRE_L93
    square_outline(engine, "COM:04112", x0 - 3000, y0 - 3000, x0 + 3000, y0 + 3000)
    square_outline(
        engine, "IRIS:041120101", x0 - 3000, y0 - 3000, x0, y0 + 3000, level="iris", parent="COM:04112"
    )
    square_outline(
        engine, "IRIS:041120102", x0, y0 - 3000, x0 + 3000, y0 + 3000, level="iris", parent="COM:04112"
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO obs.population (territory_code, year, inhabitants, census_vintage, source) "
                "VALUES ('IRIS:041120101', 2021, 2000, 2021, 't'), ('IRIS:041120102', 2021, 700, 2021, 't')"
            )
        )
    # cells far apart holding 1, 2, 3 and 4 events, one big cell of 40, and 3 events in the second IRIS
    small = {
        1: (x0 - 2000, y0 - 2000),
        2: (x0 - 2000, y0 + 2000),
        3: (x0 - 1000, y0),
        4: (x0 - 2500, y0 + 500),
    }
    xs = [p[0] for n, p in small.items() for _ in range(n)] + [x0 - 500] * 40 + [x0 + 2000] * 3
    ys = [p[1] for n, p in small.items() for _ in range(n)] + [y0 - 500] * 40 + [y0 + 2000] * 3
    insert_pn_facts(engine, xs, ys)  # 53 events in all
    f = EventFilter()
    answers = {
        "hexagons": hexgrid.hex_counts(engine, f, 150, "conseil", threshold=5),
        "layers": spatial.map_layers(engine, f, "conseil", threshold=5),
        "iris": spatial.zone_counts(engine, f, "iris", "conseil", commune="04112", threshold=5),
        "gi": hotspots.getis_ord(engine, f, "conseil", cell=150, permutations=99, threshold=5),
        "kde": density.kernel_density(engine, f, "conseil", shape=(100, 100)),
    }
    for name, answer in answers.items():
        for path, value in _numbers(answer):
            key = path.rsplit(".", 1)[-1]
            if key in ("count", "total", "outside", "evenements", "hors_zone", "max_count"):
                assert value >= 5 or value == 0, (name, path, value)  # zeros are shown: no one behind them
            assert value != 53, (name, path)  # the exact total would give the masked cells by subtraction
    hexagons = answers["hexagons"]
    masked = [feat["properties"] for feat in hexagons["features"] if feat["properties"]["masked"]]
    assert len(masked) == 5 and all(
        p == {"i": p["i"], "j": p["j"], "count": "< 5", "masked": True} for p in masked
    )
    assert hexagons["total"] == "au moins 40"
    iris = {feat["properties"]["code"]: feat["properties"] for feat in answers["iris"]["features"]}
    assert iris["IRIS:041120102"] == {
        "code": "IRIS:041120102",
        "name": "IRIS:041120102",
        "count": "< 5",
        "masked": True,
        "class": None,
    }
    # The 53 geolocated events are known (one 5 km hexagon holds them all): 50 beside « < 5 » would give 3
    # back, so the other IRIS is masked in complement, its rate with it.
    assert hexgrid.hex_counts(engine, f, 5000, "conseil", threshold=5)["total"] == 53
    assert iris["IRIS:041120101"]["count"] == "non diffusé" and "rate" not in iris["IRIS:041120101"]
    analyst = spatial.zone_counts(engine, f, "iris", "analyste", commune="04112")
    assert [x["properties"]["count"] for x in analyst["features"]] == [50, 3]
    assert analyst["features"][0]["properties"]["rate"] == 25.0
    for cell in answers["gi"]["features"]:
        assert "z" not in cell["properties"] and "p" not in cell["properties"]
    with pytest.raises(PermissionDenied):
        spatial.points(engine, f, "conseil")
