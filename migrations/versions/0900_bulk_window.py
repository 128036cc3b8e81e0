"""Large police municipale imports copy their rows straight into the table, inside a bulk window.

``pm_intervention_bulk_open()`` drops the indexes and keys, ``pm_intervention_bulk_close()`` removes the
duplicates and rebuilds them once (see :func:`observatoire.bulk_sql.bulk_window_functions`); the importer
``COPY``s its validated rows in between. The rows are written once instead of twice (a staging table, then
the table). ``obs.bulk_window`` records the open windows; a deferred trigger refuses to commit one left open.
The former bulk insert of this table, fed by a staging view, goes. That of ``pn_stat`` is recreated: it now
drops its reference trigger during the insert instead of disabling it, since a disabled trigger still makes
PostgreSQL keep every inserted row for it.

Revision ID: 0900
Revises: 0800
Create Date: 2026-11-22
"""

from alembic import op

from observatoire.bulk_sql import BULK_WINDOW_TABLE, bulk_insert_function, bulk_window_functions

revision = "0900"
down_revision = "0800"
branch_labels = None
depends_on = None

S = "obs"
FK_TARGETS = ("pm_intervention_type", "pm_family")


def upgrade() -> None:
    op.execute(BULK_WINDOW_TABLE)
    op.execute(bulk_window_functions("pm_intervention", ("natural_key",), dropped_fk_targets=FK_TARGETS))
    op.execute(f"DROP FUNCTION {S}.pm_intervention_bulk_insert()")
    op.execute(bulk_insert_function("pn_stat", ("edition", "indicator_id", "territory_code", "year")))


def downgrade() -> None:
    op.execute(bulk_insert_function("pm_intervention", ("natural_key",), dropped_fk_targets=FK_TARGETS))
    op.execute(f"DROP FUNCTION {S}.pm_intervention_bulk_close()")
    op.execute(f"DROP FUNCTION {S}.pm_intervention_bulk_open")  # whichever signature (see 1100)
    op.execute(f"DROP TABLE {S}.bulk_window")
    op.execute(f"DROP FUNCTION {S}.bulk_window_left_open()")
