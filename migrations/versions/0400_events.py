"""Geolocated police nationale facts, their category catalogue, and the ``obs.event`` view of every source.

Revision ID: 0400
Revises: 0200, 0300
Create Date: 2026-11-22
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0400"
# The view reads the police municipale and road tables, so this revision follows (merges) both branches:
# ``down_revision = "0001"`` with ``depends_on = ("0200", "0300")`` makes Alembic's head bookkeeping fail
# on a fresh database (KeyError '0001' when the sibling branches have already consumed it).
down_revision = ("0200", "0300")
branch_labels = None
depends_on = None

S = "obs"

# Literal seed, not imported from the application: this migration must replay the same forever.
FAMILIES = [
    ("avip", "Atteintes volontaires à l'intégrité physique", 1),
    ("biens", "Atteintes aux biens", 2),
    ("stupefiants", "Stupéfiants", 3),
    ("autres", "Autres infractions", 9),
]

# (code, label, family, sensitive, état 4001 index, keywords of the files' wordings)
CATEGORIES = [
    (
        "violences_physiques",
        "Violences physiques (hors cadre familial)",
        "avip",
        False,
        [1, 3, 5, 6, 7, 73],
        [
            "coups et blessures",
            "coups et blessures volontaires",
            "cbv",
            "violences volontaires",
            "violences",
            "agression",
            "rixe",
            "homicide",
            "tentative d homicide",
            "violences a depositaire",
        ],
    ),
    (
        "violences_intrafamiliales",
        "Violences intrafamiliales",
        "avip",
        True,
        [51, 52],
        [
            "violences intrafamiliales",
            "violence intrafamiliale",
            "intrafamilial",
            "intrafamiliale",
            "conjugal",
            "conjugale",
            "violences conjugales",
            "mauvais traitements",
            "maltraitance",
            "vif",
        ],
    ),
    (
        "violences_sexuelles",
        "Violences sexuelles",
        "avip",
        True,
        [46, 47, 48, 49, 50],
        [
            "viol",
            "viols",
            "agression sexuelle",
            "agressions sexuelles",
            "harcelement sexuel",
            "atteinte sexuelle",
            "atteintes sexuelles",
            "exhibition sexuelle",
            "violences sexuelles",
        ],
    ),
    (
        "menaces",
        "Menaces de violences",
        "avip",
        False,
        [11, 12],
        ["menace", "menaces", "menaces de mort", "chantage", "menaces de violences"],
    ),
    (
        "vols_violents",
        "Vols avec violence",
        "avip",
        False,
        [2, 4, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26],
        [
            "vol avec violence",
            "vols avec violence",
            "vol violent",
            "vols violents",
            "vol a main armee",
            "vol avec arme",
            "vol a l arrache",
            "arrachage",
            "braquage",
        ],
    ),
    (
        "cambriolages",
        "Cambriolages",
        "biens",
        False,
        [27, 28, 29, 30],
        [
            "cambriolage",
            "cambriolages",
            "vol par effraction",
            "vol avec effraction",
            "cambriolage de logement",
            "cambriolage de local",
        ],
    ),
    (
        "vols_vehicules",
        "Vols de véhicules",
        "biens",
        False,
        [34, 35, 36],
        [
            "vol de vehicule",
            "vols de vehicules",
            "vol d automobile",
            "vol de voiture",
            "vol de deux roues",
            "vol de scooter",
            "vol de moto",
            "vol de vehicule motorise",
        ],
    ),
    (
        "vols_dans_vehicules",
        "Vols dans ou sur les véhicules",
        "biens",
        False,
        [37, 38],
        [
            "vol a la roulotte",
            "vols a la roulotte",
            "roulotte",
            "vol dans vehicule",
            "vol dans un vehicule",
            "vol d accessoires",
            "vol d accessoires sur vehicule",
        ],
    ),
    (
        "vols_simples",
        "Vols simples",
        "biens",
        False,
        [31, 32, 33, 39, 40, 41, 42, 43],
        [
            "vol simple",
            "vols simples",
            "vol a la tire",
            "pickpocket",
            "vol a l etalage",
            "vol",
            "vols",
            "vol de telephone",
            "vol de velo",
            "vol par ruse",
        ],
    ),
    (
        "destructions_degradations",
        "Destructions et dégradations",
        "biens",
        False,
        [62, 63, 64, 65, 66, 67, 68],
        [
            "degradation",
            "degradations",
            "destruction",
            "destructions",
            "incendie volontaire",
            "tag",
            "tags",
            "vandalisme",
            "degradation de vehicule",
            "incendie de vehicule",
        ],
    ),
    (
        "stupefiants",
        "Infractions à la législation sur les stupéfiants",
        "stupefiants",
        False,
        [55, 56, 57, 58],
        ["stupefiant", "stupefiants", "trafic de stupefiants", "usage de stupefiants", "cannabis", "deal"],
    ),
    (
        "autres",
        "Autres infractions",
        "autres",
        False,
        [
            8,
            9,
            10,
            13,
            14,
            44,
            45,
            53,
            54,
            59,
            60,
            61,
            69,
            70,
            71,
            72,
            74,
            75,
            76,
            77,
            78,
            79,
            80,
            81,
            82,
            83,
            84,
            85,
            86,
            87,
            88,
            89,
            90,
            91,
            92,
            93,
            94,
            95,
            98,
            101,
            102,
            103,
            104,
            105,
            106,
            107,
        ],
        ["outrage", "outrages", "port d arme", "escroquerie", "recel", "autre", "autres", "divers"],
    ),
]

_CATALOGUE_GRANTS = f"""
    DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON {S}.pn_fact TO obs_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON {S}.pn_fact_family, {S}.pn_fact_category TO obs_app;
        GRANT SELECT ON {S}.event, {S}.event_category TO obs_app;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {S} TO obs_app;
    END IF;
    END $$;
"""

# One row per event of every source. A source joins with a UNION ALL branch (the cameras' will come).
# An unclassified police nationale fact counts as sensitive: it is never drawn as a point until an
# analyst has attached it to a category. A stored flag can only add to the catalogue's, never lift it.
# Every branch gives exactly the same column types (text, not varchar): PostgreSQL then flattens the
# union and pushes the filters into each table, with its indexes; otherwise it scans every row.
EVENT_VIEW = f"""
CREATE VIEW {S}.event AS
SELECT 'pn'::text AS source, f.id AS source_id, f.category_code::text AS category, f.family_code::text AS family,
       f.occurred_at, f.time_known, f.geom, f.geom_l93, (f.sensitive OR COALESCE(c.sensitive, true)) AS sensitive,
       f.batch_id
FROM {S}.pn_fact f LEFT JOIN {S}.pn_fact_category c ON c.code = f.category_code
UNION ALL
SELECT 'pm'::text, i.id, i.type_code::text, i.family_code::text, i.occurred_at, i.time_known, i.geom, i.geom_l93,
       COALESCE(t.sensitive, false), i.batch_id
FROM {S}.pm_intervention i LEFT JOIN {S}.pm_intervention_type t ON t.code = i.type_code
UNION ALL
SELECT 'routes'::text, a.id,
       CASE (SELECT min(CASE u.gravity WHEN 2 THEN 1 WHEN 3 THEN 2 WHEN 4 THEN 3 WHEN 1 THEN 4 END)
             FROM {S}.road_user u WHERE u.accident_id = a.id)
           WHEN 1 THEN 'accident_mortel' WHEN 2 THEN 'accident_grave' WHEN 3 THEN 'accident_leger'
           WHEN 4 THEN 'accident_sans_blesse' ELSE 'gravite_inconnue' END::text,
       'securite_routiere'::text, (a.accident_date + COALESCE(a.accident_time, time '00:00'))::timestamp,
       a.accident_time IS NOT NULL, a.geom, a.geom_l93, false, a.batch_id
FROM {S}.road_accident a
"""

# Labels of every category of every source, for filters and legends.
EVENT_CATEGORY_VIEW = f"""
CREATE VIEW {S}.event_category AS
SELECT 'pn'::text AS source, c.code AS category, c.label, c.family_code AS family, f.label AS family_label,
       c.sensitive, f.position * 100 AS position
FROM {S}.pn_fact_category c JOIN {S}.pn_fact_family f ON f.code = c.family_code
UNION ALL
SELECT 'pm'::text, t.code, t.label, t.family_code, f.label, t.sensitive, f.position * 100
FROM {S}.pm_intervention_type t JOIN {S}.pm_family f ON f.code = t.family_code
UNION ALL
SELECT 'routes'::text, v.code, v.label, 'securite_routiere'::text, 'Sécurité routière'::text, false, v.position
FROM (VALUES ('accident_mortel', 'Accident mortel', 1), ('accident_grave', 'Accident grave (blessé hospitalisé)', 2),
             ('accident_leger', 'Accident léger (blessé léger)', 3), ('accident_sans_blesse', 'Accident sans blessé', 4),
             ('gravite_inconnue', 'Gravité inconnue (usagers non importés)', 5)) v(code, label, position)
"""


def upgrade() -> None:
    op.create_table(
        "pn_fact_family",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_pn_fact_family"),
        schema=S,
        comment="catalogue des familles de faits de police nationale",
    )
    op.create_table(
        "pn_fact_category",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("family_code", sa.String(40), nullable=False),
        sa.Column("sensitive", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "etat4001_indexes",
            postgresql.ARRAY(sa.Integer()),
            server_default=sa.text("'{}'::integer[]"),
            nullable=False,
        ),
        sa.Column(
            "keywords", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["family_code"],
            [f"{S}.pn_fact_family.code"],
            onupdate="CASCADE",
            name="fk_pn_fact_category_family_code_pn_fact_family",
        ),
        sa.PrimaryKeyConstraint("code", name="pk_pn_fact_category"),
        schema=S,
        comment="catalogue des catégories de faits de police nationale (index de l'état 4001, sensibilité)",
    )
    op.bulk_insert(
        sa.table("pn_fact_family", sa.column("code"), sa.column("label"), sa.column("position"), schema=S),
        [{"code": c, "label": lb, "position": p} for c, lb, p in FAMILIES],
    )
    op.bulk_insert(
        sa.table(
            "pn_fact_category",
            sa.column("code"),
            sa.column("label"),
            sa.column("family_code"),
            sa.column("sensitive"),
            sa.column("etat4001_indexes", postgresql.ARRAY(sa.Integer())),
            sa.column("keywords", postgresql.ARRAY(sa.Text())),
            schema=S,
        ),
        [
            {"code": c, "label": lb, "family_code": f, "sensitive": s, "etat4001_indexes": ix, "keywords": k}
            for c, lb, f, s, ix, k in CATEGORIES
        ],
    )
    op.create_table(
        "pn_fact",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("occurred_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("time_known", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("label_key", sa.Text(), nullable=False),
        sa.Column("etat4001_index", sa.SmallInteger()),
        sa.Column("category_code", sa.String(40)),
        sa.Column("family_code", sa.String(40)),
        sa.Column("sensitive", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("place", sa.Text()),
        sa.Column("geom", geoalchemy2.Geometry("POINT", 4326, spatial_index=False), nullable=True),
        sa.Column(
            "geom_l93",
            geoalchemy2.Geometry("POINT", 2154, spatial_index=False),
            sa.Computed("ST_Transform(geom, 2154)", persisted=True),
            nullable=True,
        ),
        sa.Column("geocoding_status", sa.String(20), nullable=False),
        sa.Column("geocoding_score", sa.Float()),
        sa.Column("source_record_id", sa.Text()),
        sa.Column("natural_key", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "geocoding_status IN ('coordonnees', 'geocode', 'non_geolocalise')",
            name="ck_pn_fact_geocoding_status",
        ),
        sa.CheckConstraint("etat4001_index BETWEEN 1 AND 107", name="ck_pn_fact_etat4001_index"),
        sa.ForeignKeyConstraint(
            ["category_code"],
            [f"{S}.pn_fact_category.code"],
            onupdate="CASCADE",
            name="fk_pn_fact_category_code_pn_fact_category",
        ),
        sa.ForeignKeyConstraint(
            ["family_code"],
            [f"{S}.pn_fact_family.code"],
            onupdate="CASCADE",
            name="fk_pn_fact_family_code_pn_fact_family",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], [f"{S}.import_batch.id"], name="fk_pn_fact_batch_id_import_batch"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pn_fact"),
        sa.UniqueConstraint("natural_key", name="uq_pn_fact_natural_key"),
        schema=S,
    )
    op.create_index("ix_pn_fact_label_key", "pn_fact", ["label_key"], schema=S)
    op.create_index("ix_pn_fact_batch_id", "pn_fact", ["batch_id"], schema=S)
    op.create_index(
        "ix_pn_fact_category_code_occurred_at", "pn_fact", ["category_code", "occurred_at"], schema=S
    )
    op.create_index("ix_pn_fact_occurred_at", "pn_fact", ["occurred_at"], schema=S)
    op.create_index("idx_pn_fact_geom_l93", "pn_fact", ["geom_l93"], schema=S, postgresql_using="gist")
    op.execute(EVENT_VIEW)
    op.execute(EVENT_CATEGORY_VIEW)
    op.execute(f"COMMENT ON VIEW {S}.event IS 'événements datés et placés de toutes les sources'")
    op.execute(_CATALOGUE_GRANTS)


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {S}.event_category")
    op.execute(f"DROP VIEW IF EXISTS {S}.event")
    for table in ("pn_fact", "pn_fact_category", "pn_fact_family"):
        op.drop_table(table, schema=S)
