"""Counts per hexagon, in Lambert-93, on the tiling of PostGIS' ``ST_HexagonGrid`` / ``ST_Hexagon``.

A point's cell (i, j) is computed arithmetically (nearest centre of the grid's two lattices) rather than by a
spatial join of every point against a generated grid: on a million events that is one pass over the rows
instead of a join costing seconds. The cells are those of ``ST_HexagonGrid(size, …)`` — flat-topped,
``size`` being the side (and the radius) in metres, odd columns shifted up by half a height — and their
outlines are drawn with ``ST_Hexagon(size, i, j)``; ``tests/test_events_spatial.py`` checks that the counts
equal a spatial join on ``ST_HexagonGrid``. Only non-empty cells leave the database.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import disclosure, projection
from observatoire.errors import InputFileError
from observatoire.events import secrecy
from observatoire.events import store as event_store
from observatoire.events.filter import EventFilter, for_role, unbounded, where
from observatoire.events.secrecy import MONTH_SQL

DEFAULT_CELL = 150.0
MIN_CELL, MAX_CELL = 25.0, 5000.0

# (i, j) of the hexagon holding each event. The centres of PostGIS' grid are two rectangular lattices (even
# columns at (3s·m, √3s·n), odd ones shifted by (1.5s, √3s/2)); the hexagon holding a point is the nearer
# of its nearest centre in each lattice, found by rounding. ``OFFSET 0`` keeps the coordinates computed
# once per row (the planner would otherwise repeat ST_X/ST_Y in every expression).
_CELLS_SQL = """
    SELECT CASE WHEN da <= db THEN 2 * ia ELSE 2 * ib + 1 END::int AS i,
           CASE WHEN da <= db THEN ja ELSE jb END::int AS j{ym}, count(*)::int AS count
    FROM (SELECT ia, ja, ib, jb{ym}, (u - 3 * ia) ^ 2 + (v - sqrt(3.0) * ja) ^ 2 AS da,
                 (u - 3 * ib - 1.5) ^ 2 + (v - sqrt(3.0) * (jb + 0.5)) ^ 2 AS db
          FROM (SELECT u, v{ym}, round(u / 3) AS ia, round(v / sqrt(3.0)) AS ja, round((u - 1.5) / 3) AS ib,
                       round(v / sqrt(3.0) - 0.5) AS jb
                FROM (SELECT ST_X(e.geom_l93) / :hex_size AS u, ST_Y(e.geom_l93) / :hex_size AS v{ym_value}
                      FROM obs.event e WHERE {cond} AND e.geom_l93 IS NOT NULL OFFSET 0) p) q) r
    GROUP BY 1, 2{ym_group}"""


def check_cell(size: float) -> float:
    size = float(size)
    if not MIN_CELL <= size <= MAX_CELL:
        raise InputFileError(f"Taille d'hexagone invalide : {size:g} m (de {MIN_CELL:g} à {MAX_CELL:g} m).")
    return size


def cell_centres(i: np.ndarray, j: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Lambert-93 centres of cells (i, j), as ``ST_Hexagon`` places them."""
    i, j = np.asarray(i), np.asarray(j)
    height = math.sqrt(3.0) * size
    return 1.5 * size * i, height * j + np.where(i % 2 != 0, height / 2, 0.0)


def cell_area_m2(size: float) -> float:
    return 1.5 * math.sqrt(3.0) * size * size


def count_cells(conn: Connection, f: EventFilter, size: float) -> pd.DataFrame:
    """``i``, ``j``, ``count`` of every non-empty cell for the filter (no role applied: callers do it)."""
    snap = event_store.snapshot(conn, f)
    if snap is not None:
        return snap.cells(f, size).copy()
    cond, params = where(f)
    params["hex_size"] = size
    # Compiling this one-pass query costs more than running it (a second on a million rows).
    conn.exec_driver_sql("SET LOCAL jit = off")
    rows = conn.execute(sa.text(_CELLS_SQL.format(cond=cond, ym="", ym_value="", ym_group="")), params).all()
    return pd.DataFrame(rows, columns=["i", "j", "count"])


def count_cells_by_month(conn: Connection, f: EventFilter, size: float) -> pd.DataFrame:
    """:func:`count_cells` month by month: ``i``, ``j``, ``month`` (months since January 1970), ``count``."""
    snap = event_store.snapshot(conn, f)
    if snap is not None:
        return snap.cell_months(f, size)
    cond, params = where(f)
    params["hex_size"] = size
    conn.exec_driver_sql("SET LOCAL jit = off")
    sql = _CELLS_SQL.format(
        cond=cond, ym=", ym", ym_value=", " + MONTH_SQL.format(a="e") + " AS ym", ym_group=", 3"
    )
    rows = conn.execute(sa.text(sql), params).all()
    return pd.DataFrame(rows, columns=["i", "j", "month", "count"], dtype=int)


def protected_cells(
    conn: Connection, f: EventFilter, size: float, threshold: int, base: secrecy.Totals | None = None
) -> pd.DataFrame:
    """The non-empty cells of :func:`count_cells` with their ``state`` for an aggregate-only role: masked
    (« < 5 ») or masked in complement (« non diffusé ») so that no masked cell comes back from the total of
    the map or from the other periods of the calendar (:mod:`observatoire.events.secrecy`). ``f`` has been
    through :func:`~observatoire.events.filter.for_role`."""
    base = base or secrecy.totals(conn, f, threshold)
    wide = unbounded(f)
    cells = secrecy.protect_breakdown(
        conn,
        ("hexagones", wide, float(size)),
        lambda: count_cells_by_month(conn, wide, size),
        ["i", "j"],
        base,
        total="geolocated",
    )
    # Empty cells only when masked as complements (« < 5 »: 0 to 4).
    return cells[(cells["count"] > 0) | (cells["state"] != disclosure.SHOWN)].reset_index(drop=True)


# Vertices of ST_Hexagon around its centre, in its order (from the west corner, counter-clockwise), in sides.
_CORNERS = np.array(
    [
        (-1.0, 0.0),
        (-0.5, -math.sqrt(3.0) / 2),
        (0.5, -math.sqrt(3.0) / 2),
        (1.0, 0.0),
        (0.5, math.sqrt(3.0) / 2),
        (-0.5, math.sqrt(3.0) / 2),
        (-1.0, 0.0),
    ]
)


def outlines(cells: pd.DataFrame, size: float) -> list[dict[str, Any]]:
    """GeoJSON polygons (WGS84, 6 decimals) of cells (i, j), in the order given: the rings of
    ``ST_Hexagon(size, i, j)``, computed here rather than asked of the database (thousands of cells per map)."""
    if cells.empty:
        return []
    cx, cy = cell_centres(cells["i"].to_numpy(), cells["j"].to_numpy(), size)
    x = cx[:, None] + size * _CORNERS[None, :, 0]
    y = cy[:, None] + size * _CORNERS[None, :, 1]
    lon, lat = projection.to_wgs84().transform(x.ravel(), y.ravel())
    ring = np.round(np.stack([lon, lat], axis=-1), 6).reshape(len(cells), len(_CORNERS), 2).tolist()
    return [{"type": "Polygon", "coordinates": [r]} for r in ring]


def method(size: float, f: EventFilter) -> dict[str, Any]:
    return {
        "methode": "Comptage par hexagone (grille ST_HexagonGrid de PostGIS, Lambert-93 EPSG:2154)",
        "taille_cellule_m": size,
        "surface_cellule_ha": round(cell_area_m2(size) / 10_000, 2),
        "filtres": f.describe(),
    }


def hex_counts(
    engine: Engine,
    f: EventFilter,
    size: float = DEFAULT_CELL,
    role: str | None = None,
    *,
    threshold: int | None = None,
) -> dict[str, Any]:
    """Non-empty hexagons as a GeoJSON FeatureCollection (WGS84) for the map and its table.

    Each feature: ``i``, ``j``, ``count`` (int; for an aggregate-only role « < 5 » or « non diffusé », with
    ``masked``: :func:`protected_cells`). Beside the features: ``method`` (cell size, filters), ``total``
    (exact, or « au moins N » when a cell was masked), ``cells``, ``max_count``.
    """
    size = check_cell(size)
    f = for_role(f, role)
    limit = disclosure.threshold_for(role, threshold)
    with engine.connect() as conn:
        if limit is None:
            cells = count_cells(conn, f, size).assign(state=disclosure.SHOWN)
        else:
            cells = protected_cells(conn, f, size, limit)
    cells = cells.sort_values(["i", "j"], ignore_index=True)
    geometries = outlines(cells, size)
    features = [
        {
            "type": "Feature",
            "geometry": geometry,
            "properties": {
                "i": int(r.i),
                "j": int(r.j),
                **disclosure.cell_properties(int(r.count), limit, int(r.state)),
            },
        }
        for r, geometry in zip(cells.itertuples(index=False), geometries, strict=True)
    ]
    counts = cells["count"].to_numpy()
    states = cells["state"].to_numpy()
    visible = counts[states == disclosure.SHOWN]
    return {
        "type": "FeatureCollection",
        "features": features,
        "method": method(size, f),
        "total": disclosure.total(counts, limit, states),
        "cells": len(features),
        "max_count": int(visible.max()) if len(visible) else None,
    }


def study_area_sql(f: EventFilter) -> str:
    """The area the grid covers (Lambert-93): the filter's territory, else the commune's outline when loaded,
    else the extent of the filtered events."""
    return """COALESCE(
        (SELECT ST_Transform(geom, 2154) FROM obs.territory WHERE code = :area_code AND geom IS NOT NULL),
        (SELECT ST_Expand(ST_SetSRID(ST_Extent(e.geom_l93)::geometry, 2154), :hex_size) FROM obs.event e
         WHERE {cond}))"""
