"""What the map draws: points, server-side clusters, hexagons, IRIS and QPV counts with rates — and the
choice between them, so that the browser never receives more than a few thousand features.

Privacy (BRIEF §6), enforced here for every role: a sensitive category is never returned as a point or a
cluster, only inside hexagons or zones; the aggregate-only roles (conseil) receive aggregates only, with
every count under the threshold given as « < 5 » (no exact value anywhere in the structure).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import disclosure, french, projection
from observatoire.errors import InputFileError, PermissionDenied
from observatoire.events import choropleth, hexgrid, secrecy
from observatoire.events import store as event_store
from observatoire.events.filter import EventFilter, for_role, unbounded, where
from observatoire.events.secrecy import MONTH_SQL
from observatoire.geo_codes import TerritoryCode
from observatoire.permissions import AGGREGATE_ONLY

MAX_FEATURES = 3000
ZONE_LEVELS = ("iris", "qpv")


def _geolocated(engine: Engine, f: EventFilter) -> dict[bool, int]:
    cond, params = where(f)
    with engine.connect() as conn:
        snap = event_store.snapshot(conn, f)
        if snap is not None:
            placed = snap.mask(f) & snap.located
            found = {
                True: int((placed & snap.sensitive).sum()),
                False: int((placed & ~snap.sensitive).sum()),
            }
        else:
            rows = conn.execute(
                sa.text(
                    f"SELECT e.sensitive, count(*) FROM obs.event e WHERE {cond} "
                    "AND e.geom_l93 IS NOT NULL GROUP BY 1"
                ),
                params,
            ).all()
            found = {bool(s): int(n) for s, n in rows}
    return {False: found.get(False, 0), True: found.get(True, 0)}


def points(
    engine: Engine, f: EventFilter, role: str | None = None, *, limit: int = MAX_FEATURES
) -> dict[str, Any]:
    """Non-sensitive events as points (GeoJSON, WGS84): ``source``, ``category``, ``label``, ``date``
    (jj/mm/aaaa), ``time`` (HH:MM or None). Sensitive events are never included, whatever the filter;
    aggregate-only roles are refused. At most ``limit`` points (``truncated`` says when more matched)."""
    if role in AGGREGATE_ONLY:
        raise PermissionDenied("Votre rôle ne reçoit que des chiffres agrégés : pas de points sur la carte.")
    f = replace(for_role(f, role), sensitive=False)
    cond, params = where(f)
    params["n"] = limit + 1
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(f"""
            SELECT e.source, e.category, COALESCE(c.label, 'Non classé') AS label,
                   to_char(e.occurred_at, 'DD/MM/YYYY') AS day,
                   CASE WHEN e.time_known THEN to_char(e.occurred_at, 'HH24:MI') END AS time,
                   ST_AsGeoJSON(e.geom, 6) AS geometry
            FROM obs.event e LEFT JOIN obs.event_category c ON c.source = e.source AND c.category = e.category
            WHERE {cond} AND e.geom IS NOT NULL AND NOT e.sensitive
            ORDER BY e.occurred_at DESC LIMIT :n"""),
            params,
        ).all()
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(r.geometry),
            "properties": {
                "source": r.source,
                "category": r.category,
                "label": r.label,
                "date": r.day,
                "time": r.time,
            },
        }
        for r in rows[:limit]
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": len(rows) > limit}


def clusters(
    engine: Engine, f: EventFilter, role: str | None = None, *, max_features: int = MAX_FEATURES
) -> dict[str, Any]:
    """Non-sensitive events grouped on a square grid (Lambert-93), the finest of the sizes 2^k × g0 that
    gives at most ``max_features`` groups: each a point at the mean position of its events with its
    ``count``; ``grid_m`` is the size used.

    One query groups the events on a fine grid; coarser grids are made from it in memory (a coarse cell is a
    block of fine ones), so a far outlier never makes the whole map coarse.
    """
    if role in AGGREGATE_ONLY:
        raise PermissionDenied(
            "Votre rôle ne reçoit que des chiffres agrégés : pas de regroupements de points."
        )
    f = replace(for_role(f, role), sensitive=False)
    cond, params = where(f)
    with engine.connect() as conn:
        box = conn.execute(
            sa.text(f"""
            SELECT ST_XMax(x) - ST_XMin(x), ST_YMax(x) - ST_YMin(x)
            FROM (SELECT ST_Extent(e.geom_l93) AS x FROM obs.event e WHERE {cond}) b"""),
            params,
        ).one()
        if box[0] is None:
            return {"type": "FeatureCollection", "features": [], "grid_m": None}
        params["g"] = fine = max(50.0, (box[0] + box[1]) / 2000)  # at most ~10^6 fine cells
        rows = np.array(
            conn.execute(
                sa.text(f"""
            SELECT floor(ST_X(e.geom_l93) / :g), floor(ST_Y(e.geom_l93) / :g), count(*),
                   sum(ST_X(e.geom_l93)), sum(ST_Y(e.geom_l93))
            FROM obs.event e WHERE {cond} AND e.geom_l93 IS NOT NULL GROUP BY 1, 2"""),
                params,
            ).all(),
            dtype=float,
        ).reshape(-1, 5)
    scale = 1
    while True:
        keys = np.floor(rows[:, :2] / scale)
        groups, inverse = np.unique(keys, axis=0, return_inverse=True)
        if len(groups) <= max_features:
            break
        scale *= 2
    inverse = inverse.ravel()
    n = np.bincount(inverse, weights=rows[:, 2])
    x = np.bincount(inverse, weights=rows[:, 3]) / n
    y = np.bincount(inverse, weights=rows[:, 4]) / n
    lon, lat = projection.to_wgs84().transform(x, y)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(a, 6), round(b, 6)]},
            "properties": {"count": int(c)},
        }
        for a, b, c in zip(lon, lat, n, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features, "grid_m": round(fine * scale)}


def _hexagons_within(
    engine: Engine, f: EventFilter, size: float, role: str | None, threshold: int | None, max_features: int
) -> dict[str, Any]:
    """Hexagons of ``size``, enlarged (doubled) until they fit under ``max_features``."""
    while True:
        layer = hexgrid.hex_counts(engine, f, size, role, threshold=threshold)
        if layer["cells"] <= max_features or size * 2 > hexgrid.MAX_CELL:
            return layer
        size *= 2


def map_layers(
    engine: Engine,
    f: EventFilter,
    role: str | None = None,
    *,
    cell: float = hexgrid.DEFAULT_CELL,
    max_features: int = MAX_FEATURES,
    threshold: int | None = None,
) -> dict[str, Any]:
    """The layers the map should draw for this filter and role, each under ``max_features`` features.

    Returns ``layers``: a list of ``{"id", "kind" ("points" | "clusters" | "hexagons"), "label",
    "sensitive", "geojson"}``, and ``reason``: why, in French, for the legend. Non-sensitive events come
    as points when there are few, else as clusters; sensitive events always as hexagons; an aggregate-only
    role gets one hexagon layer with small counts masked.
    """
    hexgrid.check_cell(cell)
    f = for_role(f, role)
    if role in AGGREGATE_ONLY:
        limit = disclosure.threshold_for(role, threshold)
        assert limit is not None  # an aggregate-only role always has a threshold
        layer = _hexagons_within(engine, f, cell, role, threshold, max_features)
        return {
            "layers": [
                {
                    "id": "agregats",
                    "kind": "hexagons",
                    "label": "Événements par hexagone",
                    "sensitive": None,
                    "geojson": layer,
                }
            ],
            "reason": f"Chiffres agrégés par hexagone ; les cellules de moins de {limit} événements sont "
            f"notées « {disclosure.label(limit)} » (charte de déontologie).",
        }
    counts = _geolocated(engine, f)
    layers, reasons = [], []
    if f.sensitive is not True and counts[False]:
        plain = replace(f, sensitive=False)
        if counts[False] <= max_features:
            layers.append(
                {
                    "id": "points",
                    "kind": "points",
                    "label": "Événements",
                    "sensitive": False,
                    "geojson": points(engine, plain, role, limit=max_features),
                }
            )
            reasons.append(f"{french.number(counts[False])} événements affichés un par un")
        else:
            layer = clusters(engine, plain, role, max_features=max_features)
            layers.append(
                {
                    "id": "regroupements",
                    "kind": "clusters",
                    "label": "Événements regroupés",
                    "sensitive": False,
                    "geojson": layer,
                }
            )
            reasons.append(
                f"{french.number(counts[False])} événements : trop nombreux pour être affichés un par un, regroupés "
                f"sur une grille de {layer['grid_m']} m"
            )
    if f.sensitive is not False and counts[True]:
        layer = _hexagons_within(engine, replace(f, sensitive=True), cell, role, threshold, max_features)
        layers.append(
            {
                "id": "sensibles",
                "kind": "hexagons",
                "label": "Catégories sensibles (par hexagone)",
                "sensitive": True,
                "geojson": layer,
            }
        )
        reasons.append(
            "les catégories sensibles (violences intrafamiliales, violences sexuelles…) ne sont "
            "jamais montrées en points, seulement par hexagone"
        )
    return {
        "layers": layers,
        "reason": "; ".join(reasons).capitalize() + "."
        if reasons
        else "Aucun événement géolocalisé pour ces filtres.",
    }


# The zones of a level that a commune holds or touches (``:level``, ``:com``), aliased ``z``.
COMMUNE_ZONES = """z.level = :level AND z.geom IS NOT NULL
    AND (z.parent_code = :com OR EXISTS (SELECT 1 FROM obs.territory c WHERE c.code = :com
                                         AND ST_Intersects(z.geom, c.geom)))"""


def tally_zones(conn: Connection, f: EventFilter, zones: Sequence[Any]) -> tuple[dict[str, int], int, int]:
    """Events of ``f`` per zone (rows with ``code`` and ``wkb_l93``, boundary included), then how many events
    ``f`` selects and how many of them are geolocated.

    On the dashboard's copy in memory when it keeps one; else in SQL, one zone after the other, its outline
    transformed once (materialised: inlined, the transform would run again for every point) and kept prepared
    by PostGIS while the spatial index hands it its points."""
    snap = event_store.snapshot(conn, f)
    if snap is not None:
        keep = snap.mask(f)
        counts = {z.code: snap.zone_count(f, z.code, bytes(z.wkb_l93)) for z in zones}
        return counts, int(keep.sum()), int((keep & snap.located).sum())
    cond, params = where(f)
    counts = dict(
        conn.execute(
            sa.text(f"""
        WITH z AS MATERIALIZED (SELECT code, ST_Transform(geom, 2154) AS geom_l93 FROM obs.territory
                                WHERE code = ANY(:codes))
        SELECT z.code, (SELECT count(*) FROM obs.event e WHERE {cond} AND ST_Covers(z.geom_l93, e.geom_l93))::int
        FROM z"""),
            {**params, "codes": [z.code for z in zones]},
        ).all()
    )
    total, located = conn.execute(
        sa.text(f"SELECT count(*), count(e.geom_l93) FROM obs.event e WHERE {cond}"), params
    ).one()
    return counts, int(total), int(located)


def tally_zones_by_month(conn: Connection, f: EventFilter, zones: Sequence[Any]) -> pd.DataFrame:
    """:func:`tally_zones`' counts month by month: ``code``, ``month`` (months since January 1970), ``count``."""
    snap = event_store.snapshot(conn, f)
    if snap is not None:
        parts = [
            pd.DataFrame({"code": z.code, "month": m.index.to_numpy(), "count": m.to_numpy()})
            for z in zones
            if len(m := snap.zone_months(f, z.code, bytes(z.wkb_l93)))
        ]
        return (
            pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["code", "month", "count"])
        )
    cond, params = where(f)
    return pd.read_sql(
        sa.text(f"""
        WITH z AS MATERIALIZED (SELECT code, ST_Transform(geom, 2154) AS geom_l93 FROM obs.territory
                                WHERE code = ANY(:codes))
        SELECT z.code, m.month, m.count FROM z CROSS JOIN LATERAL (
            SELECT {MONTH_SQL.format(a="e")} AS month, count(*)::int AS count FROM obs.event e
            WHERE {cond} AND ST_Covers(z.geom_l93, e.geom_l93) GROUP BY 1) m"""),
        conn,
        params={**params, "codes": [z.code for z in zones]},
    )


def protected_zones(
    conn: Connection,
    f: EventFilter,
    zones: Sequence[Any],
    threshold: int,
    *,
    view: Any,
    base: secrecy.Totals | None = None,
) -> dict[str, int]:
    """The state of each zone (rows with ``code`` and ``wkb_l93``) and of the events in none of them
    (:data:`~observatoire.events.secrecy.OUTSIDE`), for an aggregate-only role: protected over the calendar
    and against the number of geolocated events (:mod:`observatoire.events.secrecy`)."""
    base = base or secrecy.totals(conn, f, threshold)
    wide = unbounded(f)

    def long() -> pd.DataFrame:
        inside = tally_zones_by_month(conn, wide, zones)
        placed = base.monthly["geolocated"]
        rest = placed.sub(inside.groupby("month")["count"].sum(), fill_value=0).clip(lower=0)
        outside = pd.DataFrame({"code": secrecy.OUTSIDE, "month": rest.index, "count": rest.to_numpy()})
        return pd.concat([inside, outside], ignore_index=True).astype({"month": int, "count": int})

    cells = secrecy.protect_breakdown(conn, (view, wide), long, ["code"], base, total="geolocated")
    return dict(zip(cells["code"], cells["state"].astype(int), strict=True))


def zone_counts(
    engine: Engine,
    f: EventFilter,
    level: str = "iris",
    role: str | None = None,
    *,
    commune: str | None = None,
    scheme: str | None = "quantiles",
    k: int = 5,
    threshold: int | None = None,
) -> dict[str, Any]:
    """Events per IRIS or QPV of the commune: GeoJSON FeatureCollection (WGS84) of the zones with ``code``,
    ``name``, ``count``, ``population`` and ``rate`` (per 1,000 inhabitants over the filtered period) when
    the zone's population is loaded, and ``class`` when ``scheme`` is given.

    Beside the features: ``outside`` (geolocated events in no zone), ``total``, ``classes`` (bounds and
    French labels, on the rates when every zone has a population, else on the counts), ``method``.
    Aggregate-only roles: counts, rates and populations of masked zones are dropped.
    """
    if level not in ZONE_LEVELS:
        raise InputFileError(f"Niveau de zones inconnu : {level!r} (possibles : {', '.join(ZONE_LEVELS)}).")
    f = for_role(f, role)
    if commune is None:
        from observatoire.settings import get_settings

        commune = get_settings().commune
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(f"""
            WITH zones AS (
                SELECT z.code, z.name, z.geom, ST_Transform(z.geom, 2154) AS geom_l93 FROM obs.territory z
                WHERE {COMMUNE_ZONES}),
            pop AS (
                SELECT DISTINCT ON (territory_code) territory_code, inhabitants, year
                FROM obs.population WHERE territory_code IN (SELECT code FROM zones) AND inhabitants > 0
                ORDER BY territory_code, year DESC)
            SELECT z.code, z.name, ST_AsGeoJSON(z.geom, 6) AS geometry, ST_AsBinary(z.geom_l93) AS wkb_l93,
                   p.inhabitants, p.year
            FROM zones z LEFT JOIN pop p ON p.territory_code = z.code ORDER BY z.code"""),
            {"level": level, "com": str(TerritoryCode("COM", commune))},
        ).all()
        n, _, located = tally_zones(conn, f, rows)
        limit = disclosure.threshold_for(role, threshold)
        state = {r.code: disclosure.SHOWN for r in rows}
        outside = max(int(located) - sum(n.values()), 0)
        outside_state = disclosure.SHOWN
        if limit is not None:
            protected = protected_zones(
                conn, f, rows, limit, view=("zones", level, commune, tuple(r.code for r in rows))
            )
            state.update(protected)
            outside_state = protected.get(secrecy.OUTSIDE, disclosure.SHOWN)
    with_rates = bool(rows) and all(r.inhabitants for r in rows)
    features = []
    for r in rows:
        figures: dict[str, Any] = {}
        if r.inhabitants:
            figures = {
                "population": int(r.inhabitants),
                "population_year": int(r.year),
                "rate": round(n[r.code] / r.inhabitants * 1000, 2),
            }
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(r.geometry),
                "properties": {
                    "code": r.code,
                    "name": r.name,
                    **disclosure.cell_properties(n[r.code], limit, state[r.code], **figures),
                },
            }
        )
    counts = [n[r.code] for r in rows]
    states = [state[r.code] for r in rows] + [outside_state]
    result: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": features,
        "outside": disclosure.shown_as(outside, outside_state, limit),
        "total": disclosure.total([*counts, outside], limit, np.array(states)),
        "method": {
            "methode": f"Comptage par {'IRIS' if level == 'iris' else 'quartier prioritaire (QPV)'} "
            "(événements géolocalisés dans le contour)",
            "taux": "pour 1 000 habitants sur la période filtrée (dernière population connue de la zone)"
            if with_rates
            else "populations des zones non chargées : pas de taux",
            "filtres": f.describe(),
        },
    }
    if scheme:
        key = "rate" if with_rates else "count"
        values = [
            feat["properties"][key] if not feat["properties"]["masked"] else float("nan") for feat in features
        ]
        classes = choropleth.classify(values, scheme, k)
        for feat, b in zip(features, classes.pop("bins"), strict=True):
            feat["properties"]["class"] = b
        classes["on"] = "taux pour 1 000 habitants" if with_rates else "nombre d'événements"
        if limit is not None and any(feat["properties"]["masked"] for feat in features):
            classes["masked_label"] = (
                f"moins de {limit} événements, ou {disclosure.SECONDARY_LABEL} (secret statistique)"
            )
        result["classes"] = classes
    return result
