"""A version counter of the events, raised by every change of the tables behind ``obs.event``.

The map keeps the events it filters in memory; it reads this counter (one primary-key row) on each request
and reloads when an import, an undo, a purge or a nomenclature edit has changed what the view returns.

Revision ID: 0600
Revises: 0500
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0600"
down_revision = "0500"
branch_labels = None
depends_on = None

S = "obs"
# Every table whose rows or catalogue flags change what obs.event returns (sensitivity, family, category).
TABLES = (
    "pn_fact",
    "pn_fact_category",
    "pm_intervention",
    "pm_intervention_type",
    "road_accident",
    "road_user",
)


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_data_version"),
        schema=S,
    )
    op.execute(f"INSERT INTO {S}.data_version (name) VALUES ('event')")
    # SECURITY DEFINER: the application role imports rows but may not write the counter itself.
    # clock_timestamp(), not now(): two bumps in one transaction must still give two different pairs.
    op.execute(f"""
        CREATE FUNCTION {S}.bump_event_version() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = {S}, pg_temp AS $$
        BEGIN
            -- an upsert: the row may have been emptied (a test reset, a restore); the counter must still move
            INSERT INTO {S}.data_version AS d (name, version, changed_at) VALUES ('event', 1, clock_timestamp())
            ON CONFLICT (name) DO UPDATE SET version = d.version + 1, changed_at = clock_timestamp();
            RETURN NULL;
        END $$""")
    op.execute(f"REVOKE ALL ON FUNCTION {S}.bump_event_version() FROM PUBLIC")
    for table in TABLES:
        # Once per statement, not per row: a million-row import raises the counter once.
        op.execute(
            f"CREATE TRIGGER {table}_event_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {S}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {S}.bump_event_version()"
        )
    op.execute(f"""DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
            GRANT SELECT ON {S}.data_version TO obs_app;
        END IF; END $$""")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_event_version ON {S}.{table}")
    op.execute(f"DROP FUNCTION IF EXISTS {S}.bump_event_version()")
    op.drop_table("data_version", schema=S)
