"""The space-time analyses on the events, with the role's rules: what the CLI and the Tendances page call.

Aggregate-only roles (conseil) get the classes of aggregated cells and the alerts, never points nor chains;
each cell's series is the hexagon map's count for each month or quarter, protected over the calendar as the
map protects it (:func:`observatoire.events.hexgrid.protected_cells`): a slice is a reporting period, so
subtracting slices, or a slice from the map of a year, gives back no masked count.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import disclosure
from observatoire.errors import InputFileError, PermissionDenied
from observatoire.events import hexgrid, hotspots
from observatoire.events import store as event_store
from observatoire.events.filter import EventFilter, for_role
from observatoire.events.spatial import COMMUNE_ZONES
from observatoire.french import MONTHS, WEEKDAYS
from observatoire.geo_codes import TerritoryCode
from observatoire.permissions import AGGREGATE_ONLY
from observatoire.spacetime import alerts as alert_tests
from observatoire.spacetime import classes as cls
from observatoire.spacetime import clock, emerging, knox

SLICES = {"month": 1, "quarter": 3}
# Beyond this, the pairs closer than the last space band make each permutation too long for a page.
MAX_KNOX_EVENTS = 20_000


def _snapshot(conn: Connection, engine: Engine) -> event_store.Snapshot:
    return event_store.snapshot(conn) or event_store.load(engine)


def _month_label(month: int, length: int) -> str:
    return disclosure.month_period(1970 + month // 12, month % 12 + 1, length).label


def _window(snap: event_store.Snapshot, keep: np.ndarray, start: date | None, end: date | None, step: int):
    """First and last month of the analysis, whole slices (quarters start in January, April…)."""
    months = snap.months()[keep]
    if not len(months):
        return None
    first = emerging.month_number(start) if start else int(months.min())
    last = emerging.month_number(end) if end else int(months.max())
    first += (-first) % step if step > 1 else 0
    last -= (last + 1) % step if step > 1 else 0
    return first, last


def emerging_hot_spots(
    engine: Engine,
    f: EventFilter,
    role: str | None = None,
    *,
    slice: str = "month",
    cell: float = hexgrid.DEFAULT_CELL,
    threshold: int | None = None,
) -> dict[str, Any]:
    """Emerging hot and cold spots of ``f`` from ``f.start`` to ``f.end``: GeoJSON FeatureCollection of the
    classed hexagons with ``class``, ``class_label``, ``colour`` and ``series`` (per slice: ``periode``, ``count``
    and, for the roles that see exact figures, ``z`` and ``significatif``), beside ``legend`` and ``method``."""
    if slice not in SLICES:
        raise InputFileError(f"Tranche inconnue : {slice!r} (possibles : month, quarter).")
    step = SLICES[slice]
    cell = hexgrid.check_cell(cell)
    start, end = f.start, f.end
    plain = for_role(replace(f, start=None, end=None, territory=None), role)
    limit = disclosure.threshold_for(role, threshold)
    with engine.connect() as conn:
        snap = _snapshot(conn, engine)
        keep = snap.mask(plain) & snap.located
        window = _window(snap, keep, start, end, step)
        n_slices = 0 if window is None else (window[1] - window[0] + 1) // step
        if window is None or n_slices < emerging.MIN_SLICES:
            return {
                "type": "FeatureCollection",
                "features": [],
                "legend": _legend({}),
                "method": emerging.method(step, n_slices, cell, 0),
                "message": f"Il faut au moins {emerging.MIN_SLICES} tranches de temps avec des événements "
                "pour une analyse des points chauds émergents : élargissez la période.",
            }
        first, last = window
        area = f.territory or _commune_code()
        grid = hotspots.grid_counts(conn, replace(plain, start=None, end=None), cell, area)
        result = emerging.from_points(
            snap.x[keep],
            snap.y[keep],
            snap.months()[keep],
            cell,
            first,
            last,
            step,
            cells=(grid["i"].to_numpy(), grid["j"].to_numpy()),
        )
        classed = np.flatnonzero(result.classes != cls.NONE)
        labels = [_month_label(first + k * step, step) for k in range(n_slices)]
        shown: list[list[Any]] = result.counts[classed].astype(int).tolist()
        if limit is not None:
            shown = _protected_series(conn, plain, cell, limit, result, classed, first, step, n_slices)
    chosen = pd.DataFrame({"i": result.i[classed], "j": result.j[classed]})
    geometries = hexgrid.outlines(chosen, cell)
    features = []
    for row, (k, geometry) in enumerate(zip(classed, geometries, strict=True)):
        name = str(result.classes[k])
        series = []
        for t in range(n_slices):
            point: dict[str, Any] = {"periode": labels[t], "count": shown[row][t]}
            if limit is None:
                point |= {"z": round(float(result.z[k, t]), 2), "significatif": _sign(result, int(k), t)}
            series.append(point)
        props: dict[str, Any] = {
            "i": int(result.i[k]),
            "j": int(result.j[k]),
            "class": name,
            "class_label": cls.CLASSES[name][0],
            "colour": cls.CLASSES[name][1],
            "series": series,
        }
        if limit is None:
            props["tendance_z"] = round(float(result.trend_z[k]), 2)
            props["tendance_p"] = float(f"{result.trend_p[k]:.3g}")
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    method = emerging.method(step, n_slices, cell, len(result.i)) | {
        "periode": f"{labels[0]} – {labels[-1]}",
        "filtres": plain.describe() | {"periode": f"{labels[0]} – {labels[-1]}"},
    }
    return {
        "type": "FeatureCollection",
        "features": features,
        "legend": _legend(pd.Series(result.classes).value_counts().to_dict()),
        "method": method,
        "slices": labels,
    }


def _sign(result: emerging.Result, k: int, t: int) -> str:
    return "chaud" if result.hot[k, t] else "froid" if result.cold[k, t] else ""


def _protected_series(conn, plain, cell, limit, result, classed, first, step, n_slices) -> list[list[Any]]:
    """Per classed cell, its count in each slice as the hexagon map shows it to the role for that period."""
    out: list[list[Any]] = [[0] * n_slices for _ in classed]
    where = {(int(result.i[k]), int(result.j[k])): row for row, k in enumerate(classed)}
    for t in range(n_slices):
        month = first + t * step
        period = disclosure.month_period(1970 + month // 12, month % 12 + 1, step)
        cells = hexgrid.protected_cells(conn, replace(plain, start=period.start, end=period.end), cell, limit)
        for r in cells.itertuples(index=False):
            row = where.get((int(r.i), int(r.j)))
            if row is not None:
                out[row][t] = disclosure.shown_as(int(r.count), int(r.state), limit)
    return out


def _legend(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"class": c, "label": label, "colour": colour, "cells": int(counts.get(c, 0))}
        for c, (label, colour) in cls.CLASSES.items()
    ]


def _commune_code() -> str:
    from observatoire.settings import get_settings

    return str(TerritoryCode("COM", get_settings().commune))


def _exact_role(role: str | None, what: str) -> None:
    if role in AGGREGATE_ONLY:
        raise PermissionDenied(f"Votre rôle ne permet pas de consulter {what}.")


def near_repeat(
    engine: Engine,
    f: EventFilter,
    role: str | None = None,
    *,
    space_bands: tuple[float, ...] = knox.SPACE_BANDS,
    time_bands: tuple[float, ...] = knox.TIME_BANDS,
    permutations: int = knox.PERMUTATIONS,
    with_chains: bool = False,
) -> dict[str, Any]:
    """Knox table (observed, expected, ratio, p per space band × time band) of the placed events of ``f``; for
    the roles that see events, the chains of events linked within the closest significant bands."""
    _exact_role(role, "l'analyse de répétition proche")
    f = for_role(replace(f, territory=None), role)
    with engine.connect() as conn:
        snap = _snapshot(conn, engine)
    keep = snap.mask(f) & snap.located
    if keep.sum() > MAX_KNOX_EVENTS:
        raise InputFileError(
            f"Trop d'événements pour l'analyse de répétition proche ({int(keep.sum())} ; au plus "
            f"{MAX_KNOX_EVENTS}) : choisissez une catégorie ou une période plus courte."
        )
    x, y, t = snap.x[keep], snap.y[keep], snap.day[keep].astype(float)
    result = knox.knox(x, y, t, space_bands, time_bands, permutations)
    space_labels = _band_labels(space_bands, "m")
    time_labels = _band_labels(time_bands, "j")
    rows = []
    for a, s_label in enumerate(space_labels):
        for b, t_label in enumerate(time_labels):
            rows.append(
                {
                    "distance": s_label,
                    "delai": t_label,
                    "observe": int(result.observed[a, b]),
                    "attendu": round(float(result.expected[a, b]), 1),
                    "rapport": None if np.isnan(result.ratio[a, b]) else round(float(result.ratio[a, b]), 2),
                    "p": round(float(result.p[a, b]), 4),
                    "significatif": bool(result.significant()[a, b]),
                }
            )
    out: dict[str, Any] = {
        "evenements": int(keep.sum()),
        "table": rows,
        "distances": space_labels,
        "delais": time_labels,
        "method": {
            "methode": "Test de Knox par classes de distance × classes de délai (comme le Near Repeat "
            "Calculator), paires d'événements géolocalisés",
            "attendu": f"moyenne de {permutations} permutations des dates entre les lieux (Monte-Carlo, graine "
            f"{knox.SEED})",
            "p": "(1 + permutations au moins égales à l'observé) / (permutations + 1), unilatérale",
            "filtres": f.describe(),
        },
    }
    inner = result.significant()[:-1, :-1]
    if with_chains and inner.any():
        a, b = np.argwhere(inner)[0]
        distance, days = space_bands[a], time_bands[b]
        chain = knox.chains(x, y, t, max(distance, 1.0), days)
        out["chaines"] = _chains_table(chain, x, y, snap.day[keep])
        out["chaines_seuils"] = {"distance_m": distance, "delai_j": days}
    return out


def _band_labels(uppers: tuple[float, ...], unit: str) -> list[str]:
    """« même lieu », « 1 à 100 m », « 101 à 200 m »… « plus de 400 m » (bands as the Near Repeat Calculator
    names them: whole metres and days, each band's upper bound included)."""
    labels: list[str] = []
    lower: float | None = None
    for upper in uppers:
        if upper == 0:
            labels.append("même lieu" if unit == "m" else "même jour")
        else:
            start = 0 if lower is None else lower + 1
            labels.append(f"{start:g} à {upper:g} {unit}")
        lower = upper
    labels.append(f"plus de {uppers[-1]:g} {unit}")
    return labels


def _chains_table(chain: np.ndarray, x, y, day) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for label in np.unique(chain[chain >= 0]):
        members = chain == label
        days = day[members]
        rows.append(
            {
                "chaine": int(label),
                "evenements": int(members.sum()),
                "premier_jour": str(date.fromordinal(event_store.EPOCH.toordinal() + int(days.min()))),
                "dernier_jour": str(date.fromordinal(event_store.EPOCH.toordinal() + int(days.max()))),
                "x_l93": round(float(x[members].mean())),
                "y_l93": round(float(y[members].mean())),
            }
        )
    rows.sort(key=lambda r: (-int(r["evenements"]), str(r["premier_jour"])))
    for number, row in enumerate(rows, 1):
        row["chaine"] = number
    return rows


def data_clock(
    engine: Engine, f: EventFilter, role: str | None = None, *, threshold: int | None = None
) -> dict[str, Any]:
    """Weekday × hour (aoristic for events without a known time) and month × year tables of ``f``.

    Aggregate-only roles get the hour table of the events with a known time and the months, each count as the
    rules of the statistical secret show it; no aoristic share (a fraction of a masked count)."""
    f = for_role(replace(f, territory=None), role)
    limit = disclosure.threshold_for(role, threshold)
    with engine.connect() as conn:
        snap = _snapshot(conn, engine)
        keep = snap.mask(f)
        years, by_month = clock.month_year(snap.months()[keep])
        if limit is None:
            hours = clock.weekday_hour(snap.day[keep], snap.hour[keep], snap.time_known[keep])
            hour_cells: list[list[Any]] = np.round(hours, 1).tolist()
            months: list[list[Any]] = by_month.astype(int).tolist()
        else:
            hour_cells, months = _protected_clock(conn, f, limit, snap, keep, years)
    return {
        "jours": list(WEEKDAYS),
        "heures": list(range(24)),
        "jour_heure": hour_cells,
        "annees": years,
        "mois": list(MONTHS),
        "mois_annee": months,
        "evenements": int(keep.sum()),
        "sans_heure": int((keep & ~snap.time_known).sum()),
        "method": {
            "jour_heure": "événements par jour de la semaine et heure ; un événement dont l'heure est une plage "
            "(ou inconnue : toute sa journée) est réparti sur les heures couvertes au prorata (pondération "
            "aoristique), chaque événement pesant 1"
            if limit is None
            else "événements dont l'heure est connue, par jour de la semaine et heure (secret statistique)",
            "filtres": f.describe(),
        },
    }


def _protected_clock(conn, f, limit, snap, keep, years) -> tuple[list[list[Any]], list[list[Any]]]:
    from observatoire.events import secrecy

    base = secrecy.totals(conn, f, limit)
    wide = replace(f, start=None, end=None)

    def long() -> pd.DataFrame:
        every = snap.mask(wide) & snap.time_known
        cell = (snap.isodow[every].astype(int) - 1) * 24 + snap.hour[every].astype(int)
        frame = pd.DataFrame({"cell": cell, "month": snap.months()[every]}).value_counts().reset_index()
        return frame.rename(columns={frame.columns[-1]: "count"}).astype(int)

    cells = secrecy.protect_breakdown(
        conn, ("horloge", wide), long, ["cell"], base, total="total", unknown_time=True
    )
    table: list[list[Any]] = [[0] * 24 for _ in range(7)]
    for r in cells.itertuples(index=False):
        if isinstance(r.cell, int | np.integer) and 0 <= int(r.cell) < 168:
            table[int(r.cell) // 24][int(r.cell) % 24] = disclosure.shown_as(
                int(r.count), int(r.state), limit
            )
    months: list[list[Any]] = []
    for year in years:
        row = []
        for m in range(12):
            key = f"{year}-{m + 1:02d}"
            if base.values is not None and base.states is not None and key in base.values.columns:
                row.append(
                    disclosure.shown_as(
                        int(base.values.at["total", key]), int(base.states.at["total", key]), limit
                    )
                )
            else:
                row.append(0)
        months.append(row)
    return table, months


def alerts(
    engine: Engine,
    role: str | None = None,
    *,
    sources: tuple[str, ...] = (),
    last_month: date | None = None,
) -> dict[str, Any]:
    """The « hausses significatives » of the latest month and quarter, per category and per zone (the commune,
    its IRIS and QPV). Aggregate-only roles get the size of each rise in words, without counts."""
    f = for_role(EventFilter(sources=sources), role)
    exact = role not in AGGREGATE_ONLY
    with engine.connect() as conn:
        snap = _snapshot(conn, engine)
        zones = conn.execute(
            sa.text(f"""SELECT z.code, z.name, ST_AsBinary(ST_Transform(z.geom, 2154)) AS wkb_l93
                FROM obs.territory z WHERE {COMMUNE_ZONES.replace("z.level = :level", "z.level IN ('iris', 'qpv')")}
                ORDER BY z.code"""),
            {"com": _commune_code()},
        ).all()
        names = {
            (r.source, r.category): r.label
            for r in conn.execute(sa.text("SELECT source, category, label FROM obs.event_category")).all()
        }
    keep = snap.mask(f)
    if not keep.any():
        return {"alertes": [], "message": "Aucun événement pour ces sources.", "method": _alert_method(None)}
    months = snap.months()
    last = emerging.month_number(last_month) if last_month else int(months[keep].max())
    first = last - 24
    series: list[alert_tests.Series] = []
    categories = sorted(
        {snap.pairs[p] for p in np.unique(snap.pair[keep])}, key=lambda sc: (sc[0], sc[1] or "")
    )
    for source, category in categories:
        if category is None:
            continue
        fc = replace(f, sources=(source,), categories=(f"{source}:{category}",))
        mask = snap.mask(fc)
        counts = np.bincount(np.clip(months[mask] - first, -1, 25) + 1, minlength=27)[1:26]
        label = f"{names.get((source, category)) or category} ({source})"
        series.append(alert_tests.Series(category, label, _commune_code(), "Commune", first, counts))
        for z in zones:
            zone_months = snap.zone_months(fc, z.code, bytes(z.wkb_l93))
            values = np.zeros(25)
            for m, n in zone_months.items():
                if first <= int(m) <= last:
                    values[int(m) - first] = n
            series.append(alert_tests.Series(category, label, z.code, z.name, first, values))
    rises = alert_tests.significant_rises(series, last)
    if not exact:
        rises = [
            {k: v for k, v in r.items() if k not in ("effectif", "attendu", "ecart", "rapport", "p")}
            | {"ampleur": alert_tests.size_band(r["rapport"])}
            for r in rises
        ]
    return {
        "alertes": rises,
        "dernier_mois": _month_label(last, 1),
        "series": len(series),
        "method": _alert_method(len(series)),
    }


def _alert_method(n: int | None) -> dict[str, Any]:
    return {
        "methode": "dernier mois et dernier trimestre complet comparés à la même période un an avant et à la "
        "moyenne des douze mois précédents, par catégorie et par zone (commune, IRIS, QPV)",
        "test": "test conditionnel de deux comptages de Poisson (loi binomiale), unilatéral (hausse)",
        "correction": f"taux de fausses découvertes (Benjamini–Hochberg) à {alert_tests.ALPHA:.0%}".replace(
            "%", " %"
        )
        + f" sur toutes les comparaisons{f' ({n} séries)' if n else ''}",
        "minimum": f"au moins {alert_tests.MIN_COUNT} événements dans la période",
    }
