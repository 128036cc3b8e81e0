"""One head again: police nationale statistics and the event sources.

Revision ID: 0500
Revises: 0100, 0400
Create Date: 2026-11-22
"""

revision = "0500"
down_revision = ("0100", "0400")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
