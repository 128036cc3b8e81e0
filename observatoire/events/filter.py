"""What the map, its table and every event query share: the filter of events and its SQL condition on
``obs.event``, and the sources each role may see.

Kept apart from the queries so the in-memory copy (:mod:`observatoire.events.store`) and the grids can use the
filter without importing the queries that use them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from observatoire import disclosure
from observatoire.errors import InputFileError, PermissionDenied
from observatoire.french import WEEKDAYS
from observatoire.permissions import AGGREGATE_ONLY, allowed
from observatoire.sources import event_sources

# event code → French label, in the map's order; the roles seeing each come from the table of sources.
SOURCES: dict[str, str] = {s.event_code: s.label for s in event_sources() if s.event_code}


def hours_between(first: Any, last: Any) -> tuple[int, int] | None:
    """The ``hours`` of a filter from the « De / À » fields: None (all hours) when either is unset or both
    name the same hour."""
    if first is None or last is None or int(first) % 24 == int(last) % 24:
        return None
    return int(first), int(last)


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
    return tuple(s.event_code for s in event_sources() if s.event_code and role in s.map_roles)


def for_role(f: EventFilter, role: str | None) -> EventFilter:
    """The filter restricted to the role's sources; asking for another source is refused, not ignored.

    For an aggregate-only role, the period becomes a calendar month, quarter or year (or the whole period),
    the hours one of the fixed bands (or all hours) and the days of the week are dropped
    (:mod:`observatoire.disclosure`): what the browser sent never gives a finer resolution."""
    permitted = allowed_sources(role)
    unknown = [s for s in f.sources if s not in SOURCES]
    if unknown:
        raise InputFileError(f"Source inconnue : {', '.join(unknown)} (possibles : {', '.join(SOURCES)}).")
    refused = [s for s in f.sources if s not in permitted]
    if refused:
        raise PermissionDenied(f"Votre rôle ne permet pas de consulter la source « {SOURCES[refused[0]]} ».")
    f = replace(f, sources=f.sources or permitted)
    if role in AGGREGATE_ONLY:
        where(f)  # the same refusals (hours, weekdays) as for every role
        period = disclosure.reporting_period(f.start, f.end)
        f = replace(
            f, start=period.start, end=period.end, hours=disclosure.reporting_hours(f.hours), weekdays=()
        )
    return f


def period_of(f: EventFilter) -> disclosure.Period:
    """The filter's period as a reporting period (exact for a filter that went through :func:`for_role` for an
    aggregate-only role)."""
    return disclosure.reporting_period(f.start, f.end)


def unbounded(f: EventFilter) -> EventFilter:
    """The filter over every date: the calendar over which an aggregate-only role's figures are protected."""
    return replace(f, start=None, end=None)


def where(f: EventFilter, alias: str = "e") -> tuple[str, dict[str, Any]]:
    """SQL condition on ``obs.event`` (aliased) and its parameters."""
    a = alias
    clauses = ["true"]
    params: dict[str, Any] = {}
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
        clauses.append(
            f"{a}.time_known AND (extract(hour FROM {a}.occurred_at) >= :ev_h0 {joiner} "
            f"extract(hour FROM {a}.occurred_at) < :ev_h1)"
        )
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
        clauses.append(
            f"ST_Intersects({a}.geom_l93, (SELECT ST_Transform(geom, 2154) FROM obs.territory "
            "WHERE code = :ev_territory))"
        )
        params["ev_territory"] = f.territory
    return " AND ".join(clauses), params
