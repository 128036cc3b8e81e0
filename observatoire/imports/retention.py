"""Retention of source data: each source whose table of the sources names a retention rule is purged of the
rows older than its setting (municipal logbook interventions: three years, CNIL and deontology charter);
every purge is written to the audit log."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import audit
from observatoire.db import allow_long_work
from observatoire.errors import ObservatoireError
from observatoire.settings import Settings
from observatoire.sources import SOURCES


def purge_source_data(engine: Engine, settings: Settings, by_login: str | None) -> dict[str, tuple[int, int]]:
    """Purge every retained source; returns table → (rows removed, retention in years)."""
    removed = {}
    with engine.begin() as conn:
        allow_long_work(conn)
        for source in SOURCES:
            rule = source.retention
            if rule is None:
                continue
            years = getattr(settings, rule.years_setting)
            if years < 1:
                raise ObservatoireError(f"Durée de conservation invalide : {years} an(s).")
            count = conn.execute(
                sa.text(
                    f"DELETE FROM {rule.table} WHERE {rule.date_column} < now() - make_interval(years => :y)"
                ),
                {"y": years},
            ).rowcount
            removed[rule.table] = (count, years)
        # Written last: an entry locks the head of the audit log's chain until the transaction ends.
        for table, (count, years) in removed.items():
            audit.record(
                conn,
                "purge",
                user_login=by_login,
                target=table,
                detail={"lignes_supprimees": count, "conservation_ans": years},
            )
    return removed
