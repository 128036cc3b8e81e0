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
from observatoire.events import store as event_store
from observatoire.events.filter import SOURCES, WEEKDAYS, EventFilter, allowed_sources, for_role, where
from observatoire.events.hexgrid import count_cells

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

    For an aggregate-only role every figure under the threshold becomes « < 5 », and when the hexagon map
    of the same filter (side ``cell``) masks a cell, the totals become « au moins N » (N: what that map
    shows), so that no masked cell can be recovered as total minus the shown cells.
    """
    f = for_role(f, role)
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
    limit = disclosure.threshold_for(role, threshold)
    for key in ("total", "geolocated", "sensitive", "time_unknown"):
        result[key] = disclosure.masked(result[key], limit)
    if limit is not None:
        with engine.connect() as conn:
            cells = count_cells(conn, f, cell)["count"].to_numpy()
        shown = disclosure.total(cells, limit)
        if isinstance(shown, str):
            result["geolocated"] = shown
            if row["total"] >= limit:
                result["total"] = shown  # total ≥ geolocated ≥ the shown cells
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
    if by == "source":
        frame["label"] = frame["key"].map(SOURCES)
    elif by == "weekday":
        frame["label"] = frame["key"].map(lambda d: WEEKDAYS[int(d) - 1])
    elif by == "hour":
        frame["label"] = frame["key"].map(lambda h: f"{int(h)} h")
    return disclosure.mask_frame(frame, disclosure.threshold_for(role, threshold))


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
