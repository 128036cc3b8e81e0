"""Police municipale activity as DataFrames: by family and type, by month, weekday × hour, by zone.

Every function takes the same filters (period, families, types) and, for views meant for the
aggregate-only roles, a threshold under which counts are masked (``NaN``, ``masked = True`` and ``state``).
With a threshold the figures obey :mod:`observatoire.disclosure`: the period is a calendar month, quarter or
year (or the whole period), and every figure of the page is protected together with its totals (a family and
its types, a month and its families, the table of days and hours and the interventions without a time, the
origins, the zones) and over the calendar (a year and its months), so that no « < 5 » comes back by
subtraction (:func:`report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import disclosure
from observatoire.disclosure import SHOWN, Calendar, Period
from observatoire.events import store as event_store
from observatoire.events.filter import EventFilter
from observatoire.events.spatial import COMMUNE_ZONES, tally_zones, tally_zones_by_month
from observatoire.french import WEEKDAYS
from observatoire.geo_codes import TerritoryCode

UNCLASSIFIED = "Non classé"
ZONE_LEVELS = ("iris", "qpv", "secteur")


def _where(
    start: date | None, end: date | None, families: list[str] | None, types: list[str] | None
) -> tuple[str, dict[str, Any]]:
    clauses = ["true"]
    params: dict[str, Any] = {}
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


def _frame(engine: Engine, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(sql), conn, params=params)


# What the interventions are counted by: column → SQL expression.
ORIGIN = {"origin": "COALESCE(i.origin, 'non_renseignee')"}
SECTOR = {"code": "COALESCE(i.sector, '')", "name": "COALESCE(i.sector, 'Secteur non renseigné')"}
WEEKDAY_HOUR = {
    "weekday": "extract(isodow FROM i.occurred_at)::int",
    "hour": "extract(hour FROM i.occurred_at)::int",
}
FAMILY_TYPE = {"family_code": "COALESCE(i.family_code, '')", "type_code": "COALESCE(i.type_code, '')"}


def _tally(
    engine: Engine,
    keys: dict[str, str],
    where: str,
    params: dict[str, Any],
    *,
    monthly: bool = False,
    order: str = "",
) -> pd.DataFrame:
    """The number of interventions (``count``) per value of ``keys``, and per ``month`` (index, see
    :data:`MONTH`) when ``monthly``: the exact counts, or what the protected view is built from."""
    columns = [f"{sql} AS {name}" for name, sql in keys.items()] + ([f"{MONTH} AS month"] if monthly else [])
    group = ", ".join(str(k + 1) for k in range(len(columns)))
    return _frame(
        engine,
        f"""SELECT {", ".join(columns)}, count(*)::int AS count
            FROM obs.pm_intervention i WHERE {where} GROUP BY {group} {order}""",
        params,
    )


def _zones(conn: Any, level: str, commune: str) -> list[Any]:
    """The IRIS or QPV of the commune: code, name, outline in Lambert-93 (WKB)."""
    return conn.execute(
        sa.text(f"""
        SELECT z.code, z.name, ST_AsBinary(ST_Transform(z.geom, 2154)) AS wkb_l93 FROM obs.territory z
        WHERE {COMMUNE_ZONES} ORDER BY z.code"""),
        {"level": level, "com": str(TerritoryCode("COM", commune))},
    ).all()


def _as_events(
    families: list[str] | None, types: list[str] | None, start: date | None = None, end: date | None = None
) -> EventFilter:
    """The filter as one of the map's: the interventions counted in the zones as the map counts them."""
    return EventFilter(
        sources=("pm",), categories=tuple(types or ()), families=tuple(families or ()), start=start, end=end
    )


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
    if threshold is not None:
        return _as_masked(
            report(engine, start, end, families=families, types=types, threshold=threshold).types
        )
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
    if threshold is not None:
        months = report(engine, start, end, families=families, types=types, threshold=threshold).months
        return _as_masked(months)
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
    if threshold is not None:
        return _as_masked(
            report(engine, start, end, families=families, types=types, threshold=threshold).heat
        )
    where, params = _where(start, end, families, types)
    counts = _tally(engine, WEEKDAY_HOUR, f"i.time_known AND {where}", params).set_index(["weekday", "hour"])
    week = pd.MultiIndex.from_product([range(1, 8), range(24)], names=["weekday", "hour"])
    frame = counts["count"].reindex(week, fill_value=0).astype("int64").reset_index()
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
    if threshold is not None:
        return _protected_zones(engine, level, start, end, commune, families, types, threshold)
    where, params = _where(start, end, families, types)
    if level == "secteur":
        return _tally(engine, SECTOR, where, params, order="ORDER BY count DESC")
    with engine.connect() as conn:
        zones = _zones(conn, level, commune)
        # The interventions as events of the map: the same filter, the same counting (in memory on the dashboard).
        counts, total, _ = tally_zones(conn, _as_events(families, types, start, end), zones)
    rows = sorted(((z.code, z.name, counts[z.code]) for z in zones), key=lambda r: -r[2])
    rows.append(("", "Hors zone ou non géolocalisé", max(total - sum(counts.values()), 0)))
    return pd.DataFrame(rows, columns=["code", "name", "count"])


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
    if threshold is not None:
        return _as_masked(
            report(engine, start, end, families=families, types=types, threshold=threshold).origins
        )
    where, params = _where(start, end, families, types)
    return _tally(engine, ORIGIN, where, params, order="ORDER BY count DESC")


# --- The page for the aggregate-only roles: every figure protected with its totals and over the calendar -----

MONTH = "((extract(year FROM i.occurred_at)::int - 1970) * 12 + extract(month FROM i.occurred_at)::int - 1)"
GRAND = "G"  # the number of interventions, the total of every table


@dataclass
class Report:
    """What the activity page shows for one filter: ``period`` (a :class:`~observatoire.disclosure.Period` when
    the figures are protected, else None), ``summary`` (figure → (count, state)), and frames with ``count``
    and ``state``: ``types``, ``families``, ``months`` (one row per month and family), ``month_totals``,
    ``heat`` (the 7 × 24 cells) and ``origins``. Without a threshold every state is shown."""

    threshold: int | None
    period: Period | None
    summary: dict[str, tuple[int, int]]
    first: Any = None
    last: Any = None
    types: pd.DataFrame = field(default_factory=pd.DataFrame)
    families: pd.DataFrame = field(default_factory=pd.DataFrame)
    months: pd.DataFrame = field(default_factory=pd.DataFrame)
    month_totals: pd.DataFrame = field(default_factory=pd.DataFrame)
    heat: pd.DataFrame = field(default_factory=pd.DataFrame)
    origins: pd.DataFrame = field(default_factory=pd.DataFrame)

    def shown(self, name: str) -> int | str | None:
        """A summary figure as a reader gets it (the count, « < 5 » or « non diffusé »)."""
        value, state = self.summary[name]
        return disclosure.shown_as(value, state, self.threshold)


@dataclass(frozen=True)
class _Base:
    """The filter's interventions per month and the calendar over which they are protected."""

    period: Period
    threshold: int
    monthly: pd.DataFrame  # index: month; total, placees, non_geo, heure_inconnue, non_classees
    calendar: Calendar | None
    grand: np.ndarray | None  # states of the number of interventions, per period of the calendar

    @property
    def covered(self) -> bool:
        return self.calendar is not None and self.period.key in self.calendar.position

    def months_within(self) -> list[str]:
        """The month keys of the calendar inside the period."""
        assert self.calendar is not None
        return [
            p.key
            for p in self.calendar.periods
            if p.kind == "mois"
            and (self.period.start is None or self.period.start <= p.start)  # type: ignore[operator]
            and (self.period.end is None or p.end <= self.period.end)  # type: ignore[operator]
        ]


def _base(
    engine: Engine,
    start: date | None,
    end: date | None,
    families: list[str] | None,
    types: list[str] | None,
    threshold: int,
) -> _Base:
    period = disclosure.reporting_period(start, end)
    where, params = _where(None, None, families, types)
    with engine.connect() as conn:
        monthly = pd.read_sql(
            sa.text(f"""
            SELECT {MONTH} AS month, count(*)::int AS total,
                   count(*) FILTER (WHERE geocoding_status IN ('coordonnees', 'geocode'))::int AS placees,
                   count(*) FILTER (WHERE geocoding_status = 'non_geolocalise')::int AS non_geo,
                   count(*) FILTER (WHERE NOT time_known)::int AS heure_inconnue,
                   count(*) FILTER (WHERE type_code IS NULL)::int AS non_classees
            FROM obs.pm_intervention i WHERE {where} GROUP BY 1 ORDER BY 1"""),
            conn,
            params=params,
        ).set_index("month")
    if monthly.empty:
        return _Base(period, threshold, monthly, None, None)
    calendar = Calendar.spanning(monthly.index)
    _, states = disclosure.protect_periods(
        monthly[["total"]].T.rename(index={"total": GRAND}), threshold, calendar=calendar
    )
    return _Base(period, threshold, monthly, calendar, states.loc[GRAND].to_numpy())


def _protected(
    base: _Base,
    long: pd.DataFrame,
    label: Any,
    groups: list[tuple[str, list[str]]],
    extra: dict[str, pd.Series] | None = None,
    rows: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts and states per period of the rows ``label(row of long)`` (``long``: keys, ``month``, ``count``),
    with the number of interventions (given) and the ``extra`` monthly rows; ``groups`` (total, parts) hold in
    every month, else they are left out (the calendar's sums still hold)."""
    assert base.calendar is not None and base.grand is not None
    months = base.monthly.index
    wide = (
        long.assign(row=[label(r) for r in long.itertuples(index=False)])
        .pivot_table(index="row", columns="month", values="count", aggfunc="sum", fill_value=0)
        .reindex(columns=months, fill_value=0)
    )
    if rows is not None:  # every row, those without interventions too
        wide = wide.reindex(wide.index.union(pd.Index(rows)), fill_value=0)
    frames = [wide, pd.DataFrame([base.monthly["total"].to_numpy()], index=[GRAND], columns=months)]
    for name, series in (extra or {}).items():
        frames.append(
            pd.DataFrame([series.reindex(months, fill_value=0).to_numpy()], index=[name], columns=months)
        )
    frame = pd.concat(frames)
    holding = [
        (total, [p for p in parts if p in frame.index])
        for total, parts in groups
        if total in frame.index
        and (frame.loc[[p for p in parts if p in frame.index]].sum() == frame.loc[total]).all()
    ]
    return disclosure.protect_periods(
        frame, base.threshold, groups=holding, given={GRAND: base.grand}, calendar=base.calendar
    )


def _labels(engine: Engine) -> tuple[dict[str, tuple[str, int]], dict[str, tuple[str, bool]]]:
    """Family code → (label, position); type code → (label, sensitive)."""
    with engine.connect() as conn:
        families = {
            c: (label, pos)
            for c, label, pos in conn.execute(sa.text("SELECT code, label, position FROM obs.pm_family"))
        }
        types = {
            c: (label, bool(sens))
            for c, label, sens in conn.execute(
                sa.text("SELECT code, label, sensitive FROM obs.pm_intervention_type")
            )
        }
    return families, types


# Reports already computed, by data version and question: the page asks the same ones again and again.
_reports: dict[tuple, Report] = {}


def report(
    engine: Engine,
    start: date | None = None,
    end: date | None = None,
    *,
    families: list[str] | None = None,
    types: list[str] | None = None,
    threshold: int | None = None,
) -> Report:
    """Every figure of the activity page. With a threshold (aggregate-only roles) the period is widened to a
    reporting period and every figure protected (:mod:`observatoire.disclosure`); without, the exact counts.

    Computed once per version of the data (``obs.data_version``, raised by every import, undo and
    nomenclature edit, with the family labels' fingerprint) and question; treat the result as read-only."""
    with engine.connect() as conn:
        labels = conn.execute(
            sa.text(
                "SELECT md5(string_agg(code || '=' || label || '@' || position, '|' ORDER BY code)) FROM obs.pm_family"
            )
        ).scalar()
        key = (
            str(engine.url),
            event_store.version(conn),
            labels,
            start,
            end,
            tuple(families or ()),
            tuple(types or ()),
            threshold,
        )
    found = _reports.get(key)
    if found is None:
        found = _report(engine, start, end, families=families, types=types, threshold=threshold)
        event_store.remember(_reports, key, found, size=32)
    return found


def _report(
    engine: Engine,
    start: date | None,
    end: date | None,
    *,
    families: list[str] | None,
    types: list[str] | None,
    threshold: int | None,
) -> Report:
    if threshold is None:
        return _exact_report(engine, start, end, families, types)
    base = _base(engine, start, end, families, types, threshold)
    out = Report(threshold, base.period, {name: (0, SHOWN) for name in _SUMMARY})
    out.first, out.last = base.period.start, base.period.end
    if not base.covered:
        return _empty_report(out)
    key = base.period.key
    where, params = _where(None, None, families, types)
    family_labels, type_labels = _labels(engine)

    # Families and types, the unclassified, the months of the period.
    long = _tally(engine, FAMILY_TYPE, where, params, monthly=True)
    pairs = sorted(set(zip(long["family_code"], long["type_code"], strict=True)))
    codes = sorted({f for f, _ in pairs})
    groups = [(GRAND, [f"f|{f}" for f in codes])]
    groups += [(f"f|{f}", [f"t|{a}|{b}" for a, b in pairs if a == f]) for f in codes]
    groups.append(("NC", [f"t|{a}|{b}" for a, b in pairs if b == ""]))
    family_rows = long.assign(type_code=None)
    values, states = _protected(
        base,
        pd.concat([long, family_rows], ignore_index=True),
        lambda r: f"f|{r.family_code}" if r.type_code is None else f"t|{r.family_code}|{r.type_code}",
        groups,
        {"NC": base.monthly["non_classees"]},
    )
    out.types = pd.DataFrame(
        [
            {
                "family_code": f or None,
                "family": family_labels.get(f, (UNCLASSIFIED, 10**6))[0],
                "type_code": t or None,
                "type": type_labels.get(t, (UNCLASSIFIED, False))[0],
                "sensitive": type_labels.get(t, ("", False))[1],
                "count": int(values.at[f"t|{f}|{t}", key]),
                "state": int(states.at[f"t|{f}|{t}", key]),
                "_position": family_labels.get(f, ("", 10**6))[1],
            }
            for f, t in pairs
            if values.at[f"t|{f}|{t}", key] > 0 or states.at[f"t|{f}|{t}", key] != SHOWN
        ]
    )
    if not out.types.empty:
        out.types = _ranked(out.types, "type", first="_position", zeros=True).drop(columns="_position")
    out.families = _family_frame(values, states, codes, family_labels, [key])
    month_keys = base.months_within()
    out.months = _family_frame(values, states, codes, family_labels, month_keys)
    calendar, grand = base.calendar, base.grand
    assert calendar is not None and grand is not None  # a protected view always has its calendar
    out.month_totals = pd.DataFrame(
        {
            "month": [disclosure.period_of_key(m).start for m in month_keys],
            "count": [int(values.at[GRAND, m]) for m in month_keys],
            "state": [int(grand[calendar.position[m]]) for m in month_keys],
        }
    )
    out.month_totals = out.month_totals[
        (out.month_totals["count"] > 0) | (out.month_totals["state"] != SHOWN)
    ].reset_index(drop=True)
    out.summary["non_classees"] = (int(values.at["NC", key]), int(states.at["NC", key]))
    out.summary["total"] = (int(values.at[GRAND, key]), int(states.at[GRAND, key]))

    # Days and hours, with the interventions without a time.
    long = _tally(engine, WEEKDAY_HOUR, f"i.time_known AND {where}", params, monthly=True)
    cells = [f"h|{d}|{h}" for d in range(1, 8) for h in range(24)]
    values, states = _protected(
        base,
        long,
        lambda r: f"h|{r.weekday}|{r.hour}",
        [(GRAND, [*cells, "HU"])],
        {"HU": base.monthly["heure_inconnue"]},
    )
    out.heat = pd.DataFrame(
        [
            {
                "weekday": d,
                "weekday_label": WEEKDAYS[d - 1],
                "hour": h,
                "count": int(values.at[f"h|{d}|{h}", key]) if f"h|{d}|{h}" in values.index else 0,
                "state": int(states.at[f"h|{d}|{h}", key]) if f"h|{d}|{h}" in states.index else SHOWN,
            }
            for d in range(1, 8)
            for h in range(24)
        ]
    )
    out.summary["heure_inconnue"] = (int(values.at["HU", key]), int(states.at["HU", key]))

    # Origins.
    long = _tally(engine, ORIGIN, where, params, monthly=True)
    names = sorted(set(long["origin"]))
    values, states = _protected(base, long, lambda r: f"o|{r.origin}", [(GRAND, [f"o|{o}" for o in names])])
    out.origins = _ranked(
        pd.DataFrame(
            {
                "origin": names,
                "count": [int(values.at[f"o|{o}", key]) for o in names],
                "state": [int(states.at[f"o|{o}", key]) for o in names],
            }
        ),
        "origin",
    )

    # Placed on the map or not.
    long = pd.concat(
        [
            pd.DataFrame({"row": name, "month": base.monthly.index, "count": base.monthly[name].to_numpy()})
            for name in ("placees", "non_geo")
        ]
    )
    values, states = _protected(base, long, lambda r: r.row, [(GRAND, ["placees", "non_geo"])])
    for name in ("placees", "non_geo"):
        out.summary[name] = (int(values.at[name, key]), int(states.at[name, key]))
    return out


_SUMMARY = ("total", "placees", "non_geo", "heure_inconnue", "non_classees")


def _family_frame(
    values: pd.DataFrame,
    states: pd.DataFrame,
    codes: list[str],
    labels: dict[str, tuple[str, int]],
    keys: list[str],
) -> pd.DataFrame:
    """One row per period of ``keys`` and family with interventions: ``month`` (first day, for a month),
    ``family_code``, ``family``, ``count``, ``state``; families in the nomenclature's order."""
    order = sorted(codes, key=lambda f: (labels.get(f, ("", 10**6))[1], f))
    rows = [
        {
            "month": disclosure.period_of_key(k).start,
            "family_code": f or None,
            "family": labels.get(f, (UNCLASSIFIED, 0))[0],
            "count": int(values.at[f"f|{f}", k]),
            "state": int(states.at[f"f|{f}", k]),
        }
        for k in keys
        for f in order
        if values.at[f"f|{f}", k] > 0 or states.at[f"f|{f}", k] != SHOWN
    ]
    return pd.DataFrame(rows, columns=["month", "family_code", "family", "count", "state"])


def _ranked(frame: pd.DataFrame, name: str, *, first: str | None = None, zeros: bool = False) -> pd.DataFrame:
    """Shown counts from the largest, masked ones after by ``name`` (their order would tell their size),
    within each value of ``first`` if given; rows without interventions left out unless ``zeros``."""
    if not zeros:
        frame = frame[(frame["count"] > 0) | (frame["state"] != SHOWN)]
    rank = np.where(frame["state"] == SHOWN, -frame["count"], 0)
    order = [first, "_rank", name] if first else ["_rank", name]
    return (
        frame.assign(_rank=rank)
        .sort_values(order, kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _empty_report(out: Report) -> Report:
    out.types = pd.DataFrame(
        columns=["family_code", "family", "type_code", "type", "sensitive", "count", "state"]
    )
    out.families = pd.DataFrame(columns=["month", "family_code", "family", "count", "state"])
    out.months = out.families.copy()
    out.month_totals = pd.DataFrame(columns=["month", "count", "state"])
    out.heat = pd.DataFrame(
        [
            {"weekday": d, "weekday_label": WEEKDAYS[d - 1], "hour": h, "count": 0, "state": SHOWN}
            for d in range(1, 8)
            for h in range(24)
        ]
    )
    out.origins = pd.DataFrame(columns=["origin", "count", "state"])
    return out


def _exact_report(
    engine: Engine, start: date | None, end: date | None, families: list[str] | None, types: list[str] | None
) -> Report:
    s = summary(engine, start, end, families=families, types=types)
    figures = {
        "total": s["total"] or 0,
        "placees": (s["coordonnees"] or 0) + (s["geocodees"] or 0),
        "non_geo": s["non_geolocalisees"] or 0,
        "heure_inconnue": s["heure_inconnue"] or 0,
        "non_classees": s["non_classees"] or 0,
    }
    out = Report(None, None, {k: (int(v), SHOWN) for k, v in figures.items()}, s["premiere"], s["derniere"])
    out.types = by_type(engine, start, end, families=families, types=types).assign(state=SHOWN)
    totals = (
        out.types.groupby(["family_code", "family"], sort=False, dropna=False)["count"].sum().reset_index()
    )
    out.families = totals.assign(month=None, state=SHOWN)[
        ["month", "family_code", "family", "count", "state"]
    ]
    out.months = by_month(engine, start, end, families=families, types=types).assign(state=SHOWN)
    out.month_totals = out.months.groupby("month", as_index=False)["count"].sum().assign(state=SHOWN)
    out.heat = weekday_hour(engine, start, end, families=families, types=types).assign(state=SHOWN)
    out.origins = origins(engine, start, end, families=families, types=types).assign(state=SHOWN)
    return out


def _as_masked(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame of the unprotected functions' shape: masked counts as NaN, ``masked`` beside ``state``."""
    frame = frame.copy()
    frame["masked"] = frame["state"] != SHOWN
    frame["count"] = frame["count"].astype(float).where(~frame["masked"])
    return frame


def _protected_zones(
    engine: Engine,
    level: str,
    start: date | None,
    end: date | None,
    commune: str,
    families: list[str] | None,
    types: list[str] | None,
    threshold: int,
) -> pd.DataFrame:
    base = _base(engine, start, end, families, types, threshold)
    where, params = _where(None, None, families, types)
    if level == "secteur":
        long = _tally(engine, SECTOR, where, params, monthly=True)
        names = dict(zip(long["code"], long["name"], strict=True))
        rest = None
    else:
        with engine.connect() as conn:
            zones = _zones(conn, level, commune)
            long = tally_zones_by_month(conn, _as_events(families, types), zones)
        names = {z.code: z.name for z in zones}
        inside = long.groupby("month")["count"].sum() if not long.empty else pd.Series(dtype=int)
        rest = base.monthly["total"].sub(inside, fill_value=0).clip(lower=0)
        long = pd.concat(
            [long, pd.DataFrame({"code": "", "month": rest.index, "count": rest.to_numpy()})],
            ignore_index=True,
        )
        names[""] = "Hors zone ou non géolocalisé"
    columns = ["code", "name", "count", "state"]
    if not base.covered:
        frame = pd.DataFrame(
            [(c, n, 0, SHOWN) for c, n in names.items() if level != "secteur"], columns=columns
        )
        return _as_masked(frame)
    codes = [c for c in names if c != ""] + ([""] if "" in names else [])
    values, states = _protected(
        base,
        long.astype({"month": int, "count": int}),
        lambda r: f"z|{r.code}",
        [(GRAND, [f"z|{c}" for c in codes])],
        rows=[f"z|{c}" for c in codes],
    )
    key = base.period.key
    frame = pd.DataFrame(
        [(c, names[c], int(values.at[f"z|{c}", key]), int(states.at[f"z|{c}", key])) for c in codes],
        columns=columns,
    )
    if level == "secteur":
        frame = _ranked(frame, "name")
    else:
        zones_part = _ranked(frame[frame["code"] != ""], "code", zeros=True)
        frame = pd.concat([zones_part, frame[frame["code"] == ""]], ignore_index=True)
    return _as_masked(frame)
