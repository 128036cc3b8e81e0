"""Names for places a reader cannot locate from coordinates: the IRIS that holds a point and the nearest
street of the address base (``obs.ban_address``), when those are loaded.

The commune's addresses are read once per version of the base (their count and last batch) and searched
with a k-d tree: the table has no spatial index, and a hundred nearest-neighbour sorts in SQL would cost a
second per hot-spot table.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import sqlalchemy as sa
from scipy.spatial import cKDTree
from sqlalchemy.engine import Engine

from observatoire.events.store import remember

_streets: dict[tuple, tuple[cKDTree, np.ndarray, float]] = {}
_lock = threading.Lock()


def _street_index(engine: Engine, insee: str) -> tuple[cKDTree, np.ndarray, float] | None:
    with engine.connect() as conn:
        version = conn.execute(
            sa.text("SELECT count(*), max(batch_id), max(id) FROM obs.ban_address WHERE code_insee = :c"),
            {"c": insee},
        ).one()
        if not version[0]:
            return None
        key = (str(engine.url), insee, *version)
        with _lock:
            found = _streets.get(key)
        if found is not None:
            return found
        rows = conn.execute(
            sa.text("SELECT ST_X(geom), ST_Y(geom), nom_voie FROM obs.ban_address WHERE code_insee = :c"),
            {"c": insee},
        ).all()
    lon = np.array([r[0] for r in rows], dtype=float)
    lat = np.array([r[1] for r in rows], dtype=float)
    # Local equirectangular metres: exact enough to find the nearest address within a commune.
    scale = math.cos(math.radians(float(lat.mean())))
    index = (
        cKDTree(np.column_stack([lon * scale, lat])),
        np.array([r[2] for r in rows], dtype=object),
        scale,
    )
    with _lock:
        remember(_streets, key, index, size=4)
    return index


def name_places(engine: Engine, points: list[tuple[float, float]], commune: str) -> list[dict[str, Any]]:
    """For each (longitude, latitude): ``iris`` (the name of the commune's IRIS that holds it, or None) and
    ``street`` (the street of the nearest address of the commune's base, or None when the base is not
    loaded). ``commune`` is the territory code (``COM:04112``)."""
    if not points:
        return []
    insee = commune.split(":", 1)[-1]
    lons = [float(p[0]) for p in points]
    lats = [float(p[1]) for p in points]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("""
            SELECT (SELECT t.name FROM obs.territory t
                    WHERE t.level = 'iris' AND t.parent_code = :c AND t.geom IS NOT NULL
                      AND ST_Contains(t.geom, ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4326))
                    ORDER BY t.code LIMIT 1)
            FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS u(lon, lat, k)
            ORDER BY u.k"""),
            {"c": commune, "lons": lons, "lats": lats},
        ).all()
    irises = [r[0] for r in rows]
    index = _street_index(engine, insee)
    streets: list[str | None] = [None] * len(points)
    if index is not None:
        tree, names, scale = index
        _, nearest = tree.query(np.column_stack([np.array(lons) * scale, np.array(lats)]))
        streets = [str(names[k]) for k in np.atleast_1d(nearest)]
    return [{"iris": i, "street": s} for i, s in zip(irises, streets, strict=True)]
