"""What the home page says about the data loaded: for each source the role may see, the latest period
available."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire.permissions import allowed
from observatoire.sources import SOURCES


def data_freshness(engine: Engine, role: str | None) -> list[dict[str, Any]]:
    """One row per source the home page reports on and ``role`` may see (``Source.view_permission``): that a
    source holds data, and how much, is itself what its permission guards. A source whose table does not exist
    yet (a capability not installed) is simply absent."""
    rows = []
    with engine.connect() as conn:
        for source in SOURCES:
            fresh = source.freshness
            if fresh is None or source.view_permission is None or not allowed(role, source.view_permission):
                continue
            if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": fresh.table}).scalar() is None:
                continue
            count = conn.execute(sa.text(f"SELECT count(*) FROM {fresh.table}")).scalar_one()
            latest = conn.execute(sa.text(fresh.latest_sql)).scalar() if count else None
            rows.append({"source": source.label, "latest": latest, "rows": count})
    return rows
