"""Observed series an indicator can be tied to: yearly counts of the observatoire's own sources for the commune,
shown beside the action's progress (fiche 13 ↔ injury accidents and hospitalised victims, fiche 16 ↔ municipal
police interventions for public tranquillity, fiche 7 ↔ intra-family violence)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire.geo_codes import TerritoryCode


@dataclass(frozen=True)
class Series:
    label: str
    permission: str  # who may read it: the permission of its source
    sql: str  # (year, count) for :commune (INSEE code) and :territory (COM:xxxxx)
    detail: str  # the page giving the detail


_PN_LATEST = (
    "SELECT s.year, sum(s.count)::bigint AS count FROM obs.pn_stat s "
    "WHERE s.territory_code = :territory AND s.indicator_id IN ({ids}) AND s.count IS NOT NULL "
    "AND s.edition = (SELECT max(edition) FROM obs.pn_stat WHERE territory_code = :territory "
    "AND indicator_id IN ({ids})) GROUP BY s.year ORDER BY s.year"
)

SERIES: dict[str, Series] = {
    "routes_accidents": Series(
        "Accidents corporels de la route",
        "routes.voir",
        "SELECT year, count(*) AS count FROM obs.road_accident WHERE commune_insee = :commune GROUP BY year "
        "ORDER BY year",
        "/securite-routiere",
    ),
    "routes_hospitalises": Series(
        "Blessés hospitalisés (accidents de la route)",
        "routes.voir",
        "SELECT a.year, count(*) AS count FROM obs.road_user u JOIN obs.road_accident a ON a.id = u.accident_id "
        "WHERE a.commune_insee = :commune AND u.gravity = 3 GROUP BY a.year ORDER BY a.year",
        "/securite-routiere",
    ),
    "pm_tranquillite": Series(
        "Interventions de police municipale (tranquillité publique)",
        "pm.voir",
        "SELECT extract(year FROM occurred_at)::int AS year, count(*) AS count FROM obs.pm_intervention "
        "WHERE family_code = 'tranquillite' GROUP BY 1 ORDER BY 1",
        "/police-municipale",
    ),
    "pn_violences_intrafamiliales": Series(
        "Violences intrafamiliales enregistrées (SSMSI)",
        "stats.voir",
        _PN_LATEST.format(ids="'cbv_intrafamiliaux', 'violences_physiques_intrafamiliales'"),
        "/comparaisons",
    ),
}


def yearly(engine: Engine, key: str, commune: str) -> pd.DataFrame:
    """(year, count) of a series for the commune (``04112``); empty when its source is not loaded."""
    series = SERIES[key]
    with engine.connect() as conn:
        frame = pd.read_sql_query(
            sa.text(series.sql),
            conn,
            params={"commune": commune, "territory": str(TerritoryCode("COM", commune))},
        )
    return frame.astype({"year": int, "count": int})
