"""Accident-prone sites: clusters of injury accidents close to each other over a period, ranked by severity.

The input of site studies (fiche-action 13). Clustering is DBSCAN in Lambert-93 (metres), done by PostGIS.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire.errors import InputFileError
from observatoire.road.indicators import SOURCE_LINE, parse_years
from observatoire.road.scope import parse_scope

WEIGHTS = {"tues": 10, "hospitalises": 5, "blesses_legers": 1}

_SQL = """
WITH acc AS (
    SELECT a.id, a.accident_date, a.address, a.geom_l93 FROM obs.road_accident a
    WHERE {where} AND a.year BETWEEN :y0 AND :y1 AND a.geom_l93 IS NOT NULL),
cl AS (
    SELECT acc.*, ST_ClusterDBSCAN(acc.geom_l93, eps := :radius, minpoints := :min) OVER () AS cid FROM acc),
centre AS (
    SELECT cid, ST_Centroid(ST_Collect(geom_l93)) AS c FROM cl WHERE cid IS NOT NULL GROUP BY cid)
SELECT cl.cid, cl.id, cl.accident_date, cl.address,
       ST_X(ST_Transform(cl.geom_l93, 4326)) AS lon, ST_Y(ST_Transform(cl.geom_l93, 4326)) AS lat,
       ST_X(ST_Transform(centre.c, 4326)) AS site_lon, ST_Y(ST_Transform(centre.c, 4326)) AS site_lat,
       ST_Distance(centre.c, cl.geom_l93) AS distance_m,
       g.users, g.killed, g.hospitalised, g.slight
FROM cl JOIN centre USING (cid)
LEFT JOIN LATERAL (
    SELECT count(*) AS users, count(*) FILTER (WHERE u.gravity = 2) AS killed,
           count(*) FILTER (WHERE u.gravity = 3) AS hospitalised, count(*) FILTER (WHERE u.gravity = 4) AS slight
    FROM obs.road_user u WHERE u.accident_id = cl.id) g ON TRUE
ORDER BY cl.cid, cl.accident_date, cl.id
"""


def _period(engine: Engine, where: str, params: dict, years, period_years: int) -> tuple[int, int]:
    span = parse_years(years)
    if span:
        return span
    with engine.connect() as conn:
        last = conn.execute(
            sa.text(f"SELECT max(a.year) FROM obs.road_accident a WHERE {where}"), params
        ).scalar()
    if last is None:
        return (2005, 2005)
    return (int(last) - period_years + 1, int(last))


def dangerous_sites(
    engine: Engine,
    territory: str,
    years=None,
    *,
    radius_m: float = 50,
    min_accidents: int = 3,
    period_years: int = 5,
) -> dict[str, Any]:
    """Sites as a GeoJSON FeatureCollection (one point per site, at the centre of its accidents).

    Each feature carries its rank, counts, severity index and ``accidents_liste`` (id, date, address,
    victims). Without ``years`` the period is the last ``period_years`` years with accidents.
    """
    if not 1 <= radius_m <= 2000:
        raise InputFileError(f"Rayon invalide : {radius_m} m (entre 1 et 2 000 m).")
    if not 2 <= min_accidents <= 1000:
        raise InputFileError(f"Nombre minimal d'accidents invalide : {min_accidents} (au moins 2).")
    scope = parse_scope(territory)
    where, params = scope.predicate("a")
    y0, y1 = _period(engine, where, params, years, period_years)
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text(_SQL.format(where=where)),
                {**params, "y0": y0, "y1": y1, "radius": float(radius_m), "min": int(min_accidents)},
            )
            .mappings()
            .all()
        )
    sites: dict[int, dict[str, Any]] = {}
    for r in rows:
        site = sites.setdefault(r["cid"], {"lon": r["site_lon"], "lat": r["site_lat"], "accidents": []})
        known = bool(r["users"])
        site["accidents"].append(
            {
                "id": r["id"],
                "date": r["accident_date"].isoformat(),
                "adresse": r["address"],
                "tues": r["killed"] if known else None,
                "hospitalises": r["hospitalised"] if known else None,
                "blesses_legers": r["slight"] if known else None,
                "distance_m": round(r["distance_m"], 1),
                "lon": r["lon"],
                "lat": r["lat"],
            }
        )
    features = []
    for site in sites.values():
        accs = site["accidents"]
        totals = {k: sum(a[k] or 0 for a in accs) for k in WEIGHTS}
        props = {
            "accidents": len(accs),
            **totals,
            "accidents_mortels": sum(1 for a in accs if a["tues"]),
            "indice_gravite": sum(WEIGHTS[k] * v for k, v in totals.items()),
            "gravite_incomplete": any(a["tues"] is None for a in accs),
            "rayon_m": max(a["distance_m"] for a in accs),
            "premier": min(a["date"] for a in accs),
            "dernier": max(a["date"] for a in accs),
            "adresses": sorted({a["adresse"] for a in accs if a["adresse"]}),
            "accidents_liste": accs,
        }
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [site["lon"], site["lat"]]},
                "properties": props,
            }
        )
    features.sort(
        key=lambda f: (
            -f["properties"]["indice_gravite"],
            -f["properties"]["accidents"],
            f["properties"]["premier"],
        )
    )
    for rank, feature in enumerate(features, start=1):
        feature["properties"] = {"rang": rank, **feature["properties"]}
    return {
        "type": "FeatureCollection",
        "features": features,
        "metadata": {
            "territoire": scope.code,
            "annees": [y0, y1],
            "rayon_m": radius_m,
            "min_accidents": min_accidents,
            "methode": "DBSCAN (ST_ClusterDBSCAN) en Lambert-93 sur les accidents géolocalisés",
            "poids_gravite": WEIGHTS,
            "source": SOURCE_LINE,
        },
    }


def sites_tables(collection: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per site, one row per accident of a site) — the table alternatives of the map."""
    sites, accidents = [], []
    for feature in collection["features"]:
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        sites.append(
            {k: v for k, v in props.items() if k not in ("accidents_liste", "adresses")}
            | {"adresses": " ; ".join(props["adresses"]), "lon": lon, "lat": lat}
        )
        accidents.extend({"rang_site": props["rang"], **a} for a in props["accidents_liste"])
    return pd.DataFrame(sites), pd.DataFrame(accidents)
