"""Foundation: territories, populations, import batches, accounts, append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "obs"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("user_login", sa.String(80)),
        sa.Column("rows_read", sa.Integer(), server_default="0", nullable=False),
        sa.Column("inserted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("duplicates", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(20), server_default="en_cours", nullable=False),
        sa.Column("report", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('en_cours', 'importe', 'echec', 'annule', 'essai')", name="ck_import_batch_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_import_batch"),
        schema=S,
    )
    op.create_index("ix_import_batch_sha256", "import_batch", ["sha256"], schema=S)
    op.create_table(
        "territory",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_code", sa.String(40)),
        sa.Column("geom", geoalchemy2.Geometry("MULTIPOLYGON", 4326, spatial_index=False), nullable=True),
        sa.Column("batch_id", sa.Integer()),
        sa.CheckConstraint(
            "level IN ('commune', 'departement', 'region', 'pays', 'iris', 'qpv', 'groupe')",
            name="ck_territory_level",
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"], [f"{S}.territory.code"], name="fk_territory_parent_code_territory"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], [f"{S}.import_batch.id"], name="fk_territory_batch_id_import_batch"
        ),
        sa.PrimaryKeyConstraint("code", name="pk_territory"),
        schema=S,
    )
    op.create_index("ix_territory_level", "territory", ["level"], schema=S)
    op.create_index("ix_territory_parent_code", "territory", ["parent_code"], schema=S)
    op.create_index("idx_territory_geom", "territory", ["geom"], schema=S, postgresql_using="gist")
    op.create_table(
        "population",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("territory_code", sa.String(40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("inhabitants", sa.Integer()),
        sa.Column("dwellings", sa.Integer()),
        sa.Column("census_vintage", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("batch_id", sa.Integer()),
        sa.ForeignKeyConstraint(
            ["territory_code"], [f"{S}.territory.code"], name="fk_population_territory_code_territory"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], [f"{S}.import_batch.id"], name="fk_population_batch_id_import_batch"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_population"),
        sa.UniqueConstraint(
            "territory_code", "year", "source", name="uq_population_territory_code_year_source"
        ),
        schema=S,
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("login", sa.String(80), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True)),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column(
            "password_changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_app_user"),
        sa.UniqueConstraint("login", name="uq_app_user_login"),
        schema=S,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("user_login", sa.String(80)),
        sa.Column("role", sa.String(30)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.Text()),
        sa.Column("batch_id", sa.Integer()),
        sa.Column("ip", sa.String(64)),
        sa.Column("detail", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        schema=S,
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], schema=S)
    op.create_index("ix_audit_log_action", "audit_log", ["action"], schema=S)

    # The audit log is append-only for everyone: a trigger refuses UPDATE, DELETE and TRUNCATE. The only
    # way rows go is obs.purge_audit(), run by the owner with a flag only it can set in its transaction.
    op.execute(f"""
        CREATE FUNCTION {S}.audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND current_setting('obs.purge_en_cours', true) = 'oui' THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'journal d''audit en ajout seul : % refusé', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON {S}.audit_log
            FOR EACH ROW EXECUTE FUNCTION {S}.audit_log_refuse();
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {S}.audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION {S}.audit_log_refuse();

        CREATE FUNCTION {S}.purge_audit(retention_years integer, by_login text) RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = {S}, pg_temp AS $$
        DECLARE removed bigint;
        BEGIN
            IF retention_years < 1 THEN
                RAISE EXCEPTION 'durée de conservation invalide : % an(s)', retention_years;
            END IF;
            PERFORM set_config('obs.purge_en_cours', 'oui', true);
            DELETE FROM {S}.audit_log WHERE at < now() - make_interval(years => retention_years);
            GET DIAGNOSTICS removed = ROW_COUNT;
            PERFORM set_config('obs.purge_en_cours', '', true);
            INSERT INTO {S}.audit_log (user_login, action, target, detail)
                VALUES (by_login, 'purge', 'audit_log',
                        jsonb_build_object('lignes_supprimees', removed, 'conservation_ans', retention_years));
            RETURN removed;
        END $$;
        REVOKE ALL ON FUNCTION {S}.purge_audit(integer, text) FROM PUBLIC;
    """)
    # The application's role, when the product manages it, gets data rights but not on the audit log.
    op.execute(f"""
        DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
            GRANT USAGE ON SCHEMA {S} TO obs_app;
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {S} TO obs_app;
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {S} TO obs_app;
            ALTER DEFAULT PRIVILEGES IN SCHEMA {S} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO obs_app;
            ALTER DEFAULT PRIVILEGES IN SCHEMA {S} GRANT USAGE, SELECT ON SEQUENCES TO obs_app;
            REVOKE UPDATE, DELETE, TRUNCATE ON {S}.audit_log FROM obs_app;
            GRANT EXECUTE ON FUNCTION {S}.purge_audit(integer, text) TO obs_app;
            GRANT SELECT ON public.spatial_ref_sys TO obs_app;
        END IF;
        END $$;
    """)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {S}.purge_audit(integer, text)")
    for table in ("audit_log", "app_user", "population", "territory", "import_batch"):
        op.drop_table(table, schema=S)
    op.execute(f"DROP FUNCTION IF EXISTS {S}.audit_log_refuse()")
