"""The synthesis for the conseil: for every loaded source the role may see (derived from
:data:`observatoire.sources.SOURCES`, so a new source appears by itself), its latest figures, their change on
the previous period, whether that change exceeds chance (exact test of two Poisson counts), the
département's change over the same period, and the page giving the detail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import disclosure
from observatoire.permissions import allowed
from observatoire.police_nationale.significance import poisson_test
from observatoire.sources import SOURCES


@dataclass
class Trend:
    label: str
    latest_period: str
    previous_period: str
    latest: int
    previous: int
    dep_latest: int | None = None
    dep_previous: int | None = None

    @property
    def change(self) -> float | None:
        return None if not self.previous else 100 * (self.latest - self.previous) / self.previous

    @property
    def dep_change(self) -> float | None:
        if not self.dep_previous or self.dep_latest is None:
            return None
        return 100 * (self.dep_latest - self.dep_previous) / self.dep_previous

    @property
    def p_value(self) -> float:
        # equal exposures: two periods of the same length on the same territory
        return poisson_test(self.previous, 1.0, self.latest, 1.0)


def _departement(commune: str) -> str:
    return f"DEP:{commune[:3] if commune.startswith('97') else commune[:2]}"


def _ssmsi(conn: Connection, commune: str) -> list[Trend]:
    rows = conn.execute(
        sa.text(
            """
            WITH ed AS (SELECT max(edition) AS e FROM obs.pn_stat WHERE territory_code = :com),
                 yr AS (SELECT max(year) AS y FROM obs.pn_stat, ed
                        WHERE edition = ed.e AND territory_code = :com AND count IS NOT NULL)
            SELECT i.label, i.id, s.territory_code AS tcode, s.year, s.count AS n
            FROM obs.pn_stat s JOIN obs.pn_indicator i ON i.id = s.indicator_id, ed, yr
            WHERE s.edition = ed.e AND s.territory_code IN (:com, :dep) AND s.year IN (yr.y, yr.y - 1)
            ORDER BY i.label"""
        ),
        {"com": f"COM:{commune}", "dep": _departement(commune)},
    ).all()
    if not rows:
        return []
    last = max(r.year for r in rows)
    found: dict[str, dict[tuple[str, int], int | None]] = {}
    for r in rows:
        found.setdefault(r.label, {})[(r.tcode, r.year)] = r.n
    out = []
    for label, values in found.items():
        latest, previous = values.get((f"COM:{commune}", last)), values.get((f"COM:{commune}", last - 1))
        if latest is None or previous is None:
            continue
        dep = _departement(commune)
        out.append(
            Trend(
                label,
                str(last),
                str(last - 1),
                latest,
                previous,
                values.get((dep, last)),
                values.get((dep, last - 1)),
            )
        )
    return out


def _yearly(sql: str, label: str) -> Callable[[Connection, str], list[Trend]]:
    """A source counted by whole years (``sql`` gives year, commune count, département count)."""

    def trend(conn: Connection, commune: str) -> list[Trend]:
        rows = conn.execute(
            sa.text(sql), {"c": commune, "com": f"COM:{commune}", "d": _departement(commune)[4:]}
        ).all()
        if len(rows) < 2:
            return []
        (y0, c0, d0), (y1, c1, d1) = rows[-2], rows[-1]
        return [Trend(label, str(y1), str(y0), int(c1), int(c0), d1, d0)]

    return trend


def _twelve_months(table: str, label: str, where: str = "true") -> Callable[[Connection, str], list[Trend]]:
    """A dated source: the last twelve months of data against the twelve before (the month of the last event
    counts when that event is on its last day, otherwise the window ends the month before: it may be partial)."""

    def trend(conn: Connection, commune: str) -> list[Trend]:
        row = conn.execute(
            sa.text(
                f"""
                WITH e AS (SELECT date_trunc('month', max(occurred_at) + interval '1 day') AS m FROM {table}
                           WHERE {where})
                SELECT (e.m - interval '12 months')::date AS a, (e.m - interval '1 month')::date AS b,
                       (e.m - interval '24 months')::date AS z, (e.m - interval '13 months')::date AS y,
                       count(*) FILTER (WHERE occurred_at >= e.m - interval '12 months' AND occurred_at < e.m) AS latest,
                       count(*) FILTER (WHERE occurred_at >= e.m - interval '24 months'
                                        AND occurred_at < e.m - interval '12 months') AS previous,
                       min(occurred_at) < e.m - interval '23 months' AS covered
                FROM {table}, e WHERE {where} GROUP BY e.m"""
            )
        ).first()
        if row is None or not row.covered:
            return []
        latest = f"{row.a:%m/%Y} – {row.b:%m/%Y}"
        previous = f"{row.z:%m/%Y} – {row.y:%m/%Y}"
        return [Trend(label, latest, previous, int(row.latest), int(row.previous))]

    return trend


# How each source's trend is read; a source absent here still appears, with its latest period and row count.
TRENDS: dict[str, tuple[Callable[[Connection, str], list[Trend]], str]] = {
    "ssmsi": (_ssmsi, "/comparaisons"),
    "etat4001": (
        _yearly(
            "SELECT year, sum(count) AS c, NULL::bigint AS d FROM obs.etat4001_count WHERE territory_code = :com "
            "GROUP BY year HAVING count(DISTINCT month) = 12 ORDER BY year",
            "Faits constatés (état 4001, années complètes)",
        ),
        "/comparaisons",
    ),
    "pm": (_twelve_months("obs.pm_intervention", "Interventions de police municipale"), "/police-municipale"),
    "pn_faits": (_twelve_months("obs.pn_fact", "Faits constatés géolocalisés (police nationale)"), "/carte"),
    "onisr-baac": (
        _yearly(
            "SELECT year, count(*) FILTER (WHERE commune_insee = :c) AS c, count(*) AS d FROM obs.road_accident "
            "WHERE departement = :d OR commune_insee = :c GROUP BY year ORDER BY year",
            "Accidents corporels de la route",
        ),
        "/securite-routiere",
    ),
    "plan-valeurs": (lambda conn, commune: [], "/plan-actions"),
    "plan-actions": (lambda conn, commune: [], "/plan-actions"),
    "enquete": (lambda conn, commune: [], "/enquetes"),
}


def synthesis(engine: Engine, role: str | None, commune: str) -> list[dict[str, Any]]:
    """One block per source the role may see and that holds data: its label, latest period, rows, trends."""
    threshold = disclosure.threshold_for(role)
    blocks = []
    with engine.connect() as conn:
        for source in SOURCES:
            fresh = source.freshness
            table = fresh.table if fresh else (source.undo_tables or (None,))[0]
            if table is None or source.view_permission is None or not allowed(role, source.view_permission):
                continue
            if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
                continue
            rows = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            if not rows:
                continue
            reader, detail = TRENDS.get(source.key, (lambda conn, commune: [], "/imports"))
            trends = []
            for t in reader(conn, commune):
                small = disclosure.is_masked(t.latest, threshold) or disclosure.is_masked(
                    t.previous, threshold
                )
                trends.append(
                    {
                        "indicateur": t.label,
                        "periode": t.latest_period,
                        "periode_precedente": t.previous_period,
                        "valeur": disclosure.masked(t.latest, threshold),
                        "precedente": disclosure.masked(t.previous, threshold),
                        "evolution": None if small else t.change,
                        "significative": None if small else t.p_value < 0.05,
                        "p": None if small else t.p_value,
                        "evolution_departement": t.dep_change,
                    }
                )
            blocks.append(
                {
                    "key": source.key,
                    "source": source.label,
                    "latest": conn.execute(sa.text(fresh.latest_sql)).scalar()
                    if fresh
                    else (trends[0]["periode"] if trends else None),
                    "rows": rows,
                    "detail": detail,
                    "trends": trends,
                }
            )
    return blocks
