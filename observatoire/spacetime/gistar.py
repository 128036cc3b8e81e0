"""Getis-Ord Gi* on a space-time cube and the Mann-Kendall trend test, both vectorised over every cell.

The cube is ``counts[cell, slice]``. A bin's neighbours are the bins of the cells sharing a side with its cell
and of the cell itself (``star``), in its own slice and in the ``lag`` slices before it — the space-time
neighbourhood of the emerging hot spot analysis. Weights are binary; the mean and the standard deviation are
those of the whole cube (every bin is an observation), as in the published method.

Significance is **analytical** (normal approximation of Gi*), not by permutation: with 999 permutations the
smallest p is 0.001, and the Benjamini–Hochberg correction over 36 × 1 500 = 54 000 bins asks for p below
0.05 × k / 54 000 — about 1e-6 for the strongest bin — so a permutation p could never pass it.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse, stats

# Six neighbours of a hexagon on PostGIS' grid (odd columns shifted up by half a height).
_EVEN = ((-1, -1), (-1, 0), (1, -1), (1, 0), (0, -1), (0, 1))
_ODD = ((-1, 0), (-1, 1), (1, 0), (1, 1), (0, -1), (0, 1))


def hex_adjacency(i: np.ndarray, j: np.ndarray, star: bool = True) -> sparse.csr_matrix:
    """Binary contiguity of hexagons (i, j) as a sparse matrix, the cell itself included when ``star``."""
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    n = len(i)
    if n == 0:
        return sparse.csr_matrix((0, 0))
    i0, j0 = i.min() - 1, j.min() - 1
    height = int(j.max() - j0 + 2)
    key = (i - i0) * height + (j - j0)
    order = np.argsort(key)
    sorted_keys = key[order]
    rows, cols = [], []
    odd = (i % 2) != 0
    for parity, steps in ((False, _EVEN), (True, _ODD)):
        chosen = np.flatnonzero(odd == parity)
        for di, dj in steps:
            target = (i[chosen] + di - i0) * height + (j[chosen] + dj - j0)
            at = np.searchsorted(sorted_keys, target)
            at = np.minimum(at, n - 1)
            found = sorted_keys[at] == target
            rows.append(chosen[found])
            cols.append(order[at[found]])
    if star:
        rows.append(np.arange(n))
        cols.append(np.arange(n))
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))


def space_time_gi(counts: np.ndarray, adjacency: sparse.spmatrix, lag: int = 1) -> np.ndarray:
    """z-scores of Gi* for every bin of ``counts`` (cells × slices): neighbours in space (``adjacency``,
    the cell included) in the bin's slice and the ``lag`` previous ones."""
    x = np.asarray(counts, dtype=float)
    n_cells, n_slices = x.shape
    size = x.size
    mean = x.mean()
    sd = np.sqrt(max((x * x).mean() - mean * mean, 0.0))
    if sd == 0 or size < 2:
        return np.zeros_like(x)
    spatial = np.asarray(adjacency @ x)
    window = np.cumsum(spatial, axis=1)
    summed = window.copy()
    summed[:, lag + 1 :] -= window[:, : n_slices - lag - 1]
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    steps = np.minimum(np.arange(n_slices), lag) + 1
    w = degree[:, None] * steps[None, :]
    denominator = sd * np.sqrt(np.maximum(size * w - w * w, 0.0) / (size - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (summed - mean * w) / denominator
    return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)


def two_sided_p(z: np.ndarray) -> np.ndarray:
    return 2 * stats.norm.sf(np.abs(z))


def fdr_significant(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Benjamini–Hochberg over every value of ``p``: which are rejected at false discovery rate ``alpha``."""
    flat = np.asarray(p, dtype=float).ravel()
    m = len(flat)
    if m == 0:
        return np.zeros_like(p, dtype=bool)
    order = np.argsort(flat)
    passed = flat[order] <= alpha * np.arange(1, m + 1) / m
    keep = np.zeros(m, dtype=bool)
    if passed.any():
        keep[order[: np.flatnonzero(passed).max() + 1]] = True
    return keep.reshape(np.shape(p))


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall test of each row of ``series`` (cells × slices): S, z and two-sided p, with the variance
    corrected for ties (as ``pymannkendall.original_test``)."""
    x = np.round(np.asarray(series, dtype=float), 9)  # equal z-scores computed two ways are ties
    n = x.shape[1]
    if n < 3:
        zeros = np.zeros(x.shape[0])
        return zeros, zeros, np.ones(x.shape[0])
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    diff = np.sign(x[:, None, :] - x[:, :, None])  # [c, a, b] = sign(x_b - x_a)
    s = (diff * upper).sum(axis=(1, 2))
    equal = (x[:, :, None] == x[:, None, :]).sum(axis=2)  # size of each value's tie group, per element
    ties = ((equal - 1) * (2 * equal + 5)).sum(axis=1)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    return s, z, two_sided_p(z)
