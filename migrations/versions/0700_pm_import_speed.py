"""Police municipale interventions: no index on the label key.

Only one statement filters on ``label_key``: attaching a file label to a type (``learn_label``), an
analyst's occasional action that rewrites the matching rows anyway; a sequential scan costs it a fraction of a
second on a million rows. The index cost every import its upkeep, and a full rebuild (about a second per
million rows) on the bulk path. The list of unknown labels reads the rows without a type through the
``type_code`` index, which stays, as do the primary key, the natural key (deduplication), ``batch_id`` (undo of
an import), ``occurred_at`` (periods, retention) and the GiST index of ``geom_l93`` (maps).

Revision ID: 0700
Revises: 0600
Create Date: 2026-11-22
"""

from alembic import op

revision = "0700"
down_revision = "0600"
branch_labels = None
depends_on = None

S = "obs"


def upgrade() -> None:
    op.drop_index("ix_pm_intervention_label_key", table_name="pm_intervention", schema=S)


def downgrade() -> None:
    op.create_index("ix_pm_intervention_label_key", "pm_intervention", ["label_key"], schema=S)
