"""What the home page says about the data loaded: for each source, the latest period available."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# (label, table, SQL of the latest period, SQL of the number of rows). Sources whose table does not
# exist yet (a capability not installed) are simply absent.
_SOURCES = (
    ("Délinquance enregistrée (SSMSI)", "obs.pn_stat",
     "SELECT max(year)::text FROM obs.pn_stat WHERE count IS NOT NULL", "SELECT count(*) FROM obs.pn_stat"),
    ("État 4001 (faits constatés locaux)", "obs.etat4001_count",
     "SELECT to_char(make_date(max(year * 100 + month) / 100, max(year * 100 + month) % 100, 1), 'MM/YYYY') "
     "FROM obs.etat4001_count", "SELECT count(*) FROM obs.etat4001_count"),
    ("Interventions de la police municipale", "obs.pm_intervention",
     "SELECT to_char(max(occurred_at), 'DD/MM/YYYY') FROM obs.pm_intervention",
     "SELECT count(*) FROM obs.pm_intervention"),
    ("Accidents de la route (ONISR)", "obs.road_accident",
     "SELECT max(year)::text FROM obs.road_accident", "SELECT count(*) FROM obs.road_accident"),
)


def data_freshness(engine: Engine) -> list[dict[str, Any]]:
    rows = []
    with engine.connect() as conn:
        for label, table, latest_sql, count_sql in _SOURCES:
            if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
                continue
            count = conn.execute(sa.text(count_sql)).scalar_one()
            latest = conn.execute(sa.text(latest_sql)).scalar() if count else None
            rows.append({"source": label, "latest": latest, "rows": count})
    return rows
