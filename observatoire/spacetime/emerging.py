"""Emerging hot spots: Gi* on a space-time cube of hexagons × months (or quarters), a Mann-Kendall trend per
cell, and the published classes (:mod:`observatoire.spacetime.classes`).

:func:`analyse` works on arrays (Lambert-93 points and their month) and is what the benchmark times;
:func:`emerging_hot_spots` reads the events, applies the role's rules and returns GeoJSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from observatoire.spacetime import classes as cls
from observatoire.spacetime import gistar

ALPHA = 0.05  # false discovery rate over every bin of the cube
LAG = 1  # previous slices in a bin's neighbourhood
MIN_SLICES = 6
SQRT3 = np.sqrt(3.0)


def cell_of(x: np.ndarray, y: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """``i``, ``j`` of the hexagon (side ``size``) of PostGIS' ``ST_HexagonGrid`` holding each Lambert-93 point
    (the arithmetic of :mod:`observatoire.events.hexgrid`)."""
    u, v = np.asarray(x) / size, np.asarray(y) / size
    ia, ja = np.rint(u / 3), np.rint(v / SQRT3)
    ib, jb = np.rint((u - 1.5) / 3), np.rint(v / SQRT3 - 0.5)
    da = (u - 3 * ia) ** 2 + (v - SQRT3 * ja) ** 2
    db = (u - 3 * ib - 1.5) ** 2 + (v - SQRT3 * (jb + 0.5)) ** 2
    first = da <= db
    return np.where(first, 2 * ia, 2 * ib + 1).astype(np.int64), np.where(first, ja, jb).astype(np.int64)


def month_number(day: date) -> int:
    """Months since January 1970 (the numbering of the events in memory)."""
    return (day.year - 1970) * 12 + day.month - 1


@dataclass
class Result:
    i: np.ndarray
    j: np.ndarray
    counts: np.ndarray  # cells × slices
    z: np.ndarray  # Gi* z-score of every bin
    hot: np.ndarray
    cold: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    classes: np.ndarray
    first_month: int
    months_per_slice: int

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"i": self.i, "j": self.j, "class": self.classes})


def build_cube(
    i: np.ndarray,
    j: np.ndarray,
    month: np.ndarray,
    first_month: int,
    n_slices: int,
    months_per_slice: int,
    cells: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts per cell × slice. ``cells``: the cells of the study area (zeros included; events elsewhere are
    left out); without them, every cell holding at least one event."""
    slot = (np.asarray(month) - first_month) // months_per_slice
    inside = (slot >= 0) & (slot < n_slices)
    i, j, slot = i[inside], j[inside], slot[inside]
    if cells is None:
        keys = np.unique(np.stack([i, j], axis=1), axis=0) if len(i) else np.empty((0, 2), dtype=np.int64)
        ci, cj = keys[:, 0], keys[:, 1]
    else:
        ci, cj = np.asarray(cells[0], dtype=np.int64), np.asarray(cells[1], dtype=np.int64)
    if not len(ci):
        return ci, cj, np.zeros((0, n_slices))
    i0, j0 = min(ci.min(), i.min(initial=ci.min())), min(cj.min(), j.min(initial=cj.min()))
    height = int(max(cj.max(), j.max(initial=cj.max())) - j0 + 1)
    cell_key = (ci - i0) * height + (cj - j0)
    order = np.argsort(cell_key)
    event_key = (i - i0) * height + (j - j0)
    at = np.minimum(np.searchsorted(cell_key[order], event_key), len(ci) - 1)
    known = cell_key[order][at] == event_key
    row = order[at[known]]
    counts = np.bincount(row * n_slices + slot[known], minlength=len(ci) * n_slices).reshape(
        len(ci), n_slices
    )
    return ci, cj, counts.astype(float)


def analyse(
    counts: np.ndarray, i: np.ndarray, j: np.ndarray, *, lag: int = LAG, alpha: float = ALPHA
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """z, hot, cold, trend z, trend p and class of every cell of the cube ``counts`` (cells × slices)."""
    z = gistar.space_time_gi(counts, gistar.hex_adjacency(i, j), lag=lag)
    significant = gistar.fdr_significant(gistar.two_sided_p(z), alpha)
    hot, cold = significant & (z > 0), significant & (z < 0)
    _, trend_z, trend_p = gistar.mann_kendall(z)
    return z, hot, cold, trend_z, trend_p, cls.classify(hot, cold, trend_z, trend_p)


def from_points(
    x: np.ndarray,
    y: np.ndarray,
    month: np.ndarray,
    size: float,
    first_month: int,
    last_month: int,
    months_per_slice: int = 1,
    cells: tuple[np.ndarray, np.ndarray] | None = None,
) -> Result:
    """The whole analysis from Lambert-93 points and their month (months since January 1970). The slices start
    at ``first_month``; a last, incomplete slice is left out."""
    n_slices = (last_month - first_month + 1) // months_per_slice
    i, j = cell_of(x, y, size)
    ci, cj, counts = build_cube(i, j, month, first_month, n_slices, months_per_slice, cells)
    z, hot, cold, trend_z, trend_p, classes = analyse(counts, ci, cj)
    return Result(ci, cj, counts, z, hot, cold, trend_z, trend_p, classes, first_month, months_per_slice)


def method(months_per_slice: int, n_slices: int, size: float, n_cells: int) -> dict[str, Any]:
    side = "mois" if months_per_slice == 1 else "trimestres"
    return {
        "methode": "Analyse des points chauds émergents : Getis-Ord Gi* sur un cube espace-temps "
        f"(hexagones de {size:g} m × {n_slices} {side}), tendance de Mann-Kendall par cellule",
        "voisinage": "les 6 hexagones voisins et la cellule elle-même, dans la tranche et dans la tranche "
        "précédente ; poids binaires ; moyenne et écart type de tout le cube",
        "significativite": "z et p analytiques (loi normale), bilatérales : avec 999 permutations la plus "
        "petite p serait 0,001, et la correction du taux de fausses découvertes sur "
        f"{n_cells * n_slices} cases ne pourrait alors rien retenir",
        "correction": f"taux de fausses découvertes (Benjamini–Hochberg) à {ALPHA:.0%} sur toutes les cases "
        "du cube".replace("%", " %"),
        "tendance": "Mann-Kendall sur la suite des z de chaque cellule (variance corrigée des ex aequo), "
        f"seuil p < {cls.TREND_ALPHA:.2f}".replace(".", ","),
        "classes": {cls.CLASSES[f"chaud_{kind}"][0]: rule for kind, rule in cls.RULES.items()},
        "classes_froides": "les mêmes règles pour les points froids (z négatif)",
        "cellules": n_cells,
        "tranches": n_slices,
    }
