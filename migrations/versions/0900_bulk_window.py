"""Large police municipale imports copy their rows straight into the table, inside a bulk window.

``pm_intervention_bulk_open()`` drops the indexes and keys, ``pm_intervention_bulk_close()`` removes the
duplicates and rebuilds them once (see :func:`observatoire.bulk_sql.bulk_window_functions`); the importer
``COPY``s its validated rows in between. The rows are written once instead of twice (a staging table, then
the table). ``obs.bulk_window`` records the open windows; a deferred trigger refuses to commit one left open.
The former bulk insert of this table, fed by a staging view, goes. That of ``pn_stat`` is recreated: it now
drops its reference trigger during the insert instead of disabling it, since a disabled trigger still makes
PostgreSQL keep every inserted row for it.

Revision ID: 0900
Revises: 0800
Create Date: 2026-11-22
"""

from alembic import op

revision = "0900"
down_revision = "0800"
branch_labels = None
depends_on = None

S = "obs"
FK_TARGETS = ("pm_intervention_type", "pm_family")


def upgrade() -> None:
    op.execute(_SQL_1)
    op.execute(_SQL_2)
    op.execute(f"DROP FUNCTION {S}.pm_intervention_bulk_insert()")
    op.execute(_SQL_3)


def downgrade() -> None:
    op.execute(_SQL_4)
    op.execute(f"DROP FUNCTION {S}.pm_intervention_bulk_close()")
    op.execute(f"DROP FUNCTION {S}.pm_intervention_bulk_open")  # whichever signature (see 1100)
    op.execute(f"DROP TABLE {S}.bulk_window")
    op.execute(f"DROP FUNCTION {S}.bulk_window_left_open()")


# The SQL as it stood when this migration was written, frozen: a migration already applied never runs
# again, so it must keep creating exactly what it created then, whatever the code becomes.
_SQL_1 = """
CREATE TABLE obs.bulk_window (
    table_name text CONSTRAINT pk_bulk_window PRIMARY KEY,
    uniques text[] NOT NULL,
    others text[] NOT NULL,
    first_id bigint NOT NULL,
    had_rows boolean NOT NULL
);
COMMENT ON TABLE obs.bulk_window IS 'chargements en masse en cours (vide hors transaction)';
CREATE FUNCTION obs.bulk_window_left_open() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM obs.bulk_window WHERE table_name = NEW.table_name) THEN
        RAISE EXCEPTION 'chargement en masse de % non refermé : index non reconstruits, rien n''est enregistré',
            NEW.table_name USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $fn$;
-- Checked at commit: a transaction that opened a window and did not close it cannot commit.
CREATE CONSTRAINT TRIGGER bulk_window_closed AFTER INSERT ON obs.bulk_window
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION obs.bulk_window_left_open();
DO $$ BEGIN
IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') THEN
    REVOKE ALL ON obs.bulk_window FROM obs_app;
END IF;
END $$;
"""

_SQL_2 = """
CREATE OR REPLACE FUNCTION obs.pm_intervention_bulk_open() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, public, pg_temp SET maintenance_work_mem = '256MB' SET work_mem = '64MB' SET enable_nestloop = off AS $fn$
DECLARE
    unique_stmts text[] := '{}';
    other_stmts text[] := '{}';
    item record;
    first bigint;
    had boolean;
BEGIN
    LOCK TABLE obs.pm_intervention IN ACCESS EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM obs.bulk_window WHERE table_name = 'pm_intervention') THEN
        RAISE EXCEPTION 'un chargement en masse de pm_intervention est déjà ouvert';
    END IF;
    first := COALESCE((SELECT max(id) FROM obs.pm_intervention), 0);  -- the rows loaded next have larger ids
    had := EXISTS (SELECT 1 FROM obs.pm_intervention);

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
    IF to_regprocedure('obs.pm_intervention_check_all_references()') IS NOT NULL THEN
        other_stmts := other_stmts || (SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'obs.pm_intervention'::regclass AND tgname = 'pm_intervention_references_insert');
        DROP TRIGGER pm_intervention_references_insert ON obs.pm_intervention;
    END IF;
    INSERT INTO obs.bulk_window VALUES ('pm_intervention', unique_stmts, other_stmts, first, had);
END $fn$;

CREATE OR REPLACE FUNCTION obs.pm_intervention_bulk_close() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, public, pg_temp SET maintenance_work_mem = '256MB' SET work_mem = '64MB' SET enable_nestloop = off AS $fn$
DECLARE
    w obs.bulk_window;
    stmt text;
    loaded bigint;
BEGIN
    DELETE FROM obs.bulk_window WHERE table_name = 'pm_intervention' RETURNING * INTO w;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'aucun chargement en masse de pm_intervention n''est ouvert';
    END IF;
    IF w.had_rows THEN  -- keys already stored: the loaded copies go
        DELETE FROM obs.pm_intervention n USING obs.pm_intervention o WHERE n.id > w.first_id AND o.id <= w.first_id AND o.natural_key = n.natural_key;
    END IF;
    BEGIN
        -- Usual case, no key twice in the load: the unique index built afterwards proves it.
        FOREACH stmt IN ARRAY w.uniques LOOP EXECUTE stmt; END LOOP;
    EXCEPTION WHEN unique_violation THEN
        DELETE FROM obs.pm_intervention WHERE id IN (
            SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY natural_key ORDER BY id) AS rank
                            FROM obs.pm_intervention WHERE id > w.first_id) d WHERE rank > 1);
        FOREACH stmt IN ARRAY w.uniques LOOP EXECUTE stmt; END LOOP;
    END;
    FOREACH stmt IN ARRAY w.others LOOP EXECUTE stmt; END LOOP;
    IF to_regprocedure('obs.pm_intervention_check_all_references()') IS NOT NULL THEN
        PERFORM obs.pm_intervention_check_all_references();
    END IF;
    SELECT count(*) INTO loaded FROM obs.pm_intervention WHERE id > w.first_id;
    ANALYZE obs.pm_intervention;  -- plans of the next queries see the new size at once
    RETURN loaded;
END $fn$;
REVOKE ALL ON FUNCTION obs.pm_intervention_bulk_open() FROM PUBLIC;
REVOKE ALL ON FUNCTION obs.pm_intervention_bulk_close() FROM PUBLIC;
DO $$ BEGIN
IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
    GRANT EXECUTE ON FUNCTION obs.pm_intervention_bulk_open() TO obs_app;
    GRANT EXECUTE ON FUNCTION obs.pm_intervention_bulk_close() TO obs_app;
END IF;
END $$;
"""

_SQL_3 = """
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

_SQL_4 = """
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
