"""Hot spots with significance: Getis-Ord Gi* on hexagon counts (``esda``), false-discovery-rate correction,
classes hot/cold at 99/95/90 %; the kernel density lives in :mod:`observatoire.events.density`.

Method and parameters travel with every result (``method``), so the legend and the exported map can say
how the spots were found.

Weights: queen contiguity on the hexagonal grid — the 6 hexagons sharing a side with a cell, found from the
cells' (i, j) numbers — as a binary ``libpysal`` ``W``; Gi* includes the cell itself (``star=True``).
Significance: z-scores and p-values from conditional permutations (normal approximation of the simulated
distribution, fixed seed) or, with ``permutations=0``, the analytical ones; two-sided p-values corrected by
the Benjamini–Hochberg false discovery rate (``esda.fdr``) at 1, 5 and 10 %.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from scipy import stats
from sqlalchemy.engine import Connection, Engine

from observatoire import disclosure
from observatoire.events import hexgrid
from observatoire.events.filter import EventFilter, for_role, where
from observatoire.events.hexgrid import study_area_sql
from observatoire.events.store import remember

DEFAULT_PERMUTATIONS = 999
SEED = 4112
MIN_EVENTS = 30  # below this, no hot spot analysis is meaningful
CLASSES: dict[str, tuple[str, str]] = {  # class → (French label, ColorBrewer RdBu, colour-blind safe)
    "chaud_99": ("Point chaud, confiance 99 %", "#b2182b"),
    "chaud_95": ("Point chaud, confiance 95 %", "#ef8a62"),
    "chaud_90": ("Point chaud, confiance 90 %", "#fddbc7"),
    "non_significatif": ("Non significatif", "#f7f7f7"),
    "froid_90": ("Point froid, confiance 90 %", "#d1e5f0"),
    "froid_95": ("Point froid, confiance 95 %", "#67a9cf"),
    "froid_99": ("Point froid, confiance 99 %", "#2166ac"),
}
_LEVELS = ((0.01, "99"), (0.05, "95"), (0.10, "90"))


# Hexagon grids of territory outlines, by (md5 of the outline, cell size).
_grids: dict[tuple[str, float], pd.DataFrame] = {}


def grid_counts(conn: Connection, f: EventFilter, cell: float, area_code: str | None) -> pd.DataFrame:
    """Every cell of the study area (``i``, ``j``), with its count (zeros included)."""
    cond, params = where(f)
    params.update(hex_size=cell, area_code=area_code or f.territory or "")
    area = study_area_sql(f).format(cond=cond)
    # The outline's fingerprint: the grid of an outline is the same for every filter, so it is kept.
    outlined: str | None = conn.execute(
        sa.text("SELECT md5(ST_AsBinary(geom)) FROM obs.territory WHERE code = :area_code"), params
    ).scalar()
    key = (outlined, float(cell)) if outlined else None
    grid = _grids.get(key) if key else None
    if grid is None:
        grid = pd.DataFrame(
            conn.execute(
                sa.text(f"""
            WITH area AS (SELECT {area} AS geom)
            SELECT g.i, g.j FROM area, ST_HexagonGrid(:hex_size, area.geom) g WHERE ST_Intersects(g.geom, area.geom)"""),
                params,
            ).all(),
            columns=["i", "j"],
        )
        if key:
            remember(_grids, key, grid, size=16)
    counts = hexgrid.count_cells(conn, f, cell)
    merged = grid.merge(counts, on=["i", "j"], how="left")
    merged["count"] = merged["count"].fillna(0).astype(int)
    merged.attrs["outside"] = int(counts["count"].sum() - merged["count"].sum())
    merged.attrs["area"] = (
        f"contour de {params['area_code']}"
        if outlined
        else "étendue des événements filtrés (contour de la commune non chargé)"
    )
    return merged


def hex_weights(i: np.ndarray, j: np.ndarray):
    """Binary queen-contiguity weights of hexagons (i, j) on PostGIS' grid (odd columns shifted up)."""
    from libpysal.weights import W

    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    position = {(a, b): k for k, (a, b) in enumerate(zip(i.tolist(), j.tolist(), strict=True))}
    even = [(-1, -1), (-1, 0), (1, -1), (1, 0), (0, -1), (0, 1)]
    odd = [(-1, 0), (-1, 1), (1, 0), (1, 1), (0, -1), (0, 1)]
    neighbours: dict[int, list[int]] = {}
    for (a, b), k in position.items():
        steps = odd if a % 2 else even
        neighbours[k] = [position[(a + da, b + db)] for da, db in steps if (a + da, b + db) in position]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands (a lone cell at the edge of an odd outline) are allowed
        return W(neighbours, silence_warnings=True)


def gi_star(
    counts: np.ndarray, w, permutations: int = DEFAULT_PERMUTATIONS, seed: int = SEED
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """z-scores, two-sided p-values and FDR-corrected classes of Getis-Ord Gi* for ``counts``."""
    import esda

    y = np.asarray(counts, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(
            y,
            w,
            transform="B",
            permutations=permutations,
            star=True,
            seed=seed,
            n_jobs=1,
            keep_simulations=bool(permutations),
            island_weight=0,
        )
    z = np.asarray(g.z_sim if permutations else g.Zs, dtype=float)
    z = np.nan_to_num(z, nan=0.0)  # a constant neighbourhood has no variance: nothing to detect there
    p = 2 * stats.norm.sf(np.abs(z))
    classes = np.full(len(y), "non_significatif", dtype=object)
    for alpha, level in reversed(_LEVELS):  # 90 first, then overwritten by 95 and 99
        significant = p <= esda.fdr(p, alpha)
        classes[significant & (z > 0)] = f"chaud_{level}"
        classes[significant & (z < 0)] = f"froid_{level}"
    return z, p, classes.tolist()


def getis_ord(
    engine: Engine,
    f: EventFilter,
    role: str | None = None,
    *,
    cell: float = hexgrid.DEFAULT_CELL,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = SEED,
    area_code: str | None = None,
    threshold: int | None = None,
    all_cells: bool = False,
) -> dict[str, Any]:
    """Gi* hot and cold spots: a GeoJSON FeatureCollection (WGS84) of hexagons with ``count``, ``z``, ``p``,
    ``class`` and ``class_label``, plus ``method`` (all parameters), ``legend`` (classes, labels, colours,
    numbers of cells) and ``message`` when there are too few events.

    Only non-empty or significant cells are returned, unless ``all_cells``. Aggregate-only roles get the
    class of each cell but no z-score nor p-value, and counts under the threshold as « < 5 ».
    """
    cell = hexgrid.check_cell(cell)
    f = for_role(f, role)
    if area_code is None:
        from observatoire.settings import get_settings

        area_code = f.territory or get_settings().commune_code
    with engine.connect() as conn:
        grid = grid_counts(conn, f, cell, area_code)
        n_events = int(grid["count"].sum())
        limit = disclosure.threshold_for(role, threshold)
        grid["state"] = disclosure.SHOWN
        outside: int | str = grid.attrs.get("outside", 0)
        if limit is not None:
            # The counts shown with the classes are those of the hexagon map, protected the same way; the
            # events beyond the area are the sum of the hexagons beyond it.
            cells = hexgrid.protected_cells(conn, f, cell, limit).set_index(["i", "j"])
            within = pd.MultiIndex.from_frame(grid[["i", "j"]])
            grid["state"] = cells["state"].reindex(within, fill_value=disclosure.SHOWN).to_numpy()
            beyond = cells[~cells.index.isin(within)]
            outside = disclosure.total(beyond["count"].to_numpy(), limit, beyond["state"].to_numpy())
        method = {
            "methode": "Getis-Ord Gi* (esda.G_Local, star=True) sur les comptages par hexagone",
            "taille_cellule_m": cell,
            "voisinage": "contiguïté (reine) sur la grille hexagonale : les 6 hexagones voisins, poids binaires, "
            "la cellule elle-même incluse",
            "permutations": permutations,
            "graine": seed,
            "significativite": (
                "z et p issus des permutations conditionnelles (approximation normale)"
                if permutations
                else "z et p analytiques (loi normale)"
            )
            + ", p bilatérales",
            "correction": "taux de fausses découvertes (Benjamini–Hochberg, esda.fdr) à 1, 5 et 10 %",
            "zone_etudiee": grid.attrs["area"],
            "cellules": len(grid),
            "evenements": disclosure.total(grid["count"].to_numpy(), limit, grid["state"].to_numpy()),
            "hors_zone": outside,
            "filtres": f.describe(),
        }
        empty = {"type": "FeatureCollection", "features": [], "method": method, "legend": _legend({})}
        if n_events < MIN_EVENTS or len(grid) < 10:
            return {
                **empty,
                "message": f"Trop peu d'événements (moins de {MIN_EVENTS}) ou de cellules pour une "
                "analyse des points chauds : élargissez la période ou les catégories.",
            }
        z, p, classes = gi_star(
            grid["count"].to_numpy(), hex_weights(grid["i"], grid["j"]), permutations, seed
        )
        grid["z"], grid["p"], grid["gi_class"] = z, p, classes
        keep = (
            grid
            if all_cells
            else grid[
                (grid["count"] > 0)
                | (grid["gi_class"] != "non_significatif")
                | (grid["state"] != disclosure.SHOWN)  # an empty cell masked as on the hexagon map
            ]
        )
        keep = keep.reset_index(drop=True)
        geometries = hexgrid.outlines(keep, cell)
    features = []
    for r, geometry in zip(keep.itertuples(index=False), geometries, strict=True):
        figures = {} if limit is not None else {"z": round(float(r.z), 3), "p": round(float(r.p), 5)}
        props = {
            "i": int(r.i),
            "j": int(r.j),
            **disclosure.cell_properties(int(r.count), limit, int(r.state)),
            **({} if r.state != disclosure.SHOWN else figures),
            "class": r.gi_class,
            "class_label": CLASSES[r.gi_class][0],
        }
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {
        "type": "FeatureCollection",
        "features": features,
        "method": method,
        "legend": _legend(pd.Series(classes).value_counts().to_dict()),
    }


def _legend(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"class": c, "label": label, "colour": colour, "cells": int(counts.get(c, 0))}
        for c, (label, colour) in CLASSES.items()
    ]
