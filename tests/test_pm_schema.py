"""The police municipale tables of the migrated database match ``observatoire.models_pm``."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import observatoire.models_pm  # noqa: F401  (registers the tables on Base.metadata)
from observatoire.migrate import include_object
from observatoire.models import SCHEMA, Base

PM_TABLES = {"pm_family", "pm_intervention_type", "pm_label_mapping", "import_profile", "ban_address",
             "pm_intervention"}


def _table_of(entry) -> str | None:
    """Name of the table a diff entry is about (entries are tuples, or lists of tuples for columns)."""
    item = entry[0] if isinstance(entry, list) else entry
    for part in item[1:]:
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return table.name
        if isinstance(part, sa.Table):
            return part.name
        if name and isinstance(part, sa.Table):
            return name
    if len(item) > 3 and isinstance(item[3], str):
        return item[3]  # column entries: (op, schema, table, column, ...)
    if len(item) > 2 and isinstance(item[2], str):
        return item[2]
    return None


def test_pm_models_and_migrated_database_do_not_differ(admin_engine):
    with admin_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_schemas": True, "include_object": include_object, "compare_type": True,
            "version_table_schema": SCHEMA,
        })
        diff = compare_metadata(context, Base.metadata)
    mine = [d for d in diff if _table_of(d) in PM_TABLES]
    assert mine == []


def test_catalogue_is_seeded_and_kept_between_tests(engine):
    with engine.connect() as conn:
        types = conn.execute(sa.text("SELECT count(*) FROM obs.pm_intervention_type")).scalar_one()
        sensitive = conn.execute(sa.text(
            "SELECT code FROM obs.pm_intervention_type WHERE sensitive")).scalars().all()
    assert types >= 20
    assert sensitive == ["differends_familiaux"]
