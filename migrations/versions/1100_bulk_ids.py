"""The police municipale bulk window reserves the ids of the rows it will receive.

``pm_intervention_bulk_open(rows)`` takes the number of rows to come and returns the first of as many values
drawn from the ``id`` sequence at once: the importer numbers its rows itself (in the order of its file) and
sends them in PostgreSQL's binary ``COPY`` format, instead of the server calling the sequence once per row.
Called without argument it reserves nothing and the rows take their ids from the sequence as before.

Revision ID: 1100
Revises: 1000
Create Date: 2026-11-29
"""

from alembic import op

from observatoire.bulk_sql import bulk_window_functions

revision = "1100"
down_revision = "1000"
branch_labels = None
depends_on = None

S = "obs"
FK_TARGETS = ("pm_intervention_type", "pm_family")


def upgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {S}.pm_intervention_bulk_open()")
    op.execute(bulk_window_functions("pm_intervention", ("natural_key",), dropped_fk_targets=FK_TARGETS))


def downgrade() -> None:
    # The function of 1100 also serves the callers of 0900 (no argument, nothing reserved): nothing to undo.
    pass
