"""Kernel density of events: binning on a regular Lambert-93 grid, then FFT convolution with a Gaussian
kernel (``scipy.signal.fftconvolve``) — milliseconds where ``scipy.stats.gaussian_kde`` takes minutes.

Bandwidth: given in metres, or Scott's rule in two dimensions, h = σ · n^(-1/6), σ being the mean of the two
coordinates' standard deviations (each the smaller of the standard deviation and IQR / 1.349, so that a few
far events do not widen it). In two dimensions Silverman's rule gives the same factor.

The map receives a few nested polygons (levels of density, from the floor to the peak, geometric steps)
instead of 250,000 cells. The floor is the peak density of ``small_count_threshold`` events stacked on one
spot: an isolated event — that a blob would locate — never reaches the first level.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import disclosure, french, projection
from observatoire.errors import InputFileError
from observatoire.events import hexgrid
from observatoire.events import store as event_store
from observatoire.events.filter import EventFilter, for_role, where
from observatoire.events.hexgrid import study_area_sql

DEFAULT_SHAPE = (500, 500)  # rows, columns
DEFAULT_LEVELS = 5
KERNEL_REACH = 4.0  # kernel truncated at 4 bandwidths (mass beyond: 0.03 %)
PALETTE = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15", "#67000d", "#3b0008")  # ColorBrewer Reds


def scott_bandwidth(x: np.ndarray, y: np.ndarray) -> float:
    n = len(x)

    def spread(v: np.ndarray) -> float:
        q75, q25 = np.percentile(v, [75, 25])
        robust = (q75 - q25) / 1.349
        sd = float(np.std(v, ddof=1)) if n > 1 else 0.0
        return min(sd, robust) if robust > 0 else sd

    sigma = (spread(x) + spread(y)) / 2
    return max(sigma * n ** (-1 / 6), 1.0)


def density_grid(
    x: np.ndarray,
    y: np.ndarray,
    bounds: tuple[float, float, float, float],
    shape: tuple[int, int] = DEFAULT_SHAPE,
    bandwidth: float | None = None,
) -> dict[str, Any]:
    """Density (events per km²) on a ``shape`` grid over ``bounds`` (xmin, ymin, xmax, ymax, metres).

    Returns ``density`` (rows from south to north), ``bandwidth_m``, ``rule``, ``cell_m`` (dx, dy) and
    ``bounds``.
    """
    from scipy.signal import fftconvolve

    rows, cols = shape
    if not (10 <= rows <= 4000 and 10 <= cols <= 4000):
        raise InputFileError(f"Grille de densité invalide : {rows} × {cols} (de 10 à 4 000 de côté).")
    xmin, ymin, xmax, ymax = bounds
    dx, dy = (xmax - xmin) / cols, (ymax - ymin) / rows
    rule = "donnée par l'utilisateur"
    if bandwidth is None:
        bandwidth = scott_bandwidth(x, y)
        rule = "règle de Scott (h = σ · n^(-1/6), σ robuste), en mètres"
    elif bandwidth <= 0:
        raise InputFileError(f"Largeur de bande invalide : {bandwidth} m.")
    counts, _, _ = np.histogram2d(y, x, bins=(rows, cols), range=((ymin, ymax), (xmin, xmax)))
    rx = max(int(math.ceil(KERNEL_REACH * bandwidth / dx)), 1)
    ry = max(int(math.ceil(KERNEL_REACH * bandwidth / dy)), 1)
    kx = np.exp(-0.5 * (np.arange(-rx, rx + 1) * dx / bandwidth) ** 2)
    ky = np.exp(-0.5 * (np.arange(-ry, ry + 1) * dy / bandwidth) ** 2)
    kernel = np.outer(ky, kx)
    kernel /= kernel.sum()  # each event keeps a mass of 1 on the grid
    smoothed = np.clip(fftconvolve(counts, kernel, mode="same"), 0, None)
    density = smoothed / (dx * dy / 1e6)
    return {
        "density": density,
        "bandwidth_m": float(bandwidth),
        "rule": rule,
        "cell_m": (dx, dy),
        "bounds": bounds,
        "kernel_peak": float(kernel.max()) / (dx * dy / 1e6),
    }


def _polygons(mask: np.ndarray, bounds: tuple[float, float, float, float], cell: tuple[float, float]):
    """The cells of ``mask`` as one (Multi)Polygon in Lambert-93: row runs as rectangles, then a union."""
    import shapely

    dx, dy = cell
    xmin, ymin = bounds[0], bounds[1]
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    r_start, c_start = np.nonzero(edges == 1)
    _, c_end = np.nonzero(edges == -1)
    boxes = shapely.box(
        xmin + c_start * dx, ymin + r_start * dy, xmin + c_end * dx, ymin + (r_start + 1) * dy
    )
    return shapely.coverage_union_all(boxes).simplify(min(dx, dy) / 2)


def _to_wgs84(geometry) -> dict[str, Any]:
    import shapely

    transformer = projection.to_wgs84()
    # Rounded to 6 decimals (10 cm): the map needs no more, the browser receives less.
    moved = shapely.transform(
        geometry, lambda xy: np.round(np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])), 6)
    )
    return json.loads(shapely.to_geojson(moved))


def kernel_density(
    engine: Engine,
    f: EventFilter,
    role: str | None = None,
    *,
    shape: tuple[int, int] = DEFAULT_SHAPE,
    bandwidth: float | None = None,
    levels: int = DEFAULT_LEVELS,
    area_code: str | None = None,
    threshold: int | None = None,
) -> dict[str, Any]:
    """A heat layer: GeoJSON FeatureCollection (WGS84) of nested polygons, one per density level
    (``level`` 1…n, ``min_density`` in events per km², ``colour``), drawn from the lowest up; plus ``peak``
    (lon, lat, density), ``method`` (bandwidth and its rule, grid, cell size, levels, event count).
    ``threshold`` (default: the setting ``small_count_threshold``) sets the floor and the masking.
    """
    from observatoire.settings import get_settings

    f = for_role(f, role)
    if threshold is None or area_code is None:
        settings = get_settings()
        threshold = threshold or settings.small_count_threshold
        area_code = area_code or f.territory or settings.commune_code
    cond, params = where(f)
    params.update(area_code=area_code, hex_size=0.0)
    with engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL jit = off")
        snap = event_store.snapshot(conn, f)
        if snap is not None:
            xy = np.column_stack(snap.points(snap.mask(f)))
        else:
            # Through the driver's cursor: building 100,000 result rows costs more than the query itself.
            compiled = (
                sa.text(
                    f"SELECT ST_X(e.geom_l93), ST_Y(e.geom_l93) FROM obs.event e WHERE {cond} "
                    "AND e.geom_l93 IS NOT NULL"
                )
                .bindparams(**{k: v for k, v in params.items() if k.startswith("ev_")})
                .compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            )
            raw = conn.connection.driver_connection
            assert raw is not None  # set while the connection is checked out
            with raw.cursor() as cur:
                cur.execute(str(compiled), compiled.params)
                xy = np.array(cur.fetchall(), dtype=float).reshape(-1, 2)
        box = conn.execute(
            sa.text(
                f"SELECT ST_XMin(a), ST_YMin(a), ST_XMax(a), ST_YMax(a) FROM "
                f"(SELECT {study_area_sql(f).format(cond=cond)} AS a) s"
            ),
            params,
        ).one()
        limit = disclosure.threshold_for(role, threshold)
        shown: int | str = len(xy)
        if limit is not None:
            cells = hexgrid.protected_cells(conn, f, hexgrid.DEFAULT_CELL, limit)
            shown = disclosure.total(cells["count"].to_numpy(), limit, cells["state"].to_numpy())
    method: dict[str, Any] = {
        "methode": "Estimation de densité par noyau gaussien (binning + convolution FFT, scipy.signal.fftconvolve)",
        "evenements": shown,
        "filtres": f.describe(),
        "grille": f"{shape[0]} × {shape[1]}",
    }
    if len(xy) < 2 or box[0] is None:
        return {
            "type": "FeatureCollection",
            "features": [],
            "peak": None,
            "method": method,
            "message": "Trop peu d'événements géolocalisés pour une carte de densité.",
        }
    x, y = xy[:, 0], xy[:, 1]
    h = bandwidth if bandwidth is not None else scott_bandwidth(x, y)
    pad = 3 * h
    bounds = (
        min(box[0], x.min()) - pad,
        min(box[1], y.min()) - pad,
        max(box[2], x.max()) + pad,
        max(box[3], y.max()) + pad,
    )
    grid = density_grid(x, y, bounds, shape, bandwidth)
    density = grid["density"]
    floor = threshold * grid["kernel_peak"]
    r, c = np.unravel_index(int(np.argmax(density)), density.shape)
    dx, dy = grid["cell_m"]
    peak_xy = (bounds[0] + (c + 0.5) * dx, bounds[1] + (r + 0.5) * dy)
    lon, lat = projection.to_wgs84().transform(*peak_xy)
    peak = float(density.max())
    method.update(
        {
            "largeur_de_bande_m": round(grid["bandwidth_m"], 1),
            "regle_largeur_de_bande": grid["rule"],
            "taille_cellule_m": round((dx + dy) / 2, 1),
            "unite": "événements par km²",
            "seuil_minimal": f"densité de {threshold} événements superposés "
            f"({french.number(floor, 1)} par km²) : un événement isolé n'apparaît pas",
            "niveaux": "progression géométrique du seuil minimal au maximum",
        }
    )
    features = []
    if peak > floor:
        thresholds = np.geomspace(floor, peak, levels + 1)[:-1]
        for level, t in enumerate(thresholds, start=1):
            mask = density >= t
            if not mask.any():
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": _to_wgs84(_polygons(mask, bounds, (dx, dy))),
                    "properties": {
                        "level": level,
                        "min_density": round(float(t), 2),
                        "colour": PALETTE[min(level - 1, len(PALETTE) - 1)],
                    },
                }
            )
    return {
        "type": "FeatureCollection",
        "features": features,
        "method": method,
        "peak": {
            "lon": round(lon, 6),
            "lat": round(lat, 6),
            "x": peak_xy[0],
            "y": peak_xy[1],
            "density": round(peak, 2),
        },
        "message": None if features else "Aucune concentration au-dessus du seuil minimal.",
    }
