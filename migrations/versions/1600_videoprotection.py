"""Video-protection: cameras, judicial requisitions and their cameras, corrections history, and the
consultation / extraction / hand-over log.

The log is append-only: a trigger refuses every UPDATE, and every DELETE of an entry younger than three years
(the legal minimum of its keeping), so that only the retention purge removes entries. The application role may
insert and delete (the purge) but never update. The corrections history is append-only as well.

Cameras are not events (they have no date of occurrence): they are not a branch of ``obs.event``.

Revision ID: 1600
Revises: 1400
Create Date: 2026-12-03
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "1600"
down_revision = "1400"
branch_labels = None
depends_on = None

S = "obs"
KINDS = ("fixe", "dome", "lapi")
AUTHORITIES = ("police_nationale", "gendarmerie", "parquet_juge", "douanes", "police_municipale")
USABLE = ("oui", "non", "inconnu")
CATEGORIES = (
    "atteintes_personnes",
    "vols_violents",
    "cambriolages",
    "vols_vehicules",
    "vols_simples",
    "degradations",
    "stupefiants",
    "circulation",
    "autres",
)
LOG_ACTIONS = ("consultation", "extraction", "remise")


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "video_camera",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("address", sa.Text()),
        sa.Column("commissioned_on", sa.Date()),
        sa.Column("removed_on", sa.Date()),
        sa.Column("direction_deg", sa.Float()),
        sa.Column("range_m", sa.Float()),
        sa.Column("geom", geoalchemy2.Geometry("POINT", 4326, spatial_index=False), nullable=False),
        sa.Column(
            "geom_l93",
            geoalchemy2.Geometry("POINT", 2154, spatial_index=False),
            sa.Computed("ST_Transform(geom, 2154)", persisted=True),
            nullable=False,
        ),
        sa.Column("batch_id", sa.Integer()),
        sa.Column("created_by", sa.String(80)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.CheckConstraint(f"kind IN {KINDS}", name="ck_video_camera_kind"),
        sa.CheckConstraint(
            "removed_on IS NULL OR commissioned_on IS NULL OR removed_on >= commissioned_on",
            name="ck_video_camera_dates",
        ),
        sa.CheckConstraint(
            "direction_deg IS NULL OR (direction_deg >= 0 AND direction_deg < 360)",
            name="ck_video_camera_direction",
        ),
        sa.CheckConstraint(
            "range_m IS NULL OR (range_m > 0 AND range_m <= 1000)", name="ck_video_camera_range"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], [f"{S}.import_batch.id"], name="fk_video_camera_batch_id_import_batch"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_video_camera"),
        sa.UniqueConstraint("code", name="uq_video_camera_code"),
        schema=S,
    )
    op.create_index("ix_video_camera_batch_id", "video_camera", ["batch_id"], schema=S)
    op.create_table(
        "video_requisition",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("authority", sa.String(20), nullable=False),
        sa.Column("procedure_ref", sa.Text()),
        sa.Column("images_from", sa.DateTime(timezone=False), nullable=False),
        sa.Column("images_to", sa.DateTime(timezone=False)),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("images_found", sa.Boolean()),
        sa.Column("handed_over_on", sa.Date()),
        sa.Column("usable", sa.String(8), server_default="inconnu", nullable=False),
        sa.Column("natural_key", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer()),
        sa.Column("created_by", sa.String(80)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.CheckConstraint(f"authority IN {AUTHORITIES}", name="ck_video_requisition_authority"),
        sa.CheckConstraint(f"category IN {CATEGORIES}", name="ck_video_requisition_category"),
        sa.CheckConstraint(f"usable IN {USABLE}", name="ck_video_requisition_usable"),
        sa.CheckConstraint(
            "images_to IS NULL OR images_to >= images_from", name="ck_video_requisition_period"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], [f"{S}.import_batch.id"], name="fk_video_requisition_batch_id_import_batch"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_video_requisition"),
        sa.UniqueConstraint("natural_key", name="uq_video_requisition_natural_key"),
        schema=S,
    )
    op.create_index("ix_video_requisition_batch_id", "video_requisition", ["batch_id"], schema=S)
    op.create_index("ix_video_requisition_requested_on", "video_requisition", ["requested_on"], schema=S)
    op.create_table(
        "video_requisition_camera",
        sa.Column("requisition_id", sa.BigInteger(), nullable=False),
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["requisition_id"],
            [f"{S}.video_requisition.id"],
            ondelete="CASCADE",
            name="fk_video_requisition_camera_requisition_id_video_requisition",
        ),
        sa.ForeignKeyConstraint(
            ["camera_id"], [f"{S}.video_camera.id"], name="fk_video_requisition_camera_camera_id_video_camera"
        ),
        sa.PrimaryKeyConstraint("requisition_id", "camera_id", name="pk_video_requisition_camera"),
        schema=S,
    )
    op.create_index(
        "ix_video_requisition_camera_camera_id", "video_requisition_camera", ["camera_id"], schema=S
    )
    op.create_table(
        "video_correction",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.Text()),
        sa.Column("new_value", sa.Text()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user_login", sa.String(80), nullable=False),
        sa.CheckConstraint("entity IN ('camera', 'requisition')", name="ck_video_correction_entity"),
        sa.PrimaryKeyConstraint("id", name="pk_video_correction"),
        schema=S,
    )
    op.create_index("ix_video_correction_entity", "video_correction", ["entity", "entity_id"], schema=S)
    op.create_table(
        "video_access_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("user_login", sa.String(80), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text()),
        sa.Column("camera_code", sa.String(40)),
        sa.Column("requisition_id", sa.BigInteger()),
        sa.CheckConstraint(f"action IN {LOG_ACTIONS}", name="ck_video_access_log_action"),
        sa.PrimaryKeyConstraint("id", name="pk_video_access_log"),
        schema=S,
    )
    op.create_index("ix_video_access_log_at", "video_access_log", ["at"], schema=S)
    op.execute(f"""
        CREATE FUNCTION {S}.video_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND OLD.at < now() - interval '3 years' THEN
                RETURN OLD;  -- the retention purge: only entries past the legal minimum of three years
            END IF;
            RAISE EXCEPTION 'Le journal % ne peut être ni modifié ni effacé (sauf la purge de conservation).',
                TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END $$""")
    for table in ("video_access_log", "video_correction"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {S}.{table} "
            f"FOR EACH ROW EXECUTE FUNCTION {S}.video_log_guard()"
        )
    op.execute(f"""DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
            GRANT SELECT, INSERT, UPDATE, DELETE ON {S}.video_camera, {S}.video_requisition,
                {S}.video_requisition_camera TO obs_app;
            GRANT SELECT, INSERT ON {S}.video_correction TO obs_app;
            GRANT SELECT, INSERT, DELETE ON {S}.video_access_log TO obs_app;
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {S} TO obs_app;
        END IF; END $$""")


def downgrade() -> None:
    for table in ("video_access_log", "video_correction", "video_requisition_camera", "video_requisition"):
        op.drop_table(table, schema=S)
    op.drop_table("video_camera", schema=S)
    op.execute(f"DROP FUNCTION IF EXISTS {S}.video_log_guard()")
