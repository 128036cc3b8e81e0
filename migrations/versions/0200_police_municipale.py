"""Police municipale: interventions, their nomenclature, learnt labels, mapping profiles, BAN addresses.

Revision ID: 0200
Revises: 0001
Create Date: 2026-11-22
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0200"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "obs"

# The seed lives here, not imported from the application, so this migration replays the same forever.
FAMILIES = [
    ("tranquillite", "Tranquillité publique", 1),
    ("atteintes", "Atteintes aux biens et aux personnes", 2),
    ("circulation", "Circulation et stationnement", 3),
    ("cadre_de_vie", "Cadre de vie et environnement", 4),
    ("prevention", "Surveillance et prévention", 5),
    ("assistance", "Assistance et secours", 6),
    ("autre", "Autres interventions", 9),
]

TYPES = [
    (
        "nuisances_sonores",
        "Nuisances sonores",
        "tranquillite",
        ["nuisance sonore", "nuisances sonores", "bruit", "tapage", "tapage nocturne", "musique"],
        False,
    ),
    (
        "rassemblements",
        "Rassemblements, attroupements",
        "tranquillite",
        ["rassemblement", "rassemblements", "attroupement", "regroupement", "occupation de hall"],
        False,
    ),
    (
        "ivresse_publique",
        "Ivresse publique",
        "tranquillite",
        ["ivresse", "ipm", "alcool", "ebriete", "alcoolisation"],
        False,
    ),
    (
        "differends_voisinage",
        "Différends de voisinage",
        "tranquillite",
        ["voisinage", "differend de voisinage", "conflit de voisinage", "voisin"],
        False,
    ),
    (
        "differends_familiaux",
        "Différends familiaux, violences intrafamiliales",
        "tranquillite",
        [
            "differend familial",
            "conflit familial",
            "violences intrafamiliales",
            "violence conjugale",
            "conjugal",
            "intrafamilial",
            "intrafamiliale",
        ],
        True,
    ),
    (
        "troubles_ordre_public",
        "Rixes, troubles à l'ordre public",
        "tranquillite",
        ["rixe", "bagarre", "altercation", "trouble a l ordre public", "trouble", "individu agressif"],
        False,
    ),
    ("stupefiants", "Stupéfiants", "tranquillite", ["stupefiant", "stupefiants", "cannabis", "deal"], False),
    (
        "vols_cambriolages",
        "Vols, cambriolages (constatations)",
        "atteintes",
        ["vol", "vols", "cambriolage", "effraction", "tentative de vol"],
        False,
    ),
    (
        "degradations",
        "Dégradations, tags",
        "atteintes",
        ["degradation", "degradations", "tag", "tags", "graffiti", "vandalisme", "incendie de poubelle"],
        False,
    ),
    (
        "stationnement_genant",
        "Stationnement gênant ou interdit",
        "circulation",
        [
            "stationnement",
            "stationnement genant",
            "stationnement interdit",
            "zone bleue",
            "fourriere",
            "stationnement gênant",
        ],
        False,
    ),
    (
        "code_route",
        "Infractions au code de la route",
        "circulation",
        [
            "code de la route",
            "vitesse",
            "exces de vitesse",
            "feu rouge",
            "stop",
            "ceinture",
            "telephone au volant",
            "defaut d assurance",
            "controle routier",
            "sens interdit",
            "infraction routiere",
        ],
        False,
    ),
    (
        "rodeos_urbains",
        "Rodéos urbains",
        "circulation",
        ["rodeo", "rodeos", "rodeo urbain", "moto cross", "quad"],
        False,
    ),
    (
        "vehicules_epaves",
        "Véhicules épaves ou ventouses",
        "circulation",
        ["epave", "epaves", "ventouse", "vehicule ventouse", "vehicule abandonne"],
        False,
    ),
    (
        "accidents",
        "Accidents de la circulation",
        "circulation",
        ["accident", "accrochage", "collision"],
        False,
    ),
    (
        "depots_sauvages",
        "Dépôts sauvages",
        "cadre_de_vie",
        ["depot sauvage", "depots sauvages", "encombrant", "encombrants", "dechets", "ordures"],
        False,
    ),
    (
        "animaux",
        "Animaux (divagation, nuisances, morsures)",
        "cadre_de_vie",
        [
            "animal",
            "animaux",
            "chien",
            "chiens",
            "chat",
            "divagation",
            "errant",
            "aboiement",
            "aboiements",
            "morsure",
        ],
        False,
    ),
    (
        "police_commerces",
        "Commerces, débits de boissons, occupation du domaine public",
        "cadre_de_vie",
        ["commerce", "debit de boissons", "terrasse", "occupation du domaine public", "odp", "marche forain"],
        False,
    ),
    (
        "assistance_personne",
        "Assistance à personne",
        "assistance",
        [
            "assistance",
            "assistance a personne",
            "personne vulnerable",
            "malaise",
            "secours",
            "personne agee",
            "chute",
        ],
        False,
    ),
    (
        "otv",
        "Opération tranquillité vacances",
        "prevention",
        ["tranquillite vacances", "operation tranquillite vacances", "otv"],
        False,
    ),
    (
        "surveillance",
        "Surveillance, patrouille",
        "prevention",
        ["surveillance", "patrouille", "ronde", "ilotage", "surveillance generale"],
        False,
    ),
    (
        "securisation_scolaire",
        "Sécurisation d'établissements scolaires",
        "prevention",
        ["ecole", "scolaire", "college", "lycee", "sortie d ecole", "entree d ecole", "sortie des ecoles"],
        False,
    ),
    (
        "securisation_evenements",
        "Sécurisation de manifestations et de marchés",
        "prevention",
        ["manifestation", "evenement", "festivite", "fete", "marche", "ceremonie"],
        False,
    ),
    ("autre", "Autre intervention", "autre", ["autre", "divers"], False),
]


def upgrade() -> None:
    op.create_table(
        "pm_family",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_pm_family"),
        schema=S,
    )
    op.create_table(
        "pm_intervention_type",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("family_code", sa.String(40), nullable=False),
        sa.Column(
            "keywords", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("sensitive", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_code"],
            [f"{S}.pm_family.code"],
            onupdate="CASCADE",
            name="fk_pm_intervention_type_family_code_pm_family",
        ),
        sa.PrimaryKeyConstraint("code", name="pk_pm_intervention_type"),
        schema=S,
    )
    op.create_index("ix_pm_intervention_type_family_code", "pm_intervention_type", ["family_code"], schema=S)
    op.execute(
        f"COMMENT ON TABLE {S}.pm_family IS 'catalogue des familles d''interventions de police municipale'"
    )
    op.execute(
        f"COMMENT ON TABLE {S}.pm_intervention_type IS "
        "'catalogue des types d''interventions de police municipale'"
    )
    op.bulk_insert(
        sa.table("pm_family", sa.column("code"), sa.column("label"), sa.column("position"), schema=S),
        [{"code": c, "label": lb, "position": p} for c, lb, p in FAMILIES],
    )
    op.bulk_insert(
        sa.table(
            "pm_intervention_type",
            sa.column("code"),
            sa.column("label"),
            sa.column("family_code"),
            sa.column("keywords", postgresql.ARRAY(sa.Text())),
            sa.column("sensitive"),
            schema=S,
        ),
        [
            {"code": c, "label": lb, "family_code": f, "keywords": k, "sensitive": s}
            for c, lb, f, k, s in TYPES
        ],
    )

    op.create_table(
        "pm_label_mapping",
        sa.Column("label_key", sa.Text(), nullable=False),
        sa.Column("type_code", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(80)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["type_code"],
            [f"{S}.pm_intervention_type.code"],
            onupdate="CASCADE",
            name="fk_pm_label_mapping_type_code_pm_intervention_type",
        ),
        sa.PrimaryKeyConstraint("label_key", name="pk_pm_label_mapping"),
        schema=S,
    )
    op.create_table(
        "import_profile",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("mapping", postgresql.JSONB(), nullable=False),
        sa.Column("created_by", sa.String(80)),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_import_profile"),
        sa.UniqueConstraint("source", "name", name="uq_import_profile_source_name"),
        schema=S,
    )
    op.create_table(
        "ban_address",
        sa.Column("id", sa.String(60), nullable=False),
        sa.Column("code_insee", sa.String(5), nullable=False),
        sa.Column("numero", sa.Integer()),
        sa.Column("rep", sa.String(20)),
        sa.Column("nom_voie", sa.Text(), nullable=False),
        sa.Column("street_key", sa.Text(), nullable=False),
        sa.Column("code_postal", sa.String(5)),
        sa.Column("nom_commune", sa.Text()),
        sa.Column("geom", geoalchemy2.Geometry("POINT", 4326, spatial_index=False), nullable=False),
        sa.Column("batch_id", sa.Integer()),
        sa.ForeignKeyConstraint(
            ["batch_id"], [f"{S}.import_batch.id"], name="fk_ban_address_batch_id_import_batch"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ban_address"),
        schema=S,
    )
    op.create_index(
        "ix_ban_address_code_insee_street_key", "ban_address", ["code_insee", "street_key"], schema=S
    )
    op.create_index("ix_ban_address_batch_id", "ban_address", ["batch_id"], schema=S)

    op.create_table(
        "pm_intervention",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("occurred_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("time_known", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("label_key", sa.Text(), nullable=False),
        sa.Column("type_code", sa.String(40)),
        sa.Column("family_code", sa.String(40)),
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
        sa.Column("sector", sa.Text()),
        sa.Column("origin", sa.String(20)),
        sa.Column("outcome", sa.Text()),
        sa.Column("source_record_id", sa.Text()),
        sa.Column("natural_key", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "geocoding_status IN ('coordonnees', 'geocode', 'non_geolocalise')",
            name="ck_pm_intervention_geocoding_status",
        ),
        sa.CheckConstraint(
            "origin IN ('initiative', 'appel', 'demande', 'autre')", name="ck_pm_intervention_origin"
        ),
        sa.ForeignKeyConstraint(
            ["type_code"],
            [f"{S}.pm_intervention_type.code"],
            onupdate="CASCADE",
            name="fk_pm_intervention_type_code_pm_intervention_type",
        ),
        sa.ForeignKeyConstraint(
            ["family_code"],
            [f"{S}.pm_family.code"],
            onupdate="CASCADE",
            name="fk_pm_intervention_family_code_pm_family",
        ),
        # batch_id → import_batch is checked once per statement (reference_checks below), not per row.
        sa.PrimaryKeyConstraint("id", name="pk_pm_intervention"),
        sa.UniqueConstraint("natural_key", name="uq_pm_intervention_natural_key"),
        schema=S,
    )
    op.create_index("ix_pm_intervention_label_key", "pm_intervention", ["label_key"], schema=S)
    op.create_index("ix_pm_intervention_type_code", "pm_intervention", ["type_code"], schema=S)
    op.create_index("ix_pm_intervention_batch_id", "pm_intervention", ["batch_id"], schema=S)
    op.create_index("ix_pm_intervention_occurred_at", "pm_intervention", ["occurred_at"], schema=S)
    op.create_index(
        "idx_pm_intervention_geom_l93", "pm_intervention", ["geom_l93"], schema=S, postgresql_using="gist"
    )
    op.execute(_SQL_1)
    op.execute(_SQL_2)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {S}.pm_intervention_bulk_insert()")
    op.execute(f"DROP TRIGGER IF EXISTS pm_intervention_batch_id_deleted ON {S}.import_batch")
    op.execute(f"DROP TRIGGER IF EXISTS pm_intervention_batch_id_updated ON {S}.import_batch")
    op.execute(f"DROP FUNCTION IF EXISTS {S}.pm_intervention_batch_id_referenced()")
    for table in (
        "pm_intervention",
        "ban_address",
        "import_profile",
        "pm_label_mapping",
        "pm_intervention_type",
        "pm_family",
    ):
        op.drop_table(table, schema=S)
    op.execute(f"DROP FUNCTION IF EXISTS {S}.pm_intervention_check_references()")


# The SQL as it stood when this migration was written, frozen: a migration already applied never runs
# again, so it must keep creating exactly what it created then, whatever the code becomes.
_SQL_1 = """
CREATE OR REPLACE FUNCTION obs.pm_intervention_bulk_insert() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, public, pg_temp SET maintenance_work_mem = '256MB' SET work_mem = '64MB' SET enable_nestloop = off AS $fn$
DECLARE
    unique_stmts text[] := '{}';
    other_stmts text[] := '{}';
    item record;
    cols text;
    stmt text;
    anti text := 'NOT EXISTS (SELECT 1 FROM obs.pm_intervention t WHERE t.natural_key = r.natural_key)';
    inserted bigint;
    src regclass := to_regclass('pg_temp.pm_intervention_bulk');  -- looked up at each call: a new view each import
    scan boolean := to_regprocedure('obs.pm_intervention_check_all_references()') IS NOT NULL;
    trigger_def text;
BEGIN
    IF src IS NULL THEN
        RAISE EXCEPTION 'pg_temp.pm_intervention_bulk absent : rien à insérer';
    END IF;
    LOCK TABLE obs.pm_intervention IN ACCESS EXCLUSIVE MODE;

    FOR item IN
        SELECT c.contype, format('ALTER TABLE obs.pm_intervention ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)) AS add,
               format('ALTER TABLE obs.pm_intervention DROP CONSTRAINT %I', c.conname) AS drop
        FROM pg_constraint c
        WHERE c.conrelid = 'obs.pm_intervention'::regclass
          AND (c.contype = 'u' OR (c.contype = 'f' AND c.confrelid IN ('obs.pm_intervention_type'::regclass, 'obs.pm_family'::regclass))
               -- the primary key too, unless another table's foreign key needs it
               OR (c.contype = 'p' AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                                                   WHERE f.confrelid = 'obs.pm_intervention'::regclass AND f.contype = 'f')))
        UNION ALL
        SELECT 'i', pg_get_indexdef(i.indexrelid), format('DROP INDEX %s', i.indexrelid::regclass)
        FROM pg_index i
        WHERE i.indrelid = 'obs.pm_intervention'::regclass AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    LOOP
        IF item.contype = 'u' THEN
            unique_stmts := unique_stmts || item.add;
        ELSE
            other_stmts := other_stmts || item.add;
        END IF;
        EXECUTE item.drop;
    END LOOP;
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
    FROM pg_attribute a
    WHERE a.attrelid = 'obs.pm_intervention'::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      AND EXISTS (SELECT 1 FROM pg_attribute b WHERE b.attrelid = src
                  AND b.attname = a.attname AND b.attnum > 0 AND NOT b.attisdropped);
    IF NOT EXISTS (SELECT 1 FROM obs.pm_intervention) THEN
        anti := 'true';  -- nothing to compare with
    END IF;
    IF scan THEN
        trigger_def := (SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'obs.pm_intervention'::regclass AND tgname = 'pm_intervention_references_insert');
        DROP TRIGGER pm_intervention_references_insert ON obs.pm_intervention;
    END IF;
    BEGIN
        -- Usual case, no key twice in the batch: the unique index built afterwards proves it.
        EXECUTE format('INSERT INTO obs.pm_intervention (%1$s) SELECT %1$s FROM pg_temp.pm_intervention_bulk r WHERE %2$s', cols, anti);
        GET DIAGNOSTICS inserted = ROW_COUNT;
        FOREACH stmt IN ARRAY unique_stmts LOOP EXECUTE stmt; END LOOP;
    EXCEPTION WHEN unique_violation THEN
        -- The batch repeats a key: its first line wins, as with ON CONFLICT DO NOTHING.
        EXECUTE format('INSERT INTO obs.pm_intervention (%1$s) SELECT DISTINCT ON (r.natural_key) %1$s FROM pg_temp.pm_intervention_bulk r '
                       'WHERE %2$s ORDER BY r.natural_key, r.line', cols, anti);
        GET DIAGNOSTICS inserted = ROW_COUNT;
        FOREACH stmt IN ARRAY unique_stmts LOOP EXECUTE stmt; END LOOP;
    END;
    FOREACH stmt IN ARRAY other_stmts LOOP EXECUTE stmt; END LOOP;
    IF scan THEN
        EXECUTE trigger_def;
        EXECUTE 'SELECT obs.pm_intervention_check_all_references()';
    END IF;
    EXECUTE 'ANALYZE obs.pm_intervention';  -- plans of the next queries see the new size at once
    RETURN inserted;
END $fn$;
REVOKE ALL ON FUNCTION obs.pm_intervention_bulk_insert() FROM PUBLIC;
DO $$ BEGIN
IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
    GRANT EXECUTE ON FUNCTION obs.pm_intervention_bulk_insert() TO obs_app;
END IF;
END $$;
"""

_SQL_2 = """
CREATE FUNCTION obs.pm_intervention_check_references() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
DECLARE missing text; keys_0 integer[];
BEGIN
    SELECT array_agg(k) INTO keys_0 FROM (SELECT DISTINCT batch_id AS k FROM new_rows) d WHERE k IS NOT NULL;
    PERFORM 1 FROM obs.import_batch r WHERE r.id = ANY(keys_0) FOR KEY SHARE;
    SELECT k::text INTO missing FROM unnest(keys_0) k
    WHERE NOT EXISTS (SELECT 1 FROM obs.import_batch r WHERE r.id = k) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "pm_intervention" violates reference to "import_batch"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (batch_id)=(%s) is not present.', missing);
    END IF;
    RETURN NULL;
END $fn$;
CREATE TRIGGER pm_intervention_references_insert AFTER INSERT ON obs.pm_intervention REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION obs.pm_intervention_check_references();
CREATE TRIGGER pm_intervention_references_update AFTER UPDATE ON obs.pm_intervention REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION obs.pm_intervention_check_references();

CREATE FUNCTION obs.pm_intervention_batch_id_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
DECLARE gone integer[]; used text;
BEGIN
    SELECT array_agg(o.id) INTO gone FROM old_rows o
    WHERE NOT EXISTS (SELECT 1 FROM obs.import_batch r WHERE r.id = o.id);
    IF gone IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT x.batch_id::text INTO used FROM obs.pm_intervention x WHERE x.batch_id = ANY(gone) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'update or delete on table "import_batch" violates reference from "pm_intervention"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (id)=(%s) is still referenced.', used);
    END IF;
    RETURN NULL;
END $fn$;
CREATE TRIGGER pm_intervention_batch_id_deleted AFTER DELETE ON obs.import_batch REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION obs.pm_intervention_batch_id_referenced();
CREATE TRIGGER pm_intervention_batch_id_updated AFTER UPDATE ON obs.import_batch REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION obs.pm_intervention_batch_id_referenced();
"""
