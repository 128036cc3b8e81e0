"""Statistical secrecy for the aggregate-only roles (BRIEF §6: anything leaving the restricted circle is
aggregated, with small counts suppressed; §7: a masking that survives differencing).

Three rules, applied on the server whatever the browser sends:

1. **Fixed reporting periods.** An aggregate-only role sees one calendar month, one quarter, one year or the
   whole period (:func:`reporting_period`): any other period is widened to the smallest of these that holds
   it, so that moving a date by a day changes nothing. Hours are widened to one of :data:`HOUR_BANDS`
   (:func:`reporting_hours`) and days of the week are ignored: the same differencing would date events to
   the hour or the day.
2. **Primary suppression.** A count from 1 to ``threshold - 1`` is shown as « < 5 ». Zeros are shown, unless
   taken as a complement (below): « < 5 » reads « from 0 to 4 ».
3. **Complementary (secondary) suppression.** Wherever a total sits beside its parts — a family and its
   types, a table and its margins, a year and its months, the map's total and its hexagons — a masked cell
   must not be recoverable from the shown ones. :func:`protect` takes the counts and the sums that link them,
   works out what a reader can deduce (the bounds of every masked cell, narrowed through the sums,
   :func:`bounds`, then checked by linear programming over all of them at once, :func:`pinned`) and masks
   further cells until no masked value is pinned down. A sum that gives a cell away on its own needs one more
   masked cell of its own: its smallest shown part (a zero first: it costs nothing and reads « < 5 »; a count
   of 5 or more reads « non diffusé »), its total only when no part is left. A cell worked out only from
   several sums gets the smallest shown part of any of them, a total (a family, a year) only when none has a
   part left. A total of a single part (a family of one type) is that part under another name: both are
   decided as one figure. :func:`protect_periods` applies it to a table over the calendar: every figure for
   a month, a quarter, a year and the whole period is decided together, so that a year minus its months
   gives nothing either.

A total over masked cells may also be given as « au moins N » (N being the sum of what is shown,
:func:`total`): it tells nothing more than the cells themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from observatoire.french import MONTHS as MONTH_NAMES
from observatoire.permissions import AGGREGATE_ONLY

SHOWN, PRIMARY, SECONDARY = 0, 1, 2
# Masked cells linked by sums beyond which the linear programming check (:func:`pinned`) is skipped.
LP_LIMIT = 2_000
SECONDARY_LABEL = "non diffusé"
# The only hour ranges an aggregate-only role may ask (first hour, last hour excluded; may wrap past midnight).
HOUR_BANDS: tuple[tuple[int, int], ...] = ((7, 19), (19, 2), (22, 6))


def threshold_for(role: str | None, threshold: int | None = None) -> int | None:
    """The masking threshold of a role: the setting ``small_count_threshold`` for the aggregate-only roles,
    None (nothing masked) for the others. ``threshold`` overrides the setting."""
    if role not in AGGREGATE_ONLY:
        return None
    if threshold is not None:
        return threshold
    from observatoire.settings import get_settings

    return get_settings().small_count_threshold


def label(threshold: int) -> str:
    return f"< {threshold}"


def is_masked(count: int | float | None, threshold: int | None) -> bool:
    """A count from 1 to ``threshold - 1`` (zeros are shown)."""
    return threshold is not None and count is not None and 0 < count < threshold


def masked(count: int | None, threshold: int | None) -> int | str | None:
    """The count, or « < 5 » when it is under the threshold."""
    return label(threshold) if is_masked(count, threshold) else count  # type: ignore[arg-type]


def shown_as(count: int | float | None, state: int, threshold: int | None) -> int | str | None:
    """What a reader gets for a count in a state: the count, « < 5 » or « non diffusé »."""
    if state == PRIMARY and threshold is not None:
        return label(threshold)
    if state == SECONDARY:
        return SECONDARY_LABEL
    return None if count is None else int(count)


def total(
    counts: list[int] | np.ndarray, threshold: int | None, states: np.ndarray | None = None
) -> int | str:
    """Exact when nothing is masked, else « au moins N » (N = sum of the shown counts), or « non détaillé »
    when every count is masked. ``states`` (from :func:`protect`) says which counts are masked; without
    them, the counts under the threshold are."""
    values = np.asarray(counts, dtype=float)
    if threshold is None:
        return int(values.sum())
    hidden = (values < threshold) & (values > 0) if states is None else np.asarray(states) != SHOWN
    if not hidden.any():
        return int(values.sum())
    shown = int(values[~hidden].sum())
    return f"au moins {shown}" if shown else "non détaillé (secret statistique)"


def mask_frame(
    frame: pd.DataFrame,
    threshold: int | None,
    column: str = "count",
    derived: tuple[str, ...] = (),
    states: Sequence[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Add ``masked`` and ``count_label``; masked rows lose their count and every derived figure (rates…).
    ``states`` (from :func:`protect`) adds the cells masked by complementary suppression (« non diffusé »)."""
    frame = frame.copy()
    if states is not None:
        state = pd.Series(np.asarray(states), index=frame.index)
    elif threshold is not None:
        state = pd.Series(
            np.where((frame[column] < threshold) & (frame[column] > 0), PRIMARY, SHOWN), index=frame.index
        )
    else:
        state = pd.Series(SHOWN, index=frame.index)
    hidden = state != SHOWN
    frame["masked"] = hidden
    frame["count_label"] = frame[column].map(lambda v: str(int(v)) if pd.notna(v) else "")
    if hidden.any():
        frame.loc[state == PRIMARY, "count_label"] = label(threshold)  # type: ignore[arg-type]
        frame.loc[state == SECONDARY, "count_label"] = SECONDARY_LABEL
        frame[column] = frame[column].astype("Float64").where(~hidden)
        for name in derived:
            frame[name] = frame[name].astype("Float64").where(~hidden)
    return frame


def cell_properties(
    count: int, threshold: int | None, state: int | None = None, **figures: Any
) -> dict[str, Any]:
    """Properties of one map feature: ``count`` (int, « < 5 » or « non diffusé »), ``masked``; the derived
    ``figures`` (rates, z-scores…) are dropped when the count is masked. Without ``state``, the threshold
    decides."""
    if state is None:
        state = PRIMARY if is_masked(count, threshold) else SHOWN
    if state != SHOWN:
        return {"count": shown_as(count, state, threshold), "masked": True}
    return {"count": int(count), "masked": False, **figures}


# --- Fixed reporting periods and hour bands ------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A reporting period: a calendar month, quarter, year, or the whole period (``start = end = None``)."""

    start: date | None
    end: date | None

    @property
    def kind(self) -> str:
        if self.start is None or self.end is None:
            return "tout"
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        return {1: "mois", 3: "trimestre"}.get(months, "annee")

    @property
    def key(self) -> str:
        """``2023-03``, ``2023-T1``, ``2023`` or ``tout``: the period's name in the calendar."""
        kind = self.kind
        if kind == "tout":
            return "tout"
        assert self.start is not None
        if kind == "mois":
            return f"{self.start:%Y-%m}"
        if kind == "trimestre":
            return f"{self.start.year}-T{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def label(self) -> str:
        """The period in French words: « mars 2023 », « 1er trimestre 2023 », « 2023 », « toute la période »."""
        kind = self.kind
        if kind == "tout":
            return "toute la période"
        assert self.start is not None
        if kind == "mois":
            return f"{MONTH_NAMES[self.start.month - 1]} {self.start.year}"
        if kind == "trimestre":
            q = (self.start.month - 1) // 3 + 1
            return f"{'1er' if q == 1 else f'{q}e'} trimestre {self.start.year}"
        return str(self.start.year)


def month_period(year: int, month: int, months: int = 1) -> Period:
    end = date(year + (month - 1 + months) // 12, (month - 1 + months) % 12 + 1, 1) - timedelta(days=1)
    return Period(date(year, month, 1), end)


def reporting_period(start: date | None, end: date | None) -> Period:
    """The smallest calendar month, quarter or year holding ``start``–``end``; the whole period when the range
    is open or spans more than a year. What an aggregate-only role gets, whatever period it asked."""
    if start is None or end is None:
        return Period(None, None)
    first, last = min(start, end), max(start, end)
    if (first.year, first.month) == (last.year, last.month):
        return month_period(first.year, first.month)
    if first.year == last.year and (first.month - 1) // 3 == (last.month - 1) // 3:
        return month_period(first.year, 3 * ((first.month - 1) // 3) + 1, 3)
    if first.year == last.year:
        return month_period(first.year, 1, 12)
    return Period(None, None)


# The parts of a year an aggregate-only role may choose, with their French labels.
YEAR_PARTS: tuple[tuple[str, str], ...] = (
    ("annee", "Toute l'année"),
    *((f"T{q}", f"{'1er' if q == 1 else f'{q}e'} trimestre") for q in range(1, 5)),
    *((f"{m:02d}", MONTH_NAMES[m - 1]) for m in range(1, 13)),
)


def period_of_choice(year: int | str | None, part: str | None = None) -> Period:
    """The period of a year (``None`` or ``"tout"``: the whole period) and one of :data:`YEAR_PARTS`."""
    if year in (None, "", "tout"):
        return Period(None, None)
    year = int(year)  # type: ignore[arg-type]
    if not part or part == "annee":
        return month_period(year, 1, 12)
    if part.startswith("T") and part[1:] in ("1", "2", "3", "4"):
        return month_period(year, 3 * (int(part[1:]) - 1) + 1, 3)
    if part.isdigit() and 1 <= int(part) <= 12:
        return month_period(year, int(part))
    return month_period(year, 1, 12)


def period_of_key(key: str) -> Period:
    """The period named ``2023-03``, ``2023-T1``, ``2023`` or ``tout``."""
    if key == "tout":
        return Period(None, None)
    if "-T" in key:
        year, q = key.split("-T")
        return month_period(int(year), 3 * (int(q) - 1) + 1, 3)
    if "-" in key:
        year, month = key.split("-")
        return month_period(int(year), int(month))
    return month_period(int(key), 1, 12)


def _hours_of(first: int, last: int) -> frozenset[int]:
    return frozenset(range(first, last) if first < last else [*range(first, 24), *range(0, last)])


def reporting_hours(hours: tuple[int, int] | None) -> tuple[int, int] | None:
    """The smallest band of :data:`HOUR_BANDS` holding the asked hours, else None (every hour)."""
    if not hours or hours[0] % 24 == hours[1] % 24:
        return None
    asked = _hours_of(hours[0] % 24, hours[1] % 24)
    holding = [band for band in HOUR_BANDS if asked <= _hours_of(*band)]
    return min(holding, key=lambda band: len(_hours_of(*band))) if holding else None


# --- Complementary suppression -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sums:
    """A block of sums: ``values[totals[r]] == sum(values[parts[r, k]])`` for every row ``r``, ``-1`` padding
    ``parts``. Indexes refer to one flat array of cells."""

    totals: np.ndarray
    parts: np.ndarray

    @staticmethod
    def of(pairs: Iterable[tuple[int, Sequence[int]]]) -> list[Sums]:
        """Blocks from (total, parts) pairs, grouped by number of parts."""
        by_size: dict[int, list[tuple[int, Sequence[int]]]] = {}
        for t, parts in pairs:
            by_size.setdefault(len(parts), []).append((t, parts))
        return [
            Sums(
                np.array([t for t, _ in group], dtype=np.int64),
                np.array([list(p) for _, p in group], dtype=np.int64).reshape(len(group), size),
            )
            for size, group in by_size.items()
            if size
        ]


def _initial_bounds(values: np.ndarray, states: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    ceiling = float(values.sum()) + threshold  # no count exceeds it: a bound a reader may take
    lo = np.where(states == SHOWN, values, np.where(states == PRIMARY, 0.0, float(threshold)))
    hi = np.where(states == SHOWN, values, np.where(states == PRIMARY, threshold - 1.0, ceiling))
    return lo, hi


def bounds(
    values: np.ndarray, states: np.ndarray, sums: Sequence[Sums], threshold: int, passes: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest value a reader can give each cell, knowing the shown counts, what each label
    means (« < 5 »: 0 to 4, « non diffusé »: at least 5) and every sum: the bounds are narrowed through the
    sums until nothing moves. A masked cell whose bounds meet is recovered."""
    values = np.asarray(values, dtype=float)
    lo, hi = _initial_bounds(values, np.asarray(states), threshold)
    for _ in range(passes):
        before_lo, before_hi = lo.copy(), hi.copy()
        for block in sums:
            t, parts = block.totals, block.parts
            valid = parts >= 0
            index = np.where(valid, parts, 0)
            plo, phi = np.where(valid, lo[index], 0.0), np.where(valid, hi[index], 0.0)
            slo, shi = plo.sum(axis=1), phi.sum(axis=1)
            tlo, thi = lo[t], hi[t]
            np.maximum.at(lo, t, slo)
            np.minimum.at(hi, t, shi)
            np.maximum.at(lo, index[valid], (tlo[:, None] - (shi[:, None] - phi))[valid])
            np.minimum.at(hi, index[valid], (thi[:, None] - (slo[:, None] - plo))[valid])
        if np.array_equal(lo, before_lo) and np.array_equal(hi, before_hi):
            break
    return lo, hi


def exposed(
    values: np.ndarray, states: np.ndarray, sums: Sequence[Sums], threshold: int, passes: int = 200
) -> np.ndarray:
    """Masked cells whose value a reader can work out from the rest (``passes``: rounds of narrowing through
    the sums; 1 looks at each sum on its own)."""
    states = np.asarray(states)
    lo, hi = bounds(values, states, sums, threshold, passes)
    return (states != SHOWN) & (hi - lo < 0.5)


def pinned(
    values: np.ndarray,
    states: np.ndarray,
    sums: Sequence[Sums],
    threshold: int,
    limit: int = LP_LIMIT,
    batch: int = LP_LIMIT,
) -> np.ndarray:
    """Masked cells whose value every sum taken together fixes, by linear programming: the smallest and the
    largest value each can take meet. Finer than :func:`bounds` (which narrows one sum at a time), slower: the
    masked cells are split into groups that share no sum, and a group of more than ``limit`` cells is left to
    :func:`bounds`. Small groups are solved together, up to ``batch`` cells a program (1: each alone)."""
    from scipy import sparse
    from scipy.optimize import linprog
    from scipy.sparse.csgraph import connected_components

    values, states = np.asarray(values, dtype=float), np.asarray(states)
    found = np.zeros(len(values), dtype=bool)
    masked = np.flatnonzero(states != SHOWN)
    if not len(masked):
        return found
    column = np.full(len(values), -1)
    column[masked] = np.arange(len(masked))
    rows, cols, signs, rhs = [], [], [], []
    n_rows = 0
    for block in sums:
        members = np.column_stack([block.totals, block.parts])
        sign = np.column_stack([np.ones(len(block.totals)), -np.ones(block.parts.shape)])
        valid = members >= 0
        index = np.where(valid, members, 0)
        hidden = valid & (column[index] >= 0)
        keep = hidden.any(axis=1)
        if not keep.any():
            continue
        index, sign, valid, hidden = index[keep], sign[keep], valid[keep], hidden[keep]
        known = valid & ~hidden
        r, k = np.nonzero(hidden)
        rows.append(r + n_rows)
        cols.append(column[index[r, k]])
        signs.append(sign[r, k])
        rhs.append(-(np.where(known, sign * values[index], 0.0)).sum(axis=1))
        n_rows += int(keep.sum())
    if not n_rows:
        return found
    a = sparse.csr_matrix(
        (np.concatenate(signs), (np.concatenate(rows), np.concatenate(cols))), shape=(n_rows, len(masked))
    )
    b = np.concatenate(rhs)
    lo, hi = _initial_bounds(values, states, threshold)
    # Cells and sums as one graph (a cell linked to its sums): its pieces are the independent groups.
    graph = sparse.bmat([[None, a], [a.T, None]], format="csr")
    n_groups, labels = connected_components(graph, directed=False)
    group = labels[n_rows:]
    rng = np.random.default_rng(0)
    for members in _batches(group, n_groups, limit, batch):
        sub = a[:, members]
        used = np.asarray(abs(sub).sum(axis=1)).ravel() > 0
        if not used.any():
            continue
        sub, sub_b = sub[used], b[used]
        box = list(zip(lo[masked[members]], hi[masked[members]], strict=True))

        def solve(c: np.ndarray, sub=sub, sub_b=sub_b, box=box) -> np.ndarray | None:
            result = linprog(c, A_eq=sub, b_eq=sub_b, bounds=box, method="highs")
            return result.x if result.status == 0 else None

        # Opposite random directions first: a cell seen at two values is not fixed; the rest one by one.
        open_ = np.ones(len(members), dtype=bool)
        quiet = 0
        while open_.any() and quiet < 2:
            weights = np.where(open_, rng.normal(size=len(members)), 0.0)
            low, high = solve(weights), solve(-weights)
            if low is None or high is None:
                break
            moved = open_ & (np.abs(high - low) >= 0.5)
            quiet = 0 if moved.any() else quiet + 1
            open_ &= ~moved
        for cell in np.flatnonzero(open_):
            c = np.zeros(len(members))
            c[cell] = 1.0
            low, high = solve(c), solve(-c)
            if (
                low is not None
                and high is not None
                and np.ceil(low[cell] - 1e-6) >= np.floor(high[cell] + 1e-6)
            ):
                found[masked[members[cell]]] = True
    return found


def _batches(group: np.ndarray, n_groups: int, limit: int, batch: int) -> list[np.ndarray]:
    """The cells of the groups of at most ``limit`` cells, small groups together up to ``batch`` cells: groups
    share no sum, so one linear program over several fixes exactly what one per group would, in fewer calls."""
    sizes = np.bincount(group, minlength=n_groups)
    batches: list[list[int]] = []
    filled = batch + 1
    for g in np.flatnonzero((sizes > 0) & (sizes <= limit)):
        if filled + sizes[g] > batch:
            batches.append([])
            filled = 0
        batches[-1].append(int(g))
        filled += int(sizes[g])
    return [np.flatnonzero(np.isin(group, b)) for b in batches]


def protect(
    values: Sequence[float] | np.ndarray,
    sums: Sequence[Sums],
    threshold: int,
    *,
    given: np.ndarray | None = None,
) -> np.ndarray:
    """The state of every cell (:data:`SHOWN`, :data:`PRIMARY`: « < 5 », :data:`SECONDARY`: « non diffusé »):
    counts from 1 to ``threshold - 1`` masked, then, while a masked value can be worked out (:func:`exposed`),
    more cells masked beside it, parts before totals (:func:`_complement`).

    ``given`` (-1: to decide) fixes the state of cells decided elsewhere (a total shared by several tables is
    decided once, alone, then given to each): they are never masked here. What no cell can protect any more
    (every part masked, the total given) stays exposed: :func:`exposed` tells.
    """
    values = np.asarray(values, dtype=float)
    states = np.where((values > 0) & (values < threshold), PRIMARY, SHOWN)
    free = np.ones(len(values), dtype=bool)
    if given is not None:
        decided = np.asarray(given) >= 0
        states[decided] = np.asarray(given)[decided]
        free[decided] = False
    # A cell that stays recoverable even with every free count masked (its sum holds only zeros and given
    # cells) would be masked for nothing: it is never taken as a complement.
    widest = np.where(free & (states == SHOWN), np.where(values < threshold, PRIMARY, SECONDARY), states)
    free &= ~exposed(values, widest, sums, threshold)
    while True:
        # Each sum on its own first (cheap, and most of the work), then the sums together.
        leaking = exposed(values, states, sums, threshold, passes=1)
        if not leaking.any():
            leaking = exposed(values, states, sums, threshold)
        if not leaking.any():
            leaking = pinned(values, states, sums, threshold)
        if not leaking.any() or not _complement(values, states, free, sums, leaking, threshold):
            return states


def _complement(
    values: np.ndarray,
    states: np.ndarray,
    free: np.ndarray,
    sums: Sequence[Sums],
    leaking: np.ndarray,
    threshold: int,
) -> bool:
    """Mask more cells where a recovered cell needs it; True if any was masked.

    A sum that gives a cell away on its own (the total minus the shown parts, or masked cells all at the end
    of their range) needs one more masked cell of its own, whatever else is done: its smallest shown part,
    the total only when no part is left. Cells worked out only from several sums at once get one more cell
    in one of them: the smallest shown part of any of them first, a total (a family, a year…) only when no
    part of any sum holding the cell is left — a total hides more, and it is what a reader looks at first."""
    lo, hi = _initial_bounds(values, states, threshold)
    top = values.max() + 1
    added = False
    for block in sums:
        m, valid = _members(block)
        rows = np.flatnonzero(_gives_away(m, valid, lo, hi, leaking))
        if len(rows):
            added |= bool(_mask_cheapest(values, states, free, m[rows], valid[rows], top, threshold).any())
    if added:
        return True
    handled = np.zeros(len(values), dtype=bool)
    for total_cost in (np.inf, top):
        for block in sums:
            m, valid = _members(block)
            open_leak = valid & leaking[m] & ~handled[m]
            rows = np.flatnonzero(open_leak.any(axis=1))
            if not len(rows):
                continue
            possible = _mask_cheapest(values, states, free, m[rows], valid[rows], total_cost, threshold)
            added |= bool(possible.any())
            # Only where a cell was masked: a sum with nothing left to mask leaves its cells to the next sums.
            handled[m[rows][open_leak[rows] & possible[:, None]]] = True
    return added


def _members(block: Sums) -> tuple[np.ndarray, np.ndarray]:
    """The cells of each sum, its total first (``-1`` padding read as cell 0), and which are real."""
    members = np.column_stack([block.totals, block.parts])
    valid = members >= 0
    return np.where(valid, members, 0), valid


def _gives_away(
    m: np.ndarray, valid: np.ndarray, lo: np.ndarray, hi: np.ndarray, leaking: np.ndarray
) -> np.ndarray:
    """The sums that, on their own and with what each label says, pin one of their recovered cells."""
    sign = np.ones(m.shape)
    sign[:, 1:] = -1.0
    # total - parts = 0: each member's range from the others' (its own bounds taken out of the row's).
    low = np.where(valid, np.where(sign > 0, lo[m], -hi[m]), 0.0)
    high = np.where(valid, np.where(sign > 0, hi[m], -lo[m]), 0.0)
    rest_low, rest_high = low.sum(axis=1)[:, None] - low, high.sum(axis=1)[:, None] - high
    # sign * x = -(rest) → x between -rest_high and -rest_low (times sign).
    own_low = np.where(sign > 0, -rest_high, rest_low)
    own_high = np.where(sign > 0, -rest_low, rest_high)
    width = np.minimum(hi[m], own_high) - np.maximum(lo[m], own_low)
    return (valid & leaking[m] & (width < 0.5)).any(axis=1)


def _mask_cheapest(
    values: np.ndarray,
    states: np.ndarray,
    free: np.ndarray,
    m: np.ndarray,
    valid: np.ndarray,
    total_cost: float,
    threshold: int,
) -> np.ndarray:
    """Mask the smallest shown part of each sum (rows of ``m``, total first), the total costing
    ``total_cost`` more (``inf``: never); which sums got one."""
    cost = np.where(valid & (states[m] == SHOWN) & free[m], values[m], np.inf)
    cost[:, 0] += total_cost
    at = np.arange(len(m))
    choice = np.argmin(cost, axis=1)
    possible = np.isfinite(cost[at, choice])
    picked = m[at, choice][possible]
    states[picked] = np.where(values[picked] < threshold, PRIMARY, SECONDARY)
    return possible


# --- The calendar: months, quarters, years, the whole period --------------------------------------------------


def month_index(day: date) -> int:
    """Months since January 1970 (the ``datetime64[M]`` numbering)."""
    return (day.year - 1970) * 12 + day.month - 1


class Calendar:
    """The reporting periods over whole years: every month, quarter and year, and the whole period, each a
    node; a quarter is the sum of its months, a year of its quarters, the whole period of its years."""

    def __init__(self, first_year: int, last_year: int) -> None:
        self.first_year, self.last_year = first_year, last_year
        years = range(first_year, last_year + 1)
        self.months = [month_index(date(y, m, 1)) for y in years for m in range(1, 13)]
        self.periods: list[Period] = (
            [month_period(y, m) for y in years for m in range(1, 13)]
            + [month_period(y, 3 * q + 1, 3) for y in years for q in range(4)]
            + [month_period(y, 1, 12) for y in years]
            + [Period(None, None)]
        )
        self.keys = [p.key for p in self.periods]
        self.position = {k: i for i, k in enumerate(self.keys)}
        n_years, n_months = len(years), 12 * len(years)
        quarters, year_nodes, whole = n_months, n_months + 4 * n_years, len(self.periods) - 1
        self.children: list[tuple[int, list[int]]] = [
            (quarters + q, [3 * q, 3 * q + 1, 3 * q + 2]) for q in range(4 * n_years)
        ]
        self.children += [(year_nodes + y, [quarters + 4 * y + q for q in range(4)]) for y in range(n_years)]
        self.children.append((whole, [year_nodes + y for y in range(n_years)]))
        self.membership = np.zeros((len(self.periods), n_months))
        self.membership[:n_months, :] = np.eye(n_months)
        for parent, kids in self.children:  # in order: quarters, then years, then the whole
            self.membership[parent] = self.membership[kids].sum(axis=0)

    @classmethod
    def spanning(cls, months: Iterable[int], period: Period | None = None) -> Calendar:
        """The whole years of the ``months`` (indexes) with data, and of ``period``."""
        years = {1970 + m // 12 for m in months}
        if period is not None and period.start is not None:
            years.add(period.start.year)
        if not years:
            years = {date.today().year}
        return cls(min(years), max(years))

    def __len__(self) -> int:
        return len(self.periods)

    def columns(self, monthly: pd.DataFrame) -> np.ndarray:
        """``monthly`` (columns: month indexes) as figures per period (columns: :attr:`keys`)."""
        grid = np.zeros((len(monthly), len(self.months)))
        where = {m: k for k, m in enumerate(self.months)}
        for column in monthly.columns:
            grid[:, where[int(column)]] = monthly[column].to_numpy(dtype=float)
        return grid @ self.membership.T


def protect_periods(
    monthly: pd.DataFrame,
    threshold: int,
    *,
    groups: Sequence[tuple[Any, Sequence[Any]]] = (),
    given: dict[Any, np.ndarray] | None = None,
    calendar: Calendar | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts and states of a table for every reporting period, decided together.

    ``monthly``: one row per figure (a hexagon, a type, a family, a total…), one column per month index, the
    counts. ``groups``: (total row, part rows) sums that hold in every period. ``given``: the states, per
    period (:attr:`Calendar.keys` order), of rows decided elsewhere. Returns (counts, states), rows as
    ``monthly``, columns the calendar's period keys.
    """
    calendar = calendar or Calendar.spanning(monthly.columns)
    same = _same_rows(groups, given or {})
    if same:
        # A total of one part is that part under another name (a family of a single type): decided as one
        # row, else masking the part would force masking the total.
        kept = monthly.loc[[r for r in monthly.index if same.get(r, r) == r]]
        merged = [
            (same.get(t, t), [same.get(p, p) for p in parts])
            for t, parts in groups
            if len({same.get(t, t), *(same.get(p, p) for p in parts)}) > 1
        ]
        values_of, states_of = protect_periods(kept, threshold, groups=merged, given=given, calendar=calendar)
        reps = [same.get(r, r) for r in monthly.index]
        return (
            values_of.loc[reps].set_axis(monthly.index, axis=0),
            states_of.loc[reps].set_axis(monthly.index, axis=0),
        )
    rows = list(monthly.index)
    where = {r: k for k, r in enumerate(rows)}
    n = len(calendar)
    values = calendar.columns(monthly)

    def flat(row: int, node: int | np.ndarray) -> Any:
        return row * n + node

    pairs: list[tuple[int, Sequence[int]]] = []
    for parent, kids in calendar.children:
        for r in range(len(rows)):
            pairs.append((flat(r, parent), [flat(r, k) for k in kids]))
    for total_row, part_rows in groups:
        parts = [where[p] for p in part_rows]
        for node in range(n):
            pairs.append((flat(where[total_row], node), [flat(p, node) for p in parts]))
    fixed = None
    if given:
        fixed = np.full(len(rows) * n, -1)
        for row, states_of_row in given.items():
            fixed[where[row] * n : (where[row] + 1) * n] = states_of_row
    states = protect(values.ravel(), Sums.of(pairs), threshold, given=fixed).reshape(len(rows), n)
    return (
        pd.DataFrame(values, index=monthly.index, columns=calendar.keys),
        pd.DataFrame(states, index=monthly.index, columns=calendar.keys),
    )


def _same_rows(groups: Sequence[tuple[Any, Sequence[Any]]], given: dict[Any, np.ndarray]) -> dict[Any, Any]:
    """Row → the row it equals, through the sums of a single part (a row decided elsewhere stands for the
    others; two such rows are left apart)."""
    lead: dict[Any, Any] = {}

    def find(row: Any) -> Any:
        while row in lead:
            row = lead[row]
        return row

    for total, parts in groups:
        if len(parts) != 1:
            continue
        a, b = find(total), find(parts[0])
        if a == b or (a in given and b in given):
            continue
        if b in given:
            a, b = b, a
        lead[b] = a
    return {row: find(row) for row in lead}
