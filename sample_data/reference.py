"""Synthetic reference data: a plausible commune outline around Manosque, six zones, two QPV and
populations by census vintage. Shapes and numbers are invented; only the codes are real."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

CENTRE = (5.787, 43.834)  # lon, lat of the town centre
COMMUNE = "04112"
ZONES = [  # (IRIS-like code suffix, name, population share)
    ("0101", "Centre ancien (fictif)", 0.16),
    ("0102", "Faubourgs nord (fictif)", 0.19),
    ("0103", "Plateau est (fictif)", 0.20),
    ("0104", "Zone d'activités sud (fictif)", 0.07),
    ("0105", "Collines ouest (fictif)", 0.21),
    ("0106", "Périphérie rurale (fictif)", 0.17),
]


def _outline(rng: np.random.Generator):
    from shapely.geometry import Polygon

    angles = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    radii = 1 + 0.18 * np.sin(3 * angles + 0.7) + rng.normal(0, 0.04, angles.size)
    # ~5.5 km east-west, ~4.5 km north-south: degrees of longitude are shorter at this latitude.
    xs = CENTRE[0] + 0.068 * radii * np.cos(angles)
    ys = CENTRE[1] + 0.041 * radii * np.sin(angles)
    return Polygon(zip(xs.round(6), ys.round(6), strict=True))


def _zones(outline):
    from shapely.geometry import Point, Polygon

    centre = Point(CENTRE).buffer(0.009)
    ring = outline.difference(centre)
    near = Point(CENTRE).buffer(0.032).difference(centre)
    far = 0.2
    sectors = {
        "0102": [(0, 0), (-far, far), (far, far)],
        "0103": [(0, 0), (far, far), (far, -far)],
        "0104": [(0, 0), (far, -far), (-far, -far)],
        "0105": [(0, 0), (-far, -far), (-far, far)],
    }
    zones = {"0101": centre.intersection(outline)}
    for code, tri in sectors.items():
        wedge = Polygon([(CENTRE[0] + dx, CENTRE[1] + dy) for dx, dy in tri])
        zones[code] = near.intersection(wedge).intersection(outline)
    zones["0106"] = ring.difference(near)
    return zones


def _qpv():
    from shapely.geometry import Polygon

    east = Polygon(
        [(5.7945, 43.8315), (5.8005, 43.8322), (5.8012, 43.8370), (5.7950, 43.8378), (5.7930, 43.8345)]
    )
    west = Polygon(
        [(5.7735, 43.8300), (5.7800, 43.8290), (5.7812, 43.8335), (5.7760, 43.8352), (5.7728, 43.8330)]
    )
    return {
        "QN00402M": ("Quartier Est (contour fictif)", east),
        "QN00403M": ("Quartier Ouest (contour fictif)", west),
    }


def _collection(features):
    return {"type": "FeatureCollection", "features": features}


def _feature(geom, props):
    from shapely.geometry import mapping

    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def generate(out_dir: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    outline = _outline(rng)
    (out_dir / "demo_commune.geojson").write_text(
        json.dumps(_collection([_feature(outline, {"code": COMMUNE, "nom": "Manosque"})]))
    )
    zones = _zones(outline)
    (out_dir / "demo_zones_iris.geojson").write_text(
        json.dumps(
            _collection(
                [
                    _feature(
                        zones[suffix], {"CODE_IRIS": COMMUNE + suffix, "NOM_IRIS": name, "INSEE_COM": COMMUNE}
                    )
                    for suffix, name, _ in ZONES
                ]
            )
        )
    )
    (out_dir / "demo_qpv.geojson").write_text(
        json.dumps(
            _collection(
                [
                    _feature(geom, {"q": code, "n": name, "com": [COMMUNE]})
                    for code, (name, geom) in _qpv().items()
                ]
            )
        )
    )
    years = list(range(13, 22))
    base = 21900 + rng.integers(-300, 300)
    trend = np.cumsum(rng.normal(110, 90, len(years)))
    lines = ["codgeo;libgeo;" + ";".join(f"p{y}_pop" for y in years)]
    lines.append(f"{COMMUNE};Manosque;" + ";".join(str(int(base + t)) for t in trend))
    (out_dir / "demo_population.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def load(engine, out_dir: Path, user: str) -> None:
    from ingest.territories import import_insee_population, import_territories

    import_territories(engine, out_dir / "demo_commune.geojson", "commune", user=user)
    import_territories(engine, out_dir / "demo_zones_iris.geojson", "iris", user=user)
    import_territories(engine, out_dir / "demo_qpv.geojson", "qpv", user=user)
    import_insee_population(engine, out_dir / "demo_population.csv", user=user)
