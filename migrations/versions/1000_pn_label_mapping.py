"""Police nationale wordings attached by an analyst to a category (as the police municipale labels are).

A geolocated fact whose wording no category matched stays unclassified and sensitive; once its wording is
attached here, the stored facts without an état 4001 index are reclassified and the next imports use it.

Revision ID: 1000
Revises: 0900
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "1000"
down_revision = "0900"
branch_labels = None
depends_on = None

S = "obs"


def upgrade() -> None:
    op.create_table(
        "pn_label_mapping",
        sa.Column("label_key", sa.Text(), nullable=False),
        sa.Column("category_code", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(80)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"],
            [f"{S}.pn_fact_category.code"],
            onupdate="CASCADE",
            name="fk_pn_label_mapping_category_code_pn_fact_category",
        ),
        sa.PrimaryKeyConstraint("label_key", name="pk_pn_label_mapping"),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("pn_label_mapping", schema=S)
