"""Filtered queries on ``obs.event``, the one view of every dated, placed event (police nationale facts,
police municipale interventions, road accidents; cameras later).

Every function takes an :class:`EventFilter` and, for the views meant for a person, that person's role:
the role decides the sources queried (the police municipale sees its own) and whether small counts are
masked (:mod:`observatoire.disclosure`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import disclosure
from observatoire.errors import InputFileError
from observatoire.events import secrecy
from observatoire.events import store as event_store
from observatoire.events.filter import (
    SOURCES,
    WEEKDAYS,
    EventFilter,
    allowed_sources,
    for_role,
    unbounded,
    where,
)
from observatoire.events.hexgrid import protected_cells
from observatoire.events.secrecy import MONTH_SQL

UNCLASSIFIED = "Non classé"
BREAKDOWNS = ("source", "family", "category", "month", "weekday", "hour")


def summary(
    engine: Engine,
    f: EventFilter,
    role: str | None = None,
    *,
    threshold: int | None = None,
    cell: float = 150.0,
) -> dict[str, Any]:
    """Totals the map shows above its table: events, geolocated, sensitive, time unknown, first and last day.

    For an aggregate-only role the period is a reporting period (first and last day are its bounds) and every
    figure is protected over the calendar (:func:`observatoire.events.secrecy.totals`: « < 5 », « non diffusé
    »); and when the hexagon map of the same filter (side ``cell``) masks a cell, the totals become « au moins
    N » (N: what that map shows).
    """
    f = for_role(f, role)
    limit = disclosure.threshold_for(role, threshold)
    if limit is not None:
        return _protected_summary(engine, f, limit, cell)
    cond, params = where(f)
    with engine.connect() as conn:
        snap = event_store.snapshot(conn, f)
        row = (
            event_store.summary(snap, f)
            if snap is not None
            else conn.execute(
                sa.text(f"""
            SELECT count(*) AS total, count(e.geom) AS geolocated, count(*) FILTER (WHERE e.sensitive) AS sensitive,
                   count(*) FILTER (WHERE NOT e.time_known) AS time_unknown,
                   min(e.occurred_at)::date AS first_day, max(e.occurred_at)::date AS last_day
            FROM obs.event e WHERE {cond}"""),
                params,
            )
            .mappings()
            .one()
        )
    result = dict(row)
    result["filters"] = f.describe()
    return result


def _protected_summary(engine: Engine, f: EventFilter, limit: int, cell: float) -> dict[str, Any]:
    with engine.connect() as conn:
        base = secrecy.totals(conn, f, limit)
        cells = protected_cells(conn, f, cell, limit, base)
    result: dict[str, Any] = {key: base.shown(key) for key in secrecy.FIGURES}
    shown = disclosure.total(cells["count"].to_numpy(), limit, cells["state"].to_numpy())
    if isinstance(shown, str) and not isinstance(result["geolocated"], str):
        result["geolocated"] = shown
        if not isinstance(result["total"], str):
            result["total"] = shown  # total ≥ geolocated ≥ the shown cells
    period = base.period
    if period.start is None and base.calendar is not None:
        period = disclosure.Period(
            disclosure.month_period(base.calendar.first_year, 1).start,
            disclosure.month_period(base.calendar.last_year, 12).end,
        )
    result["first_day"], result["last_day"] = period.start, period.end
    result["period"] = base.period.label
    result["filters"] = f.describe()
    return result


def counts_by(
    engine: Engine,
    f: EventFilter,
    by: str = "category",
    role: str | None = None,
    *,
    threshold: int | None = None,
) -> pd.DataFrame:
    """Counts per source, family, category (key ``source:category``), month (``2024-03``), weekday (1–7)
    or hour (0–23): columns ``key``, ``label``, ``count``, ``masked`` and ``count_label`` (« 12 », « < 5 »)."""
    if by not in BREAKDOWNS:
        raise InputFileError(f"Ventilation inconnue : {by!r} (possibles : {', '.join(BREAKDOWNS)}).")
    f = for_role(f, role)
    cond, params = where(f)
    key, label = {
        "source": ("e.source", "e.source"),
        "family": ("COALESCE(e.family, '')", f"COALESCE(max(c.family_label), '{UNCLASSIFIED}')"),
        "category": (
            "e.source || ':' || COALESCE(e.category, '')",
            f"COALESCE(max(c.label), '{UNCLASSIFIED}')",
        ),
        "month": ("to_char(e.occurred_at, 'YYYY-MM')", "to_char(e.occurred_at, 'YYYY-MM')"),
        "weekday": ("extract(isodow FROM e.occurred_at)::int", "extract(isodow FROM e.occurred_at)::int"),
        "hour": ("extract(hour FROM e.occurred_at)::int", "extract(hour FROM e.occurred_at)::int"),
    }[by]
    extra = " AND e.time_known" if by == "hour" else ""
    with engine.connect() as conn:
        snap = event_store.snapshot(conn, f)
        frame = (
            _counts_in_memory(conn, snap, f, by)
            if snap is not None
            else pd.read_sql(
                sa.text(f"""
            SELECT {key} AS key, {label} AS label, count(*)::int AS count
            FROM obs.event e LEFT JOIN obs.event_category c ON c.source = e.source AND c.category = e.category
            WHERE {cond}{extra} GROUP BY 1{", 2" if label == key else ""} ORDER BY 1"""),
                conn,
                params=params,
            )
        )
    limit = disclosure.threshold_for(role, threshold)
    states = None
    if limit is not None:
        wide = unbounded(f)
        with engine.connect() as conn:
            cells = secrecy.protect_breakdown(
                conn,
                ("ventilation", wide, by),
                lambda: _counts_by_month(conn, wide, by, key, extra),
                ["key"],
                secrecy.totals(conn, f, limit),
                unknown_time=by == "hour",
            )
            # Empty rows masked as complements are listed too (« < 5 »: 0 to 4).
            empty = cells[(cells["state"] != disclosure.SHOWN) & ~cells["key"].isin(frame["key"])]
            if len(empty):
                names = _catalogue_labels(conn, by)
                added = pd.DataFrame(
                    {"key": empty["key"], "label": [names.get(k, k) for k in empty["key"]], "count": 0}
                )
                frame = pd.concat([frame, added], ignore_index=True).sort_values("key", ignore_index=True)
        states = (
            frame["key"].map(dict(zip(cells["key"], cells["state"], strict=True))).fillna(disclosure.SHOWN)
        )
    if by == "source":
        frame["label"] = frame["key"].map(SOURCES)
    elif by == "weekday":
        frame["label"] = frame["key"].map(lambda d: WEEKDAYS[int(d) - 1])
    elif by == "hour":
        frame["label"] = frame["key"].map(lambda h: f"{int(h)} h")
    return disclosure.mask_frame(
        frame, limit, states=None if states is None else states.astype(int).to_numpy()
    )


def _catalogue_labels(conn, by: str) -> dict[str, str]:
    """Labels of the categories (``source:category``) or families, for rows the filter's events do not name."""
    if by not in ("category", "family"):
        return {}
    sql = (
        "SELECT source || ':' || category, label FROM obs.event_category"
        if by == "category"
        else "SELECT DISTINCT family, family_label FROM obs.event_category WHERE family IS NOT NULL"
    )
    return {k: v for k, v in conn.execute(sa.text(sql)).all() if v}


def _counts_by_month(conn, f: EventFilter, by: str, key: str, extra: str) -> pd.DataFrame:
    """``key``, ``month``, ``count``: :func:`counts_by` month by month, over every date."""
    snap = event_store.snapshot(conn, f)
    if snap is not None:
        return event_store.counts_by_month(snap, f, by)
    cond, params = where(f)
    return pd.read_sql(
        sa.text(f"""
        SELECT {key} AS key, {MONTH_SQL.format(a="e")} AS month, count(*)::int AS count
        FROM obs.event e WHERE {cond}{extra} GROUP BY 1, 2"""),
        conn,
        params=params,
    )


def _counts_in_memory(conn, snap, f: EventFilter, by: str) -> pd.DataFrame:
    """``counts_by``'s frame from the events in memory, labelled from the catalogue as the SQL does: a
    category by its own label, a family by the label of its events' categories, « Non classé » without."""
    frame = event_store.counts(snap, f, by)
    if by not in ("category", "family"):
        frame["label"] = frame["key"]
        return frame[["key", "label", "count"]]
    catalogue = {
        (s, c): (label, family_label)
        for s, c, label, family_label in conn.execute(
            sa.text("SELECT source, category, label, family_label FROM obs.event_category")
        ).all()
    }
    if by == "category":
        labels = [catalogue.get(snap.pairs[code], (UNCLASSIFIED,))[0] for code in frame["code"]]
    else:
        pairs = event_store.families_of_pairs(snap, f)
        labels = [
            max((catalogue[p][1] for p in pairs.get(key, ()) if p in catalogue), default=UNCLASSIFIED)
            for key in frame["key"]
        ]
    frame["label"] = labels
    return frame[["key", "label", "count"]]


def categories(engine: Engine, role: str | None = None) -> pd.DataFrame:
    """Every category of the sources the role sees: source, category, label, family, family_label, sensitive
    — for the filters and the legend."""
    sources = list(allowed_sources(role))
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "SELECT source, category, label, family, family_label, sensitive FROM obs.event_category "
                "WHERE source = ANY(:s) ORDER BY source, position, label"
            ),
            conn,
            params={"s": sources},
        )
