"""The counts of the event views protected over the calendar, for the aggregate-only roles
(:mod:`observatoire.disclosure`).

A view for a month, a quarter, a year or the whole period is decided together with every other period of the
same filter, so that no answer minus others gives a masked count back: the totals first (events, geolocated
events, sensitive ones, those without a time), each on its own and the same for every view; then each view's
cells (hexagons, zones, categories…) against those totals, which a reader is assumed to know (another view,
another cell size, the summary may give them).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from observatoire import disclosure
from observatoire.disclosure import SHOWN, Calendar, Period
from observatoire.events import store as event_store
from observatoire.events.filter import EventFilter, period_of, unbounded, where

TOTAL = "__total__"
OUTSIDE = "__hors_zone__"
UNKNOWN_TIME = "__heure_inconnue__"
FIGURES = ("total", "geolocated", "sensitive", "time_unknown")
# An event's month as months since January 1970 (the numbering of the copy in memory).
MONTH_SQL = (
    "((extract(year FROM {a}.occurred_at)::int - 1970) * 12 + extract(month FROM {a}.occurred_at)::int - 1)"
)


@dataclass(frozen=True)
class Totals:
    """The totals of a filter over its calendar: ``monthly`` (index: months since January 1970, columns:
    :data:`FIGURES`), then per period their ``values`` and ``states`` (rows: figures, columns: period keys)."""

    period: Period
    threshold: int
    monthly: pd.DataFrame
    calendar: Calendar | None
    values: pd.DataFrame | None
    states: pd.DataFrame | None

    @property
    def covered(self) -> bool:
        """The asked period lies in the years with events (else every figure is 0)."""
        return self.calendar is not None and self.period.key in self.calendar.position

    def at(self, name: str) -> tuple[int, int]:
        """The figure for the asked period and its state."""
        if not self.covered:
            return 0, SHOWN
        assert self.values is not None and self.states is not None
        return int(self.values.at[name, self.period.key]), int(self.states.at[name, self.period.key])

    def shown(self, name: str) -> int | str | None:
        value, state = self.at(name)
        return disclosure.shown_as(value, state, self.threshold)

    def given(self, name: str) -> np.ndarray:
        assert self.states is not None
        return self.states.loc[name].to_numpy()


_memory: dict[Hashable, Any] = {}


def remembered(conn: Connection, key: Hashable, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept for this engine and this version of the events (``obs.data_version``): moving from one
    period to another reuses the calendar's protection instead of working it out again."""
    full = (id(conn.engine), event_store.version(conn), key)
    found = _memory.get(full)
    if found is None:
        found = compute()
        event_store.remember(_memory, full, found, size=16)
    return found


def monthly_totals(conn: Connection, f: EventFilter) -> pd.DataFrame:
    """Events, geolocated ones, sensitive ones and those without a time, per month of the filter."""
    snap = event_store.snapshot(conn, f)
    if snap is not None:
        return snap.monthly(f)
    cond, params = where(f)
    frame = pd.read_sql(
        sa.text(f"""
        SELECT {MONTH_SQL.format(a="e")} AS month, count(*)::int AS total, count(e.geom)::int AS geolocated,
               count(*) FILTER (WHERE e.sensitive)::int AS sensitive,
               count(*) FILTER (WHERE NOT e.time_known)::int AS time_unknown
        FROM obs.event e WHERE {cond} GROUP BY 1 ORDER BY 1"""),
        conn,
        params=params,
    )
    return frame.set_index("month")


def totals(conn: Connection, f: EventFilter, threshold: int) -> Totals:
    """The totals of ``f`` (already restricted by :func:`~observatoire.events.filter.for_role`) protected over
    the calendar of its events."""

    def compute() -> tuple[pd.DataFrame, Calendar | None, pd.DataFrame | None, pd.DataFrame | None]:
        monthly = monthly_totals(conn, unbounded(f))
        monthly = monthly[monthly["total"] > 0]
        if monthly.empty:
            return monthly, None, None, None
        calendar = Calendar.spanning(monthly.index)
        values, states = disclosure.protect_periods(
            monthly.T.loc[list(FIGURES)], threshold, calendar=calendar
        )
        return monthly, calendar, values, states

    return Totals(period_of(f), threshold, *remembered(conn, ("totals", unbounded(f), threshold), compute))


def protect_breakdown(
    conn: Connection,
    view: Hashable,
    long: Callable[[], pd.DataFrame],
    keys: list[str],
    base: Totals,
    *,
    total: str = "total",
    complete: bool = True,
    unknown_time: bool = False,
) -> pd.DataFrame:
    """The cells of one view for the asked period, each with its ``count`` (0 included) and ``state``,
    protected over the calendar and against the figure ``total`` of ``base``.

    ``long()`` gives the view's counts over every date (the ``keys`` columns, ``month``, ``count``); ``view``
    names the view and its filter over every date (what is remembered). ``complete``: the cells add up to the
    total in every month (else only the calendar's sums hold: zones that overlap). ``unknown_time``: the cells
    leave out the events without a time, which make up the rest.
    """
    if not base.covered:
        return _empty(keys)  # no event in the period
    grid = remembered(
        conn,
        ("vue", view, base.threshold, total, complete, unknown_time),
        lambda: _grid(long(), keys, base, total, complete, unknown_time),
    )
    if grid is None:
        return _empty(keys)
    cells, values, states = grid
    key = base.period.key
    index = pd.DataFrame(cells, columns=keys) if len(keys) > 1 else pd.DataFrame({keys[0]: cells})
    index["count"] = values[key].to_numpy()[: len(cells)].astype(int)
    index["state"] = states[key].to_numpy()[: len(cells)].astype(int)
    return index


def _grid(
    long: pd.DataFrame, keys: list[str], base: Totals, total: str, complete: bool, unknown_time: bool
) -> tuple[list, pd.DataFrame, pd.DataFrame] | None:
    if long.empty:
        return None
    assert base.calendar is not None
    wide = long.pivot_table(index=keys, columns="month", values="count", aggfunc="sum", fill_value=0)
    cells = list(wide.index)
    months = wide.columns.union(base.monthly.index)
    reference = base.monthly[total].reindex(months, fill_value=0)
    wide = wide.reindex(columns=months, fill_value=0)
    wide.index = pd.Index(cells, tupleize_cols=False)
    rows = [wide, pd.DataFrame([reference.to_numpy()], index=[TOTAL], columns=months)]
    given = {TOTAL: base.given(total)}
    parts: list[Any] = list(cells)
    if unknown_time:
        unknown = base.monthly["time_unknown"].reindex(months, fill_value=0)
        rows.append(pd.DataFrame([unknown.to_numpy()], index=[UNKNOWN_TIME], columns=months))
        given[UNKNOWN_TIME] = base.given("time_unknown")
        parts.append(UNKNOWN_TIME)
    frame = pd.concat(rows)
    frame.columns = [int(c) for c in frame.columns]
    grid = frame.to_numpy()
    added = grid[: len(cells)].sum(axis=0) + (grid[-1] if unknown_time else 0)
    sums_hold = complete and bool((added == grid[len(cells)]).all())
    values, states = disclosure.protect_periods(
        frame,
        base.threshold,
        groups=[(TOTAL, parts)] if sums_hold else [],
        given=given,
        calendar=base.calendar,
    )
    return cells, values, states


def _empty(keys: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {**{k: [] for k in keys}, "count": pd.Series(dtype=int), "state": pd.Series(dtype=int)}
    )
