"""Where cameras are missing: the hot-spot cells of the map (Getis-Ord Gi*, :mod:`observatoire.events.hotspots`)
against the areas the cameras see, and the cameras whose area has long had neither event nor requisition.

A cell is covered when a camera's area (disc of its range, sector when its direction is known) reaches into
it; its covered share is the part of its surface those areas take together. The spatial join is a
``shapely.STRtree`` query of the cells against the areas, vectorised; only cells reached by several cameras
need a union.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import projection
from observatoire.events import hexgrid, hotspots
from observatoire.events.filter import EventFilter
from observatoire.videoprotection import inventory

HOT = ("chaud_99", "chaud_95", "chaud_90")


def cell_polygons(i: np.ndarray, j: np.ndarray, size: float):
    """Flat-topped hexagons of PostGIS' grid (``ST_Hexagon``), as shapely polygons in Lambert-93."""
    import shapely

    cx, cy = hexgrid.cell_centres(i, j, size)
    angles = np.radians(np.arange(0, 360, 60))
    xs = cx[:, None] + size * np.cos(angles)[None, :]
    ys = cy[:, None] + size * np.sin(angles)[None, :]
    rings = np.stack([np.hstack([xs, xs[:, :1]]), np.hstack([ys, ys[:, :1]])], axis=-1)
    return shapely.polygons(rings)


def covered_share(cells: pd.DataFrame, cams: pd.DataFrame, size: float) -> np.ndarray:
    """For each cell (``i``, ``j``), the share of its surface that the cameras (``x``, ``y``, ``reach_m``,
    ``direction_deg``, Lambert-93) see."""
    import shapely

    share = np.zeros(len(cells))
    if cells.empty or cams.empty:
        return share
    hexes = cell_polygons(cells["i"].to_numpy(), cells["j"].to_numpy(), size)
    areas = inventory.coverage_areas(
        cams["x"].to_numpy(),
        cams["y"].to_numpy(),
        cams["reach_m"].to_numpy(),
        pd.to_numeric(cams["direction_deg"], errors="coerce").to_numpy(dtype=float),
    )
    cell_idx, area_idx = shapely.STRtree(areas).query(hexes, predicate="intersects")
    if not len(cell_idx):
        return share
    order = np.argsort(cell_idx, kind="stable")
    cell_idx, area_idx = cell_idx[order], area_idx[order]
    starts = np.flatnonzero(np.r_[True, cell_idx[1:] != cell_idx[:-1]])
    ends = np.r_[starts[1:], len(cell_idx)]
    single = ends - starts == 1
    one = starts[single]
    full = hexgrid.cell_area_m2(size)
    share[cell_idx[one]] = (
        shapely.area(shapely.intersection(hexes[cell_idx[one]], areas[area_idx[one]])) / full
    )
    for s, e in zip(starts[~single], ends[~single], strict=True):
        seen = shapely.union_all(areas[area_idx[s:e]])
        share[cell_idx[s]] = shapely.area(shapely.intersection(hexes[cell_idx[s]], seen)) / full
    return np.minimum(share, 1.0)


def classify(cells: pd.DataFrame, cams: pd.DataFrame, size: float) -> pd.DataFrame:
    """``cells`` with ``share`` and ``covered`` (some camera sees into it)."""
    out = cells.copy()
    out["share"] = covered_share(out, cams, size)
    out["covered"] = out["share"] > 0
    return out


def hot_cells(
    engine: Engine, f: EventFilter, role: str | None, cell: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Cells of the Gi* analysis of the map (``i``, ``j``, ``count``, ``z``, ``class``), and its method."""
    result = hotspots.getis_ord(engine, f, role, cell=cell)
    rows = [
        {"i": p["i"], "j": p["j"], "count": p.get("count"), "z": p.get("z"), "class": p["class"]}
        for p in (feature["properties"] for feature in result["features"])
    ]
    frame = pd.DataFrame(rows, columns=["i", "j", "count", "z", "class"])
    return frame, {"method": result["method"], "message": result.get("message")}


def analyse(
    engine: Engine,
    role: str | None,
    *,
    f: EventFilter | None = None,
    cell: float = hexgrid.DEFAULT_CELL,
    on: date | None = None,
) -> dict[str, Any]:
    """Share of significant hot cells covered, the uncovered ones ranked (strongest first, with the distance
    to the nearest camera), and the cameras in service that day."""
    from observatoire.permissions import allowed

    f = f or EventFilter()
    cams = inventory.cameras(engine, on=on or date.today())
    if role is not None and not allowed(role, "carte.voir"):
        # The supervision centre keeps the cameras, not the map of events: no hot spot for it, only the areas.
        empty = pd.DataFrame({"i": [], "j": [], "count": [], "z": [], "class": []})
        meta: dict[str, Any] = {"method": {}, "message": None, "restricted": True}
        cells = empty
    else:
        cells, meta = hot_cells(engine, f, role, cell)
    hot = cells[cells["class"].isin(HOT)].reset_index(drop=True)
    hot = classify(hot, cams, cell)
    cx, cy = hexgrid.cell_centres(hot["i"].to_numpy(), hot["j"].to_numpy(), cell)
    if len(cams) and len(hot):
        d = np.hypot(cx[:, None] - cams["x"].to_numpy()[None, :], cy[:, None] - cams["y"].to_numpy()[None, :])
        hot["nearest_m"] = d.min(axis=1)
        hot["nearest"] = cams["code"].to_numpy()[d.argmin(axis=1)]
    else:
        hot["nearest_m"], hot["nearest"] = np.nan, None
    lon, lat = projection.to_wgs84().transform(cx, cy) if len(hot) else (np.array([]), np.array([]))
    hot["lon"], hot["lat"] = lon, lat
    rank = {c: k for k, c in enumerate(HOT)}
    uncovered = hot[~hot["covered"]].assign(_r=lambda d: d["class"].map(rank))
    uncovered = uncovered.sort_values(
        ["_r", "z", "count"], ascending=[True, False, False], na_position="last"
    )
    return {
        "hot": len(hot),
        "covered": int(hot["covered"].sum()),
        "share": (float(hot["covered"].mean()) if len(hot) else None),
        "cells": hot,
        "uncovered": uncovered.drop(columns="_r").reset_index(drop=True),
        "cameras": cams,
        "cell": cell,
        **meta,
    }


def idle_cameras(engine: Engine, idle_days: int, today: date | None = None) -> pd.DataFrame:
    """Cameras in service whose range (a disc, conservatively) has had neither an event nor a requisition
    for ``idle_days`` before ``today`` — by default the latest date the data reach (last requisition or event),
    so that data not yet imported do not make every camera look idle: the last of each, and since when."""
    if today is None:
        with engine.connect() as conn:
            today = (
                conn.execute(
                    sa.text(
                        "SELECT GREATEST((SELECT max(requested_on) FROM obs.video_requisition), "
                        "(SELECT max(occurred_at)::date FROM obs.event))"
                    )
                ).scalar()
                or date.today()
            )
    since = today - timedelta(days=idle_days)
    with engine.connect() as conn:
        frame = pd.read_sql_query(
            sa.text("""
            SELECT c.code, c.name, c.kind,
                   (SELECT max(e.occurred_at)::date FROM obs.event e
                    WHERE e.geom_l93 IS NOT NULL AND ST_DWithin(e.geom_l93, c.geom_l93, COALESCE(c.range_m,
                        CASE c.kind WHEN 'dome' THEN :dome WHEN 'lapi' THEN :lapi ELSE :fixe END))) AS last_event,
                   (SELECT max(r.requested_on) FROM obs.video_requisition r
                    JOIN obs.video_requisition_camera rc ON rc.requisition_id = r.id WHERE rc.camera_id = c.id)
                       AS last_requisition
            FROM obs.video_camera c
            WHERE (c.removed_on IS NULL OR c.removed_on > :today)
              AND (c.commissioned_on IS NULL OR c.commissioned_on <= :since)"""),
            conn,
            params={"today": today, "since": since, **inventory.DEFAULT_RANGE},
        )
    last = frame[["last_event", "last_requisition"]].apply(pd.to_datetime).max(axis=1)
    idle = last.isna() | (last < pd.Timestamp(since))
    out = frame[idle].copy()
    out["last_activity"] = last[idle]
    return out.sort_values("last_activity", na_position="first").reset_index(drop=True)


def nearest_distance_m(x: float, y: float, cams: pd.DataFrame) -> float:
    if cams.empty:
        return math.inf
    return float(np.hypot(cams["x"] - x, cams["y"] - y).min())


def _latlon(polygons) -> list[list[list[float]]]:
    import shapely

    transformer = projection.to_wgs84()
    out = []
    for polygon in polygons:
        xy = shapely.get_coordinates(shapely.get_exterior_ring(polygon))
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        out.append([[round(float(a), 6), round(float(b), 6)] for a, b in zip(lat, lon, strict=True)])
    return out


def areas_latlon(cams: pd.DataFrame) -> list[list[list[float]]]:
    """Each camera's coverage area as [[lat, lon], …] (what a map draws)."""
    if cams.empty:
        return []
    return _latlon(
        inventory.coverage_areas(
            cams["x"].to_numpy(),
            cams["y"].to_numpy(),
            cams["reach_m"].to_numpy(),
            pd.to_numeric(cams["direction_deg"], errors="coerce").to_numpy(dtype=float),
        )
    )


def cells_latlon(cells: pd.DataFrame, size: float) -> list[list[list[float]]]:
    if cells.empty:
        return []
    return _latlon(cell_polygons(cells["i"].to_numpy(), cells["j"].to_numpy(), size))
