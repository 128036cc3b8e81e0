"""Retention of source data: municipal logbook interventions are kept three years (CNIL, deontology
charter), then purged; every purge is written to the audit log."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import audit

# table -> column giving the date of the fact, whose age decides.
RETAINED = {"obs.pm_intervention": "occurred_at"}


def purge_source_data(engine: Engine, retention_years: int, by_login: str | None) -> dict[str, int]:
    if retention_years < 1:
        from observatoire.errors import ObservatoireError

        raise ObservatoireError(f"Durée de conservation invalide : {retention_years} an(s).")
    removed = {}
    with engine.begin() as conn:
        for table, column in RETAINED.items():
            count = conn.execute(sa.text(
                f"DELETE FROM {table} WHERE {column} < now() - make_interval(years => :y)"),
                {"y": retention_years}).rowcount
            removed[table] = count
            audit.record(conn, "purge", user_login=by_login, target=table,
                         detail={"lignes_supprimees": count, "conservation_ans": retention_years})
    return removed
