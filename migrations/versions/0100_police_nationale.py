"""Police nationale statistics: SSMSI editions, values, denominators; état 4001 index and counts.

Revision ID: 0100
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0100"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "obs"


def _fk(table: str, column: str, target: str, target_col: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{S}.{target}.{target_col}"], name=f"fk_{table}_{column}_{target}"
    )


def upgrade() -> None:
    op.create_table(
        "pn_edition",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("produced_on", sa.Date()),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer()),
        sa.PrimaryKeyConstraint("code", name="pk_pn_edition"),
        _fk("pn_edition", "batch_id", "import_batch", "id"),
        schema=S,
    )
    op.create_table(
        "pn_indicator",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("denominator", sa.String(20), nullable=False),
        sa.Column("sensitive", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pn_indicator"),
        sa.CheckConstraint("denominator IN ('habitants', 'logements')", name="ck_pn_indicator_denominator"),
        schema=S,
    )
    op.create_table(
        "pn_stat",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("edition", sa.String(40), nullable=False),
        sa.Column("territory_code", sa.String(40), nullable=False),
        sa.Column("indicator_id", sa.String(40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer()),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_rate", sa.Float()),
        sa.Column("complement_value", sa.Float()),
        sa.Column("complement_rate", sa.Float()),
        sa.Column("unit", sa.String(40)),
        sa.Column("batch_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_pn_stat"),
        # No per-row foreign keys on this table of millions of rows: each costs a lookup and a row lock per
        # inserted row (about 5 µs, a minute for a national base). The loader creates the edition in the
        # import's own transaction and maps labels only to indicators it has checked against pn_indicator
        # (ingest.ssmsi); neither catalogue is ever deleted from. Territories and batches are still enforced
        # by the database, once per statement (reference_checks below).
        # Key order edition, indicator, territory, year: every query filters on edition and indicator, then
        # on territories and/or years, so this one index also serves what a second one used to.
        sa.UniqueConstraint("edition", "indicator_id", "territory_code", "year", name="uq_pn_stat_key"),
        sa.CheckConstraint("count IS NULL OR count >= 0", name="ck_pn_stat_count"),
        schema=S,
    )
    op.create_table(
        "pn_denominator",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("edition", sa.String(40), nullable=False),
        sa.Column("territory_code", sa.String(40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("inhabitants", sa.Float()),
        sa.Column("inhabitants_vintage", sa.Integer()),
        sa.Column("dwellings", sa.Float()),
        sa.Column("dwellings_vintage", sa.Integer()),
        sa.Column("dwellings_derived", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("batch_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_pn_denominator"),
        _fk("pn_denominator", "edition", "pn_edition", "code"),
        _fk("pn_denominator", "territory_code", "territory", "code"),
        _fk("pn_denominator", "batch_id", "import_batch", "id"),
        sa.UniqueConstraint("edition", "territory_code", "year", name="uq_pn_denominator_key"),
        schema=S,
    )
    op.create_table(
        "etat4001_index",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("in_use", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_etat4001_index"),
        schema=S,
    )
    op.create_table(
        "etat4001_count",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("territory_code", sa.String(40), nullable=False),
        sa.Column("service", sa.String(120), server_default="", nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("index_number", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_etat4001_count"),
        _fk("etat4001_count", "territory_code", "territory", "code"),
        _fk("etat4001_count", "index_number", "etat4001_index", "number"),
        _fk("etat4001_count", "batch_id", "import_batch", "id"),
        sa.UniqueConstraint(
            "territory_code", "service", "year", "month", "index_number", name="uq_etat4001_count_key"
        ),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="ck_etat4001_count_month"),
        sa.CheckConstraint("count >= 0", name="ck_etat4001_count_count"),
        schema=S,
    )
    # Catalogues: seeded here, kept by the tests' cleaning (comment 'catalogue').
    _seed_catalogues()
    op.execute(_SQL_1)
    op.execute(_SQL_2)
    op.execute(f"COMMENT ON TABLE {S}.pn_indicator IS 'catalogue des indicateurs SSMSI'")
    op.execute(f"COMMENT ON TABLE {S}.etat4001_index IS 'catalogue des index de l''état 4001'")


def _seed_catalogues() -> None:
    # Literal copies, not imports of observatoire.indicators: a migration must keep meaning what it
    # meant when written. tests/test_pn_catalogue.py checks that code and database agree.
    indicators = sa.table(
        "pn_indicator",
        sa.column("id"),
        sa.column("label"),
        sa.column("unit"),
        sa.column("denominator"),
        sa.column("sensitive"),
        schema=S,
    )
    op.bulk_insert(
        indicators,
        [
            {"id": i, "label": label, "unit": unit, "denominator": den, "sensitive": sensitive}
            for i, label, unit, den, sensitive in _INDICATORS
        ],
    )
    index = sa.table("etat4001_index", sa.column("number"), sa.column("label"), sa.column("in_use"), schema=S)
    op.bulk_insert(
        index,
        [
            {"number": n, "label": label, "in_use": label != "Index non utilisé"}
            for n, label in enumerate(_ETAT4001.strip().splitlines(), start=1)
        ],
    )


H, L = "habitants", "logements"
_INDICATORS = [
    ("cbv", "Coups et blessures volontaires", "victime", H, False),
    ("cbv_intrafamiliaux", "Coups et blessures volontaires intrafamiliaux", "victime", H, True),
    ("cbv_autres", "Autres coups et blessures volontaires", "victime", H, False),
    ("violences_physiques_intrafamiliales", "Violences physiques intrafamiliales", "victime", H, True),
    ("violences_physiques_hors_famille", "Violences physiques hors cadre familial", "victime", H, False),
    ("violences_sexuelles", "Violences sexuelles", "victime", H, True),
    ("homicides", "Homicides", "victime", H, False),
    ("tentatives_homicide", "Tentatives d'homicide", "victime", H, False),
    ("vols_avec_armes", "Vols avec armes", "infraction", H, False),
    ("vols_violents_sans_arme", "Vols violents sans arme", "infraction", H, False),
    ("vols_sans_violence_personnes", "Vols sans violence contre des personnes", "victime entendue", H, False),
    ("cambriolages_logement", "Cambriolages de logement", "infraction", L, False),
    ("vols_vehicules", "Vols de véhicules", "véhicule", H, False),
    ("vols_dans_vehicules", "Vols dans les véhicules", "véhicule", H, False),
    ("vols_accessoires_vehicules", "Vols d'accessoires sur véhicules", "véhicule", H, False),
    ("destructions_degradations", "Destructions et dégradations volontaires", "infraction", H, False),
    ("escroqueries", "Escroqueries et fraudes aux moyens de paiement", "victime", H, False),
    ("trafic_stupefiants", "Trafic de stupéfiants", "mis en cause", H, False),
    ("usage_stupefiants", "Usage de stupéfiants", "mis en cause", H, False),
    ("usage_stupefiants_afd", "Usage de stupéfiants (AFD)", "mis en cause", H, False),
    ("usage_stupefiants_hors_afd", "Usage de stupéfiants (hors AFD)", "mis en cause", H, False),
]

_ETAT4001 = """
Règlements de compte entre malfaiteurs
Homicides pour voler et à l'occasion de vols
Homicides pour d'autres motifs
Tentatives d'homicides pour voler et à l'occasion de vols
Tentatives homicides pour d'autres motifs
Coups et blessures volontaires suivis de mort
Autres coups et blessures volontaires criminels ou correctionnels
Prises d'otages à l'occasion de vols
Prises d'otages dans un autre but
Séquestrations
Menaces ou chantages pour extorsion de fonds
Menaces ou chantages dans un autre but
Atteintes à la dignité et à la personnalité
Violations de domicile
Vols à main armée contre des établissements financiers
Vols à main armée contre des établissements industriels ou commerciaux
Vols à main armée contre des entreprises de transports de fonds
Vols à main armée contre des particuliers à leur domicile
Autres vols à main armée
Vols avec armes blanches contre des établissements financiers, commerciaux ou industriels
Vols avec armes blanches contre des particuliers à leur domicile
Autres vols avec armes blanches
Vols violents sans arme contre des établissements financiers, commerciaux ou industriels
Vols violents sans arme contre des particuliers à leur domicile
Vols violents sans arme contre des femmes sur voie publique ou autre lieu public
Vols violents sans arme contre d'autres victimes
Cambriolages de locaux d'habitations principales
Cambriolages de résidences secondaires
Cambriolages de locaux industriels, commerciaux ou financiers
Cambriolages d'autres lieux
Vols avec entrée par ruse en tous lieux
Vols à la tire
Vols à l'étalage
Vols de véhicules de transport avec fret
Vols d'automobiles
Vols de véhicules motorisés à 2 roues
Vols à la roulotte
Vols d'accessoires sur véhicules à moteur immatriculés
Vols simples sur chantier
Vols simples sur exploitations agricoles
Autres vols simples contre des établissements publics ou privés
Autres vols simples contre des particuliers dans des locaux privés
Autres vols simples contre des particuliers dans des locaux ou lieux publics
Recels
Proxénétisme
Viols sur des majeur(e)s
Viols sur des mineur(e)s
Harcèlements sexuels et autres agressions sexuelles contre des majeur(e)s
Harcèlements sexuels et autres agressions sexuelles contre des mineur(e)s
Atteintes sexuelles
Homicides commis contre enfants de moins de 15 ans
Violences, mauvais traitements et abandons d'enfants
Délits au sujet de la garde des mineurs
Non versement de pension alimentaire
Trafic et revente sans usage de stupéfiants
Usage-revente de stupéfiants
Usage de stupéfiants
Autres infractions à la législation sur les stupéfiants
Délits de débits de boissons et infractions à la réglementation sur l'alcool et le tabac
Fraudes alimentaires et infractions à l'hygiène
Autres délits contre la santé publique et la réglementation des professions médicales
Incendies volontaires de biens publics
Incendies volontaires de biens privés
Attentats à l'explosif contre des biens publics
Attentats à l'explosif contre des biens privés
Autres destructions et dégradations de biens publics
Autres destructions et dégradations de biens privés
Destructions et dégradations de véhicules privés
Infractions aux conditions générales d'entrée et de séjour des étrangers
Aide à l'entrée, à la circulation et au séjour des étrangers
Autres infractions à la police des étrangers
Outrages à dépositaires de l'autorité
Violences à dépositaires de l'autorité
Port ou détention d'armes prohibées
Atteintes aux intérêts fondamentaux de la Nation
Délits des courses et des jeux
Délits d'interdiction de séjour et de paraître
Destructions, cruautés et autres délits envers les animaux
Atteintes à l'environnement
Chasse et pêche
Faux documents d'identité
Faux documents concernant la circulation des véhicules
Autres faux documents administratifs
Faux en écriture publique et authentique
Autres faux en écriture
Fausse monnaie
Contrefaçons et fraudes industrielles et commerciales
Contrefaçons littéraires et artistiques
Falsifications et usages de chèques volés
Falsifications et usages de cartes de crédit
Escroqueries et abus de confiance
Infractions à la législation sur les chèques
Travail clandestin
Emploi d'étranger sans titre de travail
Marchandage - prêt de main d'œuvre
Index non utilisé
Index non utilisé
Banqueroutes, abus de biens sociaux et autres délits de société
Index non utilisé
Index non utilisé
Prix illicites, publicité fausse et infractions aux règles de la concurrence
Achats et ventes sans factures
Infractions à l'exercice d'une profession réglementée
Infractions au droit de l'urbanisme et de la construction
Fraudes fiscales
Autres délits économiques et financiers
Autres délits
"""


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {S}.pn_stat_bulk_insert()")
    for column, target in (("territory_code", "territory"), ("batch_id", "import_batch")):
        op.execute(f"DROP TRIGGER IF EXISTS pn_stat_{column}_deleted ON {S}.{target}")
        op.execute(f"DROP TRIGGER IF EXISTS pn_stat_{column}_updated ON {S}.{target}")
        op.execute(f"DROP FUNCTION IF EXISTS {S}.pn_stat_{column}_referenced()")
    for table in (
        "etat4001_count",
        "etat4001_index",
        "pn_denominator",
        "pn_stat",
        "pn_indicator",
        "pn_edition",
    ):
        op.drop_table(table, schema=S)
    op.execute(f"DROP FUNCTION IF EXISTS {S}.pn_stat_check_references()")


# The SQL as it stood when this migration was written, frozen: a migration already applied never runs
# again, so it must keep creating exactly what it created then, whatever the code becomes.
_SQL_1 = """
CREATE OR REPLACE FUNCTION obs.pn_stat_bulk_insert() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, public, pg_temp SET maintenance_work_mem = '256MB' SET work_mem = '64MB' SET enable_nestloop = off AS $fn$
DECLARE
    unique_stmts text[] := '{}';
    other_stmts text[] := '{}';
    item record;
    cols text;
    stmt text;
    anti text := 'NOT EXISTS (SELECT 1 FROM obs.pn_stat t WHERE t.edition = r.edition AND t.indicator_id = r.indicator_id AND t.territory_code = r.territory_code AND t.year = r.year)';
    inserted bigint;
    src regclass := to_regclass('pg_temp.pn_stat_bulk');  -- looked up at each call: a new view each import
    scan boolean := to_regprocedure('obs.pn_stat_check_all_references()') IS NOT NULL;
    trigger_def text;
BEGIN
    IF src IS NULL THEN
        RAISE EXCEPTION 'pg_temp.pn_stat_bulk absent : rien à insérer';
    END IF;
    LOCK TABLE obs.pn_stat IN ACCESS EXCLUSIVE MODE;

    FOR item IN
        SELECT c.contype, format('ALTER TABLE obs.pn_stat ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)) AS add,
               format('ALTER TABLE obs.pn_stat DROP CONSTRAINT %I', c.conname) AS drop
        FROM pg_constraint c
        WHERE c.conrelid = 'obs.pn_stat'::regclass
          AND (c.contype = 'u' OR (c.contype = 'f' AND c.confrelid IN (NULL::regclass))
               -- the primary key too, unless another table's foreign key needs it
               OR (c.contype = 'p' AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                                                   WHERE f.confrelid = 'obs.pn_stat'::regclass AND f.contype = 'f')))
        UNION ALL
        SELECT 'i', pg_get_indexdef(i.indexrelid), format('DROP INDEX %s', i.indexrelid::regclass)
        FROM pg_index i
        WHERE i.indrelid = 'obs.pn_stat'::regclass AND NOT i.indisprimary
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
    WHERE a.attrelid = 'obs.pn_stat'::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      AND EXISTS (SELECT 1 FROM pg_attribute b WHERE b.attrelid = src
                  AND b.attname = a.attname AND b.attnum > 0 AND NOT b.attisdropped);
    IF NOT EXISTS (SELECT 1 FROM obs.pn_stat) THEN
        anti := 'true';  -- nothing to compare with
    END IF;
    IF scan THEN
        trigger_def := (SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'obs.pn_stat'::regclass AND tgname = 'pn_stat_references_insert');
        DROP TRIGGER pn_stat_references_insert ON obs.pn_stat;
    END IF;
    BEGIN
        -- Usual case, no key twice in the batch: the unique index built afterwards proves it.
        EXECUTE format('INSERT INTO obs.pn_stat (%1$s) SELECT %1$s FROM pg_temp.pn_stat_bulk r WHERE %2$s', cols, anti);
        GET DIAGNOSTICS inserted = ROW_COUNT;
        FOREACH stmt IN ARRAY unique_stmts LOOP EXECUTE stmt; END LOOP;
    EXCEPTION WHEN unique_violation THEN
        -- The batch repeats a key: its first line wins, as with ON CONFLICT DO NOTHING.
        EXECUTE format('INSERT INTO obs.pn_stat (%1$s) SELECT DISTINCT ON (r.edition, r.indicator_id, r.territory_code, r.year) %1$s FROM pg_temp.pn_stat_bulk r '
                       'WHERE %2$s ORDER BY r.edition, r.indicator_id, r.territory_code, r.year, r.line', cols, anti);
        GET DIAGNOSTICS inserted = ROW_COUNT;
        FOREACH stmt IN ARRAY unique_stmts LOOP EXECUTE stmt; END LOOP;
    END;
    FOREACH stmt IN ARRAY other_stmts LOOP EXECUTE stmt; END LOOP;
    IF scan THEN
        EXECUTE trigger_def;
        EXECUTE 'SELECT obs.pn_stat_check_all_references()';
    END IF;
    EXECUTE 'ANALYZE obs.pn_stat';  -- plans of the next queries see the new size at once
    RETURN inserted;
END $fn$;
REVOKE ALL ON FUNCTION obs.pn_stat_bulk_insert() FROM PUBLIC;
DO $$ BEGIN
IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
    GRANT EXECUTE ON FUNCTION obs.pn_stat_bulk_insert() TO obs_app;
END IF;
END $$;
"""

_SQL_2 = """
CREATE FUNCTION obs.pn_stat_check_references() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
DECLARE missing text; keys_0 text[]; keys_1 integer[];
BEGIN
    SELECT array_agg(k) INTO keys_0 FROM (SELECT DISTINCT territory_code AS k FROM new_rows) d WHERE k IS NOT NULL;
    PERFORM 1 FROM obs.territory r WHERE r.code = ANY(keys_0) FOR KEY SHARE;
    SELECT k::text INTO missing FROM unnest(keys_0) k
    WHERE NOT EXISTS (SELECT 1 FROM obs.territory r WHERE r.code = k) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "pn_stat" violates reference to "territory"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (territory_code)=(%s) is not present.', missing);
    END IF;
    SELECT array_agg(k) INTO keys_1 FROM (SELECT DISTINCT batch_id AS k FROM new_rows) d WHERE k IS NOT NULL;
    PERFORM 1 FROM obs.import_batch r WHERE r.id = ANY(keys_1) FOR KEY SHARE;
    SELECT k::text INTO missing FROM unnest(keys_1) k
    WHERE NOT EXISTS (SELECT 1 FROM obs.import_batch r WHERE r.id = k) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "pn_stat" violates reference to "import_batch"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (batch_id)=(%s) is not present.', missing);
    END IF;
    RETURN NULL;
END $fn$;
CREATE TRIGGER pn_stat_references_insert AFTER INSERT ON obs.pn_stat REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION obs.pn_stat_check_references();
CREATE TRIGGER pn_stat_references_update AFTER UPDATE ON obs.pn_stat REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION obs.pn_stat_check_references();

CREATE FUNCTION obs.pn_stat_territory_code_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
DECLARE gone text[]; used text;
BEGIN
    SELECT array_agg(o.code) INTO gone FROM old_rows o
    WHERE NOT EXISTS (SELECT 1 FROM obs.territory r WHERE r.code = o.code);
    IF gone IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT x.territory_code::text INTO used FROM obs.pn_stat x WHERE x.territory_code = ANY(gone) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'update or delete on table "territory" violates reference from "pn_stat"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (code)=(%s) is still referenced.', used);
    END IF;
    RETURN NULL;
END $fn$;
CREATE TRIGGER pn_stat_territory_code_deleted AFTER DELETE ON obs.territory REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION obs.pn_stat_territory_code_referenced();
CREATE TRIGGER pn_stat_territory_code_updated AFTER UPDATE ON obs.territory REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION obs.pn_stat_territory_code_referenced();

CREATE FUNCTION obs.pn_stat_batch_id_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
DECLARE gone integer[]; used text;
BEGIN
    SELECT array_agg(o.id) INTO gone FROM old_rows o
    WHERE NOT EXISTS (SELECT 1 FROM obs.import_batch r WHERE r.id = o.id);
    IF gone IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT x.batch_id::text INTO used FROM obs.pn_stat x WHERE x.batch_id = ANY(gone) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'update or delete on table "import_batch" violates reference from "pn_stat"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (id)=(%s) is still referenced.', used);
    END IF;
    RETURN NULL;
END $fn$;
CREATE TRIGGER pn_stat_batch_id_deleted AFTER DELETE ON obs.import_batch REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION obs.pn_stat_batch_id_referenced();
CREATE TRIGGER pn_stat_batch_id_updated AFTER UPDATE ON obs.import_batch REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION obs.pn_stat_batch_id_referenced();
"""
