"""Filtered queries on ``obs.event``, the one view of every dated, placed event (police nationale facts,
police municipale interventions, road accidents; cameras later).

Every function takes an :class:`EventFilter` and, for the views meant for a person, that person's role:
the role decides the sources queried (the police municipale sees its own) and whether small counts are
masked (:mod:`observatoire.disclosure`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import disclosure
from observatoire.errors import InputFileError, PermissionDenied
from observatoire.permissions import allowed

SOURCES: dict[str, str] = {
    "pn": "Police nationale (faits constatés)",
    "pm": "Police municipale (interventions)",
    "routes": "Accidents corporels de la route (ONISR)",
}
# Roles that see only some sources; every other role allowed on the map sees them all.
ROLE_SOURCES: dict[str, tuple[str, ...]] = {"police_municipale": ("pm",)}
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
UNCLASSIFIED = "Non classé"
BREAKDOWNS = ("source", "family", "category", "month", "weekday", "hour")


@dataclass(frozen=True)
class EventFilter:
    """What the map and its table show. Empty tuples mean « all ».

    ``hours`` is ``(first, last)`` in whole hours, ``last`` excluded; ``(18, 6)`` wraps past midnight
    (18:00–05:59, the « soirées »). Events whose time is unknown are left out when hours are asked.
    ``weekdays`` are ISO numbers (1 = lundi … 7 = dimanche). ``end`` is included. ``territory`` is a
    territory code (``COM:04112``, ``IRIS:…``, ``QPV:…``) whose outline holds the events. ``categories``
    may be qualified by their source (``pn:cambriolages``) where two sources use the same code.
    """

    sources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    hours: tuple[int, int] | None = None
    weekdays: tuple[int, ...] = ()
    territory: str | None = None
    sensitive: bool | None = None  # None: both; False: only the non-sensitive ones; True: only the sensitive

    def describe(self) -> dict[str, Any]:
        """The filter in French words, for legends and method blocks."""
        period = "toute la période"
        if self.start and self.end:
            period = f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"
        elif self.start:
            period = f"depuis le {self.start:%d/%m/%Y}"
        elif self.end:
            period = f"jusqu'au {self.end:%d/%m/%Y}"
        hours = "toutes les heures"
        if self.hours and self.hours[0] != self.hours[1]:
            hours = f"de {self.hours[0]} h à {self.hours[1]} h"
        return {
            "sources": [SOURCES.get(s, s) for s in self.sources] or ["toutes les sources"],
            "periode": period,
            "heures": hours,
            "jours": [WEEKDAYS[d - 1] for d in sorted(self.weekdays)] or ["tous les jours"],
            "categories": list(self.categories) or ["toutes"],
            "familles": list(self.families) or ["toutes"],
            "territoire": self.territory or "tout le territoire chargé",
        }


def allowed_sources(role: str | None) -> tuple[str, ...]:
    """Sources a role may query; ``None`` (CLI, batch work) means every source."""
    if role is None:
        return tuple(SOURCES)
    if not allowed(role, "carte.voir"):
        raise PermissionDenied("Votre rôle ne permet pas de consulter la carte des événements.")
    return ROLE_SOURCES.get(role, tuple(SOURCES))


def for_role(f: EventFilter, role: str | None) -> EventFilter:
    """The filter restricted to the role's sources; asking for another source is refused, not ignored."""
    permitted = allowed_sources(role)
    unknown = [s for s in f.sources if s not in SOURCES]
    if unknown:
        raise InputFileError(f"Source inconnue : {', '.join(unknown)} (possibles : {', '.join(SOURCES)}).")
    refused = [s for s in f.sources if s not in permitted]
    if refused:
        raise PermissionDenied(f"Votre rôle ne permet pas de consulter la source « {SOURCES[refused[0]]} ».")
    return replace(f, sources=f.sources or permitted)


def where(f: EventFilter, alias: str = "e") -> tuple[str, dict[str, Any]]:
    """SQL condition on ``obs.event`` (aliased) and its parameters."""
    a = alias
    clauses, params = ["true"], {}
    if f.sources:
        clauses.append(f"{a}.source = ANY(:ev_sources)")
        params["ev_sources"] = list(f.sources)
    if f.categories:
        plain = [c for c in f.categories if ":" not in c]
        qualified = [c for c in f.categories if ":" in c]
        parts = []
        if plain:
            parts.append(f"{a}.category = ANY(:ev_categories)")
            params["ev_categories"] = plain
        if qualified:
            parts.append(f"({a}.source || ':' || {a}.category) = ANY(:ev_qualified)")
            params["ev_qualified"] = qualified
        clauses.append("(" + " OR ".join(parts) + ")")
    if f.families:
        clauses.append(f"{a}.family = ANY(:ev_families)")
        params["ev_families"] = list(f.families)
    if f.start:
        clauses.append(f"{a}.occurred_at >= :ev_start")
        params["ev_start"] = f.start
    if f.end:
        clauses.append(f"{a}.occurred_at < :ev_end")
        params["ev_end"] = f.end + timedelta(days=1)
    if f.hours and f.hours[0] != f.hours[1]:
        first, last = f.hours
        if not (0 <= first <= 24 and 0 <= last <= 24):
            raise InputFileError(f"Plage horaire invalide : {first} h – {last} h (heures de 0 à 24).")
        joiner = "AND" if first < last else "OR"  # 18 → 6 wraps past midnight
        clauses.append(f"{a}.time_known AND (extract(hour FROM {a}.occurred_at) >= :ev_h0 {joiner} "
                       f"extract(hour FROM {a}.occurred_at) < :ev_h1)")
        params.update(ev_h0=first, ev_h1=last)
    if f.weekdays:
        bad = [d for d in f.weekdays if not 1 <= d <= 7]
        if bad:
            raise InputFileError(f"Jour de semaine invalide : {bad[0]} (1 = lundi … 7 = dimanche).")
        clauses.append(f"extract(isodow FROM {a}.occurred_at) = ANY(:ev_days)")
        params["ev_days"] = sorted(set(f.weekdays))
    if f.sensitive is not None:
        clauses.append(f"{a}.sensitive = :ev_sensitive")
        params["ev_sensitive"] = f.sensitive
    if f.territory:
        # The outline is transformed once; the events' Lambert-93 index does the rest.
        clauses.append(f"ST_Intersects({a}.geom_l93, (SELECT ST_Transform(geom, 2154) FROM obs.territory "
                       "WHERE code = :ev_territory))")
        params["ev_territory"] = f.territory
    return " AND ".join(clauses), params


def summary(engine: Engine, f: EventFilter, role: str | None = None, *, threshold: int | None = None,
            cell: float = 150.0) -> dict[str, Any]:
    """Totals the map shows above its table: events, geolocated, sensitive, time unknown, first and last day.

    For an aggregate-only role every figure under the threshold becomes « < 5 », and when the hexagon map
    of the same filter (side ``cell``) masks a cell, the totals become « au moins N » (N: what that map
    shows), so that no masked cell can be recovered as total minus the shown cells.
    """
    from observatoire import event_store

    f = for_role(f, role)
    cond, params = where(f)
    with engine.connect() as conn:
        snap = event_store.snapshot(conn, f)
        row = event_store.summary(snap, f) if snap is not None else conn.execute(sa.text(f"""
            SELECT count(*) AS total, count(e.geom) AS geolocated, count(*) FILTER (WHERE e.sensitive) AS sensitive,
                   count(*) FILTER (WHERE NOT e.time_known) AS time_unknown,
                   min(e.occurred_at)::date AS first_day, max(e.occurred_at)::date AS last_day
            FROM obs.event e WHERE {cond}"""), params).mappings().one()
    result = dict(row)
    limit = disclosure.threshold_for(role, threshold)
    for key in ("total", "geolocated", "sensitive", "time_unknown"):
        result[key] = disclosure.masked(result[key], limit)
    if limit is not None:
        from observatoire.hexgrid import count_cells

        with engine.connect() as conn:
            cells = count_cells(conn, f, cell)["count"].to_numpy()
        shown = disclosure.total(cells, limit)
        if isinstance(shown, str):
            result["geolocated"] = shown
            if row["total"] >= limit:
                result["total"] = shown  # total ≥ geolocated ≥ the shown cells
    result["filters"] = f.describe()
    return result


def counts_by(engine: Engine, f: EventFilter, by: str = "category", role: str | None = None, *,
              threshold: int | None = None) -> pd.DataFrame:
    """Counts per source, family, category (key ``source:category``), month (``2024-03``), weekday (1–7)
    or hour (0–23): columns ``key``, ``label``, ``count``, ``masked`` and ``count_label`` (« 12 », « < 5 »)."""
    if by not in BREAKDOWNS:
        raise InputFileError(f"Ventilation inconnue : {by!r} (possibles : {', '.join(BREAKDOWNS)}).")
    f = for_role(f, role)
    cond, params = where(f)
    key, label = {
        "source": ("e.source", "e.source"),
        "family": ("COALESCE(e.family, '')", f"COALESCE(max(c.family_label), '{UNCLASSIFIED}')"),
        "category": ("e.source || ':' || COALESCE(e.category, '')", f"COALESCE(max(c.label), '{UNCLASSIFIED}')"),
        "month": ("to_char(e.occurred_at, 'YYYY-MM')", "to_char(e.occurred_at, 'YYYY-MM')"),
        "weekday": ("extract(isodow FROM e.occurred_at)::int", "extract(isodow FROM e.occurred_at)::int"),
        "hour": ("extract(hour FROM e.occurred_at)::int", "extract(hour FROM e.occurred_at)::int"),
    }[by]
    extra = " AND e.time_known" if by == "hour" else ""
    from observatoire import event_store

    with engine.connect() as conn:
        snap = event_store.snapshot(conn, f)
        frame = _counts_in_memory(conn, snap, f, by) if snap is not None else pd.read_sql(sa.text(f"""
            SELECT {key} AS key, {label} AS label, count(*)::int AS count
            FROM obs.event e LEFT JOIN obs.event_category c ON c.source = e.source AND c.category = e.category
            WHERE {cond}{extra} GROUP BY 1{', 2' if label == key else ''} ORDER BY 1"""), conn, params=params)
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
    from observatoire import event_store

    frame = event_store.counts(snap, f, by)
    if by not in ("category", "family"):
        frame["label"] = frame["key"]
        return frame[["key", "label", "count"]]
    catalogue = {(s, c): (label, family_label) for s, c, label, family_label in conn.execute(sa.text(
        "SELECT source, category, label, family_label FROM obs.event_category")).all()}
    if by == "category":
        labels = [catalogue.get(snap.pairs[code], (UNCLASSIFIED,))[0] for code in frame["code"]]
    else:
        pairs = event_store.families_of_pairs(snap, f)
        labels = [max((catalogue[p][1] for p in pairs.get(key, ()) if p in catalogue), default=UNCLASSIFIED)
                  for key in frame["key"]]
    frame["label"] = labels
    return frame[["key", "label", "count"]]


def categories(engine: Engine, role: str | None = None) -> pd.DataFrame:
    """Every category of the sources the role sees: source, category, label, family, family_label, sensitive
    — for the filters and the legend."""
    sources = list(allowed_sources(role))
    with engine.connect() as conn:
        return pd.read_sql(sa.text(
            "SELECT source, category, label, family, family_label, sensitive FROM obs.event_category "
            "WHERE source = ANY(:s) ORDER BY source, position, label"), conn, params={"s": sources})
