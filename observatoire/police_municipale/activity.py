"""Police municipale activity as DataFrames: by family and type, by month, weekday × hour, by zone.

Every function takes the same filters (period, families, types) and, for views meant for the
aggregate-only roles, a threshold under which counts are masked (``NaN`` and ``masked = True``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire.events.filter import EventFilter
from observatoire.events.spatial import COMMUNE_ZONES, tally_zones

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
UNCLASSIFIED = "Non classé"
ZONE_LEVELS = ("iris", "qpv", "secteur")


def _where(
    start: date | None, end: date | None, families: list[str] | None, types: list[str] | None
) -> tuple[str, dict[str, Any]]:
    clauses, params = ["true"], {}
    if start:
        clauses.append("i.occurred_at >= :start")
        params["start"] = start
    if end:
        clauses.append("i.occurred_at < :end")
        params["end"] = end + timedelta(days=1)
    if families:
        clauses.append("i.family_code = ANY(:families)")
        params["families"] = list(families)
    if types:
        clauses.append("i.type_code = ANY(:types)")
        params["types"] = list(types)
    return " AND ".join(clauses), params


def _frame(engine: Engine, sql: str, params: dict[str, Any], threshold: int | None) -> pd.DataFrame:
    with engine.connect() as conn:
        return _masked(pd.read_sql(sa.text(sql), conn, params=params), threshold)


def _masked(frame: pd.DataFrame, threshold: int | None) -> pd.DataFrame:
    if threshold:
        frame["masked"] = frame["count"] < threshold
        frame["count"] = frame["count"].where(~frame["masked"])
    return frame


def by_type(
    engine: Engine,
    start: date | None = None,
    end: date | None = None,
    *,
    families: list[str] | None = None,
    types: list[str] | None = None,
    threshold: int | None = None,
) -> pd.DataFrame:
    """family_code, family, type_code, type, sensitive, count — the unclassified labels as « Non classé »."""
    where, params = _where(start, end, families, types)
    # Counted per code first, named after: the labels are joined to a few dozen groups, not to every row.
    return _frame(
        engine,
        f"""
        SELECT c.family_code, COALESCE(f.label, '{UNCLASSIFIED}') AS family, c.type_code,
               COALESCE(t.label, '{UNCLASSIFIED}') AS type, COALESCE(t.sensitive, false) AS sensitive, c.count
        FROM (SELECT i.family_code, i.type_code, count(*)::int AS count FROM obs.pm_intervention i
              WHERE {where} GROUP BY 1, 2) c
             LEFT JOIN obs.pm_intervention_type t ON t.code = c.type_code
             LEFT JOIN obs.pm_family f ON f.code = c.family_code
        ORDER BY f.position NULLS LAST, c.count DESC""",
        params,
        threshold,
    )


def by_month(
    engine: Engine,
    start: date | None = None,
    end: date | None = None,
    *,
    families: list[str] | None = None,
    types: list[str] | None = None,
    threshold: int | None = None,
) -> pd.DataFrame:
    """month (first day), family_code, family, count."""
    where, params = _where(start, end, families, types)
    return _frame(
        engine,
        f"""
        SELECT c.month, c.family_code, COALESCE(f.label, '{UNCLASSIFIED}') AS family, c.count
        FROM (SELECT date_trunc('month', i.occurred_at)::date AS month, i.family_code, count(*)::int AS count
              FROM obs.pm_intervention i WHERE {where} GROUP BY 1, 2) c
             LEFT JOIN obs.pm_family f ON f.code = c.family_code
        ORDER BY 1, 2""",
        params,
        threshold,
    )


def weekday_hour(
    engine: Engine,
    start: date | None = None,
    end: date | None = None,
    *,
    families: list[str] | None = None,
    types: list[str] | None = None,
    threshold: int | None = None,
) -> pd.DataFrame:
    """weekday (1 = lundi), weekday_label, hour, count — every one of the 7 × 24 cells, zeros included;
    interventions without a known time are left out (their number is in :func:`summary`)."""
    where, params = _where(start, end, families, types)
    frame = _frame(
        engine,
        f"""
        SELECT d.weekday, h.hour, COALESCE(c.count, 0)::int AS count
        FROM generate_series(1, 7) d(weekday) CROSS JOIN generate_series(0, 23) h(hour)
        LEFT JOIN (SELECT extract(isodow FROM i.occurred_at)::int AS weekday, extract(hour FROM i.occurred_at)::int
                          AS hour, count(*) AS count
                   FROM obs.pm_intervention i WHERE i.time_known AND {where} GROUP BY 1, 2) c
             ON c.weekday = d.weekday AND c.hour = h.hour
        ORDER BY 1, 2""",
        params,
        threshold,
    )
    frame.insert(1, "weekday_label", frame["weekday"].map(lambda d: WEEKDAYS[d - 1]))
    return frame


def by_zone(
    engine: Engine,
    level: str = "iris",
    start: date | None = None,
    end: date | None = None,
    *,
    commune: str = "04112",
    families: list[str] | None = None,
    types: list[str] | None = None,
    threshold: int | None = None,
) -> pd.DataFrame:
    """code, name, count per IRIS or QPV (points in the zone's outline, boundary included, counted as on the
    map) or per sector written in the files; a last row counts what no zone holds (outside the zones, or not
    geolocated)."""
    if level not in ZONE_LEVELS:
        raise ValueError(f"niveau inconnu : {level!r} (possibles : {', '.join(ZONE_LEVELS)})")
    where, params = _where(start, end, families, types)
    if level == "secteur":
        return _frame(
            engine,
            f"""
            SELECT COALESCE(i.sector, '') AS code, COALESCE(i.sector, 'Secteur non renseigné') AS name,
                   count(*)::int AS count
            FROM obs.pm_intervention i WHERE {where} GROUP BY 1, 2 ORDER BY count DESC""",
            params,
            threshold,
        )
    with engine.connect() as conn:
        zones = conn.execute(
            sa.text(f"""
            SELECT z.code, z.name, ST_AsBinary(ST_Transform(z.geom, 2154)) AS wkb_l93 FROM obs.territory z
            WHERE {COMMUNE_ZONES} ORDER BY z.code"""),
            {"level": level, "com": f"COM:{commune}"},
        ).all()
        # The interventions as events of the map: the same filter, the same counting (in memory on the dashboard).
        f = EventFilter(
            sources=("pm",),
            categories=tuple(types or ()),
            families=tuple(families or ()),
            start=start,
            end=end,
        )
        counts, total, _ = tally_zones(conn, f, zones)
    rows = sorted(((z.code, z.name, counts[z.code]) for z in zones), key=lambda r: -r[2])
    rows.append(("", "Hors zone ou non géolocalisé", max(total - sum(counts.values()), 0)))
    return _masked(pd.DataFrame(rows, columns=["code", "name", "count"]), threshold)


def summary(
    engine: Engine,
    start: date | None = None,
    end: date | None = None,
    *,
    families: list[str] | None = None,
    types: list[str] | None = None,
) -> dict[str, Any]:
    """Totals the page shows above its charts."""
    where, params = _where(start, end, families, types)
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text(f"""
            SELECT count(*) AS total, count(*) FILTER (WHERE geocoding_status = 'coordonnees') AS coordonnees,
                   count(*) FILTER (WHERE geocoding_status = 'geocode') AS geocodees,
                   count(*) FILTER (WHERE geocoding_status = 'non_geolocalise') AS non_geolocalisees,
                   count(*) FILTER (WHERE NOT time_known) AS heure_inconnue,
                   count(*) FILTER (WHERE type_code IS NULL) AS non_classees,
                   min(occurred_at) AS premiere, max(occurred_at) AS derniere
            FROM obs.pm_intervention i WHERE {where}"""),
                params,
            )
            .mappings()
            .one()
        )
    return dict(row)


def origins(
    engine: Engine,
    start: date | None = None,
    end: date | None = None,
    *,
    families: list[str] | None = None,
    types: list[str] | None = None,
    threshold: int | None = None,
) -> pd.DataFrame:
    """origin (initiative / appel / demande / autre / non renseignée), count."""
    where, params = _where(start, end, families, types)
    return _frame(
        engine,
        f"""
        SELECT COALESCE(i.origin, 'non_renseignee') AS origin, count(*)::int AS count
        FROM obs.pm_intervention i WHERE {where} GROUP BY 1 ORDER BY count DESC""",
        params,
        threshold,
    )
