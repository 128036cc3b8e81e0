"""The police municipale bulk window reserves the ids of the rows it will receive.

``pm_intervention_bulk_open(rows)`` takes the number of rows to come and returns the first of as many values
drawn from the ``id`` sequence at once: the importer numbers its rows itself (in the order of its file) and
sends them in PostgreSQL's binary ``COPY`` format, instead of the server calling the sequence once per row.
Called without argument it reserves nothing and the rows take their ids from the sequence as before.

Revision ID: 1100
Revises: 1000
Create Date: 2026-11-29
"""

from alembic import op

revision = "1100"
down_revision = "1000"
branch_labels = None
depends_on = None

S = "obs"
FK_TARGETS = ("pm_intervention_type", "pm_family")


def upgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {S}.pm_intervention_bulk_open()")
    op.execute(_SQL_1)


def downgrade() -> None:
    # The function of 1100 also serves the callers of 0900 (no argument, nothing reserved): nothing to undo.
    pass


# The SQL as it stood when this migration was written, frozen: a migration already applied never runs
# again, so it must keep creating exactly what it created then, whatever the code becomes.
_SQL_1 = """
CREATE OR REPLACE FUNCTION obs.pm_intervention_bulk_open(rows bigint DEFAULT 0) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, public, pg_temp SET maintenance_work_mem = '256MB' SET work_mem = '64MB' SET enable_nestloop = off AS $fn$
DECLARE
    unique_stmts text[] := '{}';
    other_stmts text[] := '{}';
    item record;
    first bigint;
    had boolean;
    ids regclass := pg_get_serial_sequence('obs.pm_intervention', 'id')::regclass;
    reserved bigint;
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
    IF rows > 0 THEN
        reserved := nextval(ids);
        PERFORM setval(ids, reserved + rows - 1);
    END IF;
    RETURN reserved;
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
REVOKE ALL ON FUNCTION obs.pm_intervention_bulk_open(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION obs.pm_intervention_bulk_close() FROM PUBLIC;
DO $$ BEGIN
IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
    GRANT EXECUTE ON FUNCTION obs.pm_intervention_bulk_open(bigint) TO obs_app;
    GRANT EXECUTE ON FUNCTION obs.pm_intervention_bulk_close() TO obs_app;
END IF;
END $$;
"""
