"""Large imports: natural keys compared byte for byte, no index on the type of an intervention, reference
checks of the bulk insert made once after it.

- ``natural_key`` of ``pm_intervention`` and ``pn_fact`` takes the "C" collation. The key is only ever
  compared for equality (deduplication), where every collation agrees; sorting it byte for byte builds its
  unique index in about half the time and makes each lookup cheaper.
- The index on ``pm_intervention.type_code`` goes. No page reads interventions by type through SQL (the map
  and the activity page aggregate the whole table); the catalogue counts them in one grouped scan. What
  needs a quick path is the list of labels left outside the nomenclature: a partial index on the label key
  of the unclassified rows, empty most of the time, serves it and attaching a label.
- The bulk insert functions of ``pm_intervention`` and ``pn_stat`` are recreated: they now take the
  per-statement reference trigger out of their insert and run the same checks once over the table
  (``<table>_check_all_references()``), under the lock they already hold.

Revision ID: 0800
Revises: 0700
Create Date: 2026-11-22
"""

from alembic import op

revision = "0800"
down_revision = "0700"
branch_labels = None
depends_on = None

S = "obs"
PM_REFERENCES = (("batch_id", "import_batch", "id", "integer"),)
PN_STAT_REFERENCES = (
    ("territory_code", "territory", "code", "text"),
    ("batch_id", "import_batch", "id", "integer"),
)


def upgrade() -> None:
    for table in ("pm_intervention", "pn_fact"):
        op.execute(f'ALTER TABLE {S}.{table} ALTER COLUMN natural_key TYPE text COLLATE "C"')
    op.drop_index("ix_pm_intervention_type_code", table_name="pm_intervention", schema=S)
    op.create_index(
        "ix_pm_intervention_unclassified",
        "pm_intervention",
        ["label_key"],
        schema=S,
        postgresql_where="type_code IS NULL",
    )
    op.execute(_SQL_1)
    op.execute(_SQL_2)
    op.execute(_SQL_3)
    op.execute(_SQL_4)


def downgrade() -> None:
    # Without the scan functions the bulk inserts keep the insert trigger on, as before.
    op.execute(f"DROP FUNCTION {S}.pn_stat_check_all_references()")
    op.execute(f"DROP FUNCTION {S}.pm_intervention_check_all_references()")
    op.drop_index("ix_pm_intervention_unclassified", table_name="pm_intervention", schema=S)
    op.create_index("ix_pm_intervention_type_code", "pm_intervention", ["type_code"], schema=S)
    for table in ("pm_intervention", "pn_fact"):
        op.execute(f'ALTER TABLE {S}.{table} ALTER COLUMN natural_key TYPE text COLLATE "default"')


# The SQL as it stood when this migration was written, frozen: a migration already applied never runs
# again, so it must keep creating exactly what it created then, whatever the code becomes.
_SQL_1 = """
CREATE OR REPLACE FUNCTION obs.pm_intervention_check_all_references() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
DECLARE missing text; keys_0 integer[];
BEGIN
    SELECT array_agg(k) INTO keys_0 FROM (SELECT DISTINCT batch_id AS k FROM obs.pm_intervention) d WHERE k IS NOT NULL;
    PERFORM 1 FROM obs.import_batch r WHERE r.id = ANY(keys_0) FOR KEY SHARE;
    SELECT k::text INTO missing FROM unnest(keys_0) k
    WHERE NOT EXISTS (SELECT 1 FROM obs.import_batch r WHERE r.id = k) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "pm_intervention" violates reference to "import_batch"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (batch_id)=(%s) is not present.', missing);
    END IF;
END $fn$;
REVOKE ALL ON FUNCTION obs.pm_intervention_check_all_references() FROM PUBLIC;
"""

_SQL_2 = """
CREATE OR REPLACE FUNCTION obs.pn_stat_check_all_references() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
DECLARE missing text; keys_0 text[]; keys_1 integer[];
BEGIN
    SELECT array_agg(k) INTO keys_0 FROM (SELECT DISTINCT territory_code AS k FROM obs.pn_stat) d WHERE k IS NOT NULL;
    PERFORM 1 FROM obs.territory r WHERE r.code = ANY(keys_0) FOR KEY SHARE;
    SELECT k::text INTO missing FROM unnest(keys_0) k
    WHERE NOT EXISTS (SELECT 1 FROM obs.territory r WHERE r.code = k) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "pn_stat" violates reference to "territory"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (territory_code)=(%s) is not present.', missing);
    END IF;
    SELECT array_agg(k) INTO keys_1 FROM (SELECT DISTINCT batch_id AS k FROM obs.pn_stat) d WHERE k IS NOT NULL;
    PERFORM 1 FROM obs.import_batch r WHERE r.id = ANY(keys_1) FOR KEY SHARE;
    SELECT k::text INTO missing FROM unnest(keys_1) k
    WHERE NOT EXISTS (SELECT 1 FROM obs.import_batch r WHERE r.id = k) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "pn_stat" violates reference to "import_batch"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (batch_id)=(%s) is not present.', missing);
    END IF;
END $fn$;
REVOKE ALL ON FUNCTION obs.pn_stat_check_all_references() FROM PUBLIC;
"""

_SQL_3 = """
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

_SQL_4 = """
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
