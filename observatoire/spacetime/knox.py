"""Near-repeat analysis: the Knox test over space bands × time bands, as the Near Repeat Calculator lays it
out, with Monte Carlo significance, and the chains of events linked within the significant bands.

Every pair of events falls in one space band and one time band. The observed table counts the pairs per
band × band; the expected table is the mean of the same table over ``permutations`` random reassignments of
the dates to the places (Monte Carlo, fixed seed); a cell's p-value is ``(1 + simulations ≥ observed) /
(permutations + 1)``. Only pairs closer than the last space band change from one permutation to the next in
a way that needs counting: the totals per time band (over all pairs) and per space band do not depend on
which date sits where, so the « au-delà » row and column come from them. With one band of each, the count,
the p-value and the procedure are those of ``pointpats.spacetime.Knox`` (distance ≤ delta, |dt| ≤ tau).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

PERMUTATIONS = 999
SEED = 4112
SPACE_BANDS = (0.0, 100.0, 200.0, 300.0, 400.0)  # upper bounds in metres (0: the same place)
TIME_BANDS = (7.0, 14.0, 21.0, 28.0)  # upper bounds in days
ALPHA = 0.05


@dataclass
class Knox:
    space_bands: tuple[float, ...]
    time_bands: tuple[float, ...]
    observed: np.ndarray  # (space bands + 1) × (time bands + 1), the last row and column « au-delà »
    expected: np.ndarray
    p: np.ndarray  # Monte Carlo p-value of each cell (one-sided: more pairs than expected)
    permutations: int
    events: int

    @property
    def ratio(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.expected > 0, self.observed / self.expected, np.nan)

    def significant(self, alpha: float = ALPHA) -> np.ndarray:
        return (self.p < alpha) & (self.ratio > 1)


def _band(values: np.ndarray, uppers: tuple[float, ...]) -> np.ndarray:
    """Index of the band (``lower < v ≤ upper``, the first from 0) of each value; ``len(uppers)`` beyond."""
    return np.searchsorted(np.asarray(uppers, dtype=float), values, side="left")


def _time_band_function(t: np.ndarray, uppers: tuple[float, ...]):
    """The time band of a gap: a table lookup when dates are whole days (the usual case, and the loop of the
    permutations), else :func:`_band`."""
    if len(t) and np.all(t == np.round(t)) and max(uppers) < 100_000:
        last = int(np.floor(max(uppers)))
        table = _band(np.arange(last + 2, dtype=float), uppers).astype(np.int64)

        def lookup(gap: np.ndarray) -> np.ndarray:
            return table[np.minimum(gap, last + 1).astype(np.int64)]

        return lookup
    return lambda gap: _band(gap, uppers)


def _pairs_per_time_band(t: np.ndarray, uppers: tuple[float, ...]) -> np.ndarray:
    """Number of pairs of all events per time band (the last: beyond), from the sorted dates only."""
    s = np.sort(t)
    n = len(s)
    within = []
    for upper in uppers:
        # pairs (a < b) with s[b] - s[a] ≤ upper
        within.append(int((np.searchsorted(s, s + upper, side="right") - np.arange(n) - 1).sum()))
    cumulative = np.array([*within, n * (n - 1) // 2], dtype=float)
    return np.diff(cumulative, prepend=0.0)


def knox(
    x: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    space_bands: tuple[float, ...] = SPACE_BANDS,
    time_bands: tuple[float, ...] = TIME_BANDS,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
) -> Knox:
    """The Knox table of events at Lambert-93 ``x``, ``y`` (metres) and times ``t`` (days)."""
    x, y, t = (np.asarray(v, dtype=float) for v in (x, y, t))
    n = len(t)
    n_s, n_t = len(space_bands) + 1, len(time_bands) + 1
    tree = cKDTree(np.column_stack([x, y]))
    close = tree.query_pairs(r=max(space_bands), output_type="ndarray") if n > 1 else np.empty((0, 2), int)
    a, b = close[:, 0], close[:, 1]
    s_band = _band(np.hypot(x[a] - x[b], y[a] - y[b]), space_bands)
    per_time = _pairs_per_time_band(t, time_bands)
    per_space = np.bincount(s_band, minlength=n_s).astype(float)
    per_space[-1] = n * (n - 1) / 2 - per_space[:-1].sum()
    offset = (s_band * n_t).astype(np.int64)
    time_band = _time_band_function(t, time_bands)

    def table(times: np.ndarray) -> np.ndarray:
        inner = np.bincount(
            offset + time_band(np.abs(times[a] - times[b])), minlength=(n_s - 1) * n_t
        ).reshape(n_s - 1, n_t)
        full = np.empty((n_s, n_t))
        full[:-1] = inner
        full[-1] = per_time - inner.sum(axis=0)  # the pairs farther apart than the last band
        return full

    whole = len(t) and np.all(t == np.round(t)) and np.abs(t).max() < 2**31
    if whole:
        t = t.astype(np.int32)  # integer gaps: smaller arrays to gather at each permutation
    observed = table(t)
    rng = np.random.default_rng(seed)
    total = np.zeros_like(observed)
    above = np.zeros_like(observed)
    for _ in range(permutations):
        simulated = table(t[rng.permutation(n)])
        total += simulated
        above += simulated >= observed
    expected = (
        total / permutations if permutations else np.outer(per_space, per_time) / max(per_time.sum(), 1)
    )
    p = (above + 1) / (permutations + 1)
    return Knox(tuple(space_bands), tuple(time_bands), observed, expected, p, permutations, n)


def chains(x: np.ndarray, y: np.ndarray, t: np.ndarray, distance: float, days: float) -> np.ndarray:
    """Chain number of each event: events within ``distance`` metres and ``days`` days of each other are
    linked, and a chain is a connected group of links (-1 for an event linked to none)."""
    x, y, t = (np.asarray(v, dtype=float) for v in (x, y, t))
    n = len(t)
    if n < 2:
        return np.full(n, -1)
    close = cKDTree(np.column_stack([x, y])).query_pairs(r=distance, output_type="ndarray")
    linked = close[np.abs(t[close[:, 0]] - t[close[:, 1]]) <= days]
    graph = sparse.coo_matrix((np.ones(len(linked)), (linked[:, 0], linked[:, 1])), shape=(n, n))
    _, label = csgraph.connected_components(graph, directed=False)
    size = np.bincount(label)
    return np.where(size[label] > 1, label, -1)
