"""SQL of the owner-side bulk insert and of the per-statement reference checks, used by migrations.

Kept in one place because two migrations create the same kind of function for their large tables.
Migrations already applied do not run again, so a change here only reaches databases created later: a
change of behaviour needs a new migration that recreates the functions.
"""

from __future__ import annotations

S = "obs"


# Settings of the bulk functions. Without its indexes the table can only be probed by scanning it: a nested loop
# would rescan it (growing with the insert) once per row when its statistics say it is empty.
_BULK_SETTINGS = (f"SET search_path = {S}, public, pg_temp SET maintenance_work_mem = '256MB' SET work_mem = '64MB' "
                  "SET enable_nestloop = off")


def bulk_insert_function(table: str, key: tuple[str, ...], dropped_fk_targets: tuple[str, ...] = ()) -> str:
    """``obs.<table>_bulk_insert()``: the rows of the caller's ``pg_temp.<table>_bulk`` (a view or table whose
    columns carry the target's names, plus ``line``) inserted without the ones whose ``key`` is already
    there, index maintenance deferred to one rebuild per index.

    Inserting a large batch row by row through a GIST, a unique key and several btrees costs ten times
    more than inserting into the bare table and building each index once. Only the owner may drop and
    create indexes, hence SECURITY DEFINER; the application role cannot leave the table without its
    indexes because dropping and rebuilding happen in this one call (an error rolls both back). The
    ACCESS EXCLUSIVE lock, held until the import commits, keeps readers waiting and any concurrent writer
    out, so the anti-join against the existing rows stands in for the unique index exactly; the caller only
    takes this path for a batch larger than the table (the first national load, a historical backfill).
    Foreign keys towards ``dropped_fk_targets`` (catalogues read only with this table) are re-added in one
    validating scan instead of one check per row; NOT NULL and CHECK constraints and the statement-level
    reference triggers stay in force during the insert.
    """
    t = f"{S}.{table}"
    match = " AND ".join(f"t.{k} = r.{k}" for k in key)
    keys = ", ".join(f"r.{k}" for k in key)
    targets = _fk_targets(dropped_fk_targets)
    return f"""
    CREATE OR REPLACE FUNCTION {t}_bulk_insert() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER {_BULK_SETTINGS} AS $fn$
    DECLARE
        unique_stmts text[] := '{{}}';
        other_stmts text[] := '{{}}';
        item record;
        cols text;
        stmt text;
        anti text := 'NOT EXISTS (SELECT 1 FROM {t} t WHERE {match})';
        inserted bigint;
        src regclass := to_regclass('pg_temp.{table}_bulk');  -- looked up at each call: a new view each import
        scan boolean := to_regprocedure('{t}_check_all_references()') IS NOT NULL;
        trigger_def text;
    BEGIN
        IF src IS NULL THEN
            RAISE EXCEPTION 'pg_temp.{table}_bulk absent : rien à insérer';
        END IF;
        LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE;
{_detach(t, targets)}
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = '{t}'::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
          AND EXISTS (SELECT 1 FROM pg_attribute b WHERE b.attrelid = src
                      AND b.attname = a.attname AND b.attnum > 0 AND NOT b.attisdropped);
        IF NOT EXISTS (SELECT 1 FROM {t}) THEN
            anti := 'true';  -- nothing to compare with
        END IF;
        IF scan THEN
            trigger_def := {_REFERENCE_TRIGGER_DEF.format(t=t, table=table)};
            DROP TRIGGER {table}_references_insert ON {t};
        END IF;
        BEGIN
            -- Usual case, no key twice in the batch: the unique index built afterwards proves it.
            EXECUTE format('INSERT INTO {t} (%1$s) SELECT %1$s FROM pg_temp.{table}_bulk r WHERE %2$s', cols, anti);
            GET DIAGNOSTICS inserted = ROW_COUNT;
            FOREACH stmt IN ARRAY unique_stmts LOOP EXECUTE stmt; END LOOP;
        EXCEPTION WHEN unique_violation THEN
            -- The batch repeats a key: its first line wins, as with ON CONFLICT DO NOTHING.
            EXECUTE format('INSERT INTO {t} (%1$s) SELECT DISTINCT ON ({keys}) %1$s FROM pg_temp.{table}_bulk r '
                           'WHERE %2$s ORDER BY {keys}, r.line', cols, anti);
            GET DIAGNOSTICS inserted = ROW_COUNT;
            FOREACH stmt IN ARRAY unique_stmts LOOP EXECUTE stmt; END LOOP;
        END;
        FOREACH stmt IN ARRAY other_stmts LOOP EXECUTE stmt; END LOOP;
        IF scan THEN
            EXECUTE trigger_def;
            EXECUTE 'SELECT {t}_check_all_references()';
        END IF;
        EXECUTE 'ANALYZE {t}';  -- plans of the next queries see the new size at once
        RETURN inserted;
    END $fn$;
    REVOKE ALL ON FUNCTION {t}_bulk_insert() FROM PUBLIC;
    DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
        GRANT EXECUTE ON FUNCTION {t}_bulk_insert() TO obs_app;
    END IF;
    END $$;
    """


def _detach(t: str, targets: str) -> str:
    """PL/pgSQL dropping the indexes and constraints of ``t`` that a bulk load rebuilds once, and keeping how to
    recreate them in ``unique_stmts`` (unique constraints, built first: they decide what is a duplicate) and
    ``other_stmts``."""
    return f"""
        FOR item IN
            SELECT c.contype, format('ALTER TABLE {t} ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)) AS add,
                   format('ALTER TABLE {t} DROP CONSTRAINT %I', c.conname) AS drop
            FROM pg_constraint c
            WHERE c.conrelid = '{t}'::regclass
              AND (c.contype = 'u' OR (c.contype = 'f' AND c.confrelid IN ({targets}))
                   -- the primary key too, unless another table's foreign key needs it
                   OR (c.contype = 'p' AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                                                       WHERE f.confrelid = '{t}'::regclass AND f.contype = 'f')))
            UNION ALL
            SELECT 'i', pg_get_indexdef(i.indexrelid), format('DROP INDEX %s', i.indexrelid::regclass)
            FROM pg_index i
            WHERE i.indrelid = '{t}'::regclass AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        LOOP
            IF item.contype = 'u' THEN
                unique_stmts := unique_stmts || item.add;
            ELSE
                other_stmts := other_stmts || item.add;
            END IF;
            EXECUTE item.drop;
        END LOOP;"""


# The per-statement reference check keeps every inserted row in a transition table (about a second per million
# rows), even while the trigger is disabled: bulk loads drop it, and run the same checks once over the table
# (``<table>_check_all_references()``) after recreating it, under the lock they hold.
_REFERENCE_TRIGGER_DEF = ("(SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = '{t}'::regclass "
                          "AND tgname = '{table}_references_insert')")


def _fk_targets(dropped_fk_targets: tuple[str, ...]) -> str:
    return ", ".join(f"'{S}.{name}'::regclass" for name in dropped_fk_targets) or "NULL::regclass"


BULK_WINDOW_TABLE = f"""
    CREATE TABLE {S}.bulk_window (
        table_name text CONSTRAINT pk_bulk_window PRIMARY KEY,
        uniques text[] NOT NULL,
        others text[] NOT NULL,
        first_id bigint NOT NULL,
        had_rows boolean NOT NULL
    );
    COMMENT ON TABLE {S}.bulk_window IS 'chargements en masse en cours (vide hors transaction)';
    CREATE FUNCTION {S}.bulk_window_left_open() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = {S}, pg_temp AS $fn$
    BEGIN
        IF EXISTS (SELECT 1 FROM {S}.bulk_window WHERE table_name = NEW.table_name) THEN
            RAISE EXCEPTION 'chargement en masse de % non refermé : index non reconstruits, rien n''est enregistré',
                NEW.table_name USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    END $fn$;
    -- Checked at commit: a transaction that opened a window and did not close it cannot commit.
    CREATE CONSTRAINT TRIGGER bulk_window_closed AFTER INSERT ON {S}.bulk_window
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {S}.bulk_window_left_open();
    DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') THEN
        REVOKE ALL ON {S}.bulk_window FROM obs_app;
    END IF;
    END $$;
    """


def bulk_window_functions(table: str, key: tuple[str, ...], dropped_fk_targets: tuple[str, ...] = ()) -> str:
    """``obs.<table>_bulk_open(rows)`` and ``obs.<table>_bulk_close()``: between the two calls, in one transaction,
    the caller ``COPY``s its rows straight into the table, which has no index to maintain.

    ``open`` reserves ``rows`` values of the ``id`` sequence and returns the first: the caller numbers its rows
    itself, in the order of its file, instead of PostgreSQL calling the sequence once per row. Under the lock
    no other insert can draw from the sequence in between.

    Same guarantees as :func:`bulk_insert_function`, without writing every row twice (staging table, then
    table): the indexes and keys are dropped by ``open`` and rebuilt once by ``close``, under an ACCESS
    EXCLUSIVE lock held until the end of the transaction. ``close`` removes the loaded rows whose ``key``
    already existed, and those repeating a key within the load but the first (lowest ``id``, the first line),
    as ``ON CONFLICT DO NOTHING`` would. The window is recorded in ``obs.bulk_window``, which the application
    cannot touch; a deferred trigger refuses to commit a transaction that left it open, so the table cannot be
    left without its indexes. Reference checks run once over the table at ``close``.
    """
    t = f"{S}.{table}"
    keys = ", ".join(key)
    match = " AND ".join(f"o.{k} = n.{k}" for k in key)
    targets = _fk_targets(dropped_fk_targets)
    return f"""
    CREATE OR REPLACE FUNCTION {t}_bulk_open(rows bigint DEFAULT 0) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER {_BULK_SETTINGS} AS $fn$
    DECLARE
        unique_stmts text[] := '{{}}';
        other_stmts text[] := '{{}}';
        item record;
        first bigint;
        had boolean;
        ids regclass := pg_get_serial_sequence('{t}', 'id')::regclass;
        reserved bigint;
    BEGIN
        LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE;
        IF EXISTS (SELECT 1 FROM {S}.bulk_window WHERE table_name = '{table}') THEN
            RAISE EXCEPTION 'un chargement en masse de {table} est déjà ouvert';
        END IF;
        first := COALESCE((SELECT max(id) FROM {t}), 0);  -- the rows loaded next have larger ids
        had := EXISTS (SELECT 1 FROM {t});
        {_detach(t, targets)}
        IF to_regprocedure('{t}_check_all_references()') IS NOT NULL THEN
            other_stmts := other_stmts || {_REFERENCE_TRIGGER_DEF.format(t=t, table=table)};
            DROP TRIGGER {table}_references_insert ON {t};
        END IF;
        INSERT INTO {S}.bulk_window VALUES ('{table}', unique_stmts, other_stmts, first, had);
        IF rows > 0 THEN
            reserved := nextval(ids);
            PERFORM setval(ids, reserved + rows - 1);
        END IF;
        RETURN reserved;
    END $fn$;

    CREATE OR REPLACE FUNCTION {t}_bulk_close() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER {_BULK_SETTINGS} AS $fn$
    DECLARE
        w {S}.bulk_window;
        stmt text;
        loaded bigint;
    BEGIN
        DELETE FROM {S}.bulk_window WHERE table_name = '{table}' RETURNING * INTO w;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'aucun chargement en masse de {table} n''est ouvert';
        END IF;
        IF w.had_rows THEN  -- keys already stored: the loaded copies go
            DELETE FROM {t} n USING {t} o WHERE n.id > w.first_id AND o.id <= w.first_id AND {match};
        END IF;
        BEGIN
            -- Usual case, no key twice in the load: the unique index built afterwards proves it.
            FOREACH stmt IN ARRAY w.uniques LOOP EXECUTE stmt; END LOOP;
        EXCEPTION WHEN unique_violation THEN
            DELETE FROM {t} WHERE id IN (
                SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY {keys} ORDER BY id) AS rank
                                FROM {t} WHERE id > w.first_id) d WHERE rank > 1);
            FOREACH stmt IN ARRAY w.uniques LOOP EXECUTE stmt; END LOOP;
        END;
        FOREACH stmt IN ARRAY w.others LOOP EXECUTE stmt; END LOOP;
        IF to_regprocedure('{t}_check_all_references()') IS NOT NULL THEN
            PERFORM {t}_check_all_references();
        END IF;
        SELECT count(*) INTO loaded FROM {t} WHERE id > w.first_id;
        ANALYZE {t};  -- plans of the next queries see the new size at once
        RETURN loaded;
    END $fn$;
    REVOKE ALL ON FUNCTION {t}_bulk_open(bigint) FROM PUBLIC;
    REVOKE ALL ON FUNCTION {t}_bulk_close() FROM PUBLIC;
    DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
        GRANT EXECUTE ON FUNCTION {t}_bulk_open(bigint) TO obs_app;
        GRANT EXECUTE ON FUNCTION {t}_bulk_close() TO obs_app;
    END IF;
    END $$;
    """


def reference_checks(table: str, references: tuple[tuple[str, str, str, str], ...]) -> str:
    """Foreign keys checked once per statement instead of once per row; ``references`` lists (column,
    referenced table, referenced key, its SQL type).

    A foreign key runs a lookup and locks the referenced row for every inserted row; on a batch of
    millions of rows that is most of the import. These triggers give the same guarantee with one query per
    statement over its transition table: the referenced rows are locked FOR KEY SHARE as a foreign key
    would (a concurrent delete waits for the commit, then fails), a missing one refuses the statement with
    the foreign-key error code, and deleting or renumbering a referenced row still in use is refused.
    """
    t = f"{S}.{table}"
    declared, checks = _checks(table, references, "new_rows")
    sql = f"""
    CREATE FUNCTION {t}_check_references() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = {S}, pg_temp AS $fn$
    DECLARE missing text; {declared}
    BEGIN{checks}
        RETURN NULL;
    END $fn$;
    CREATE TRIGGER {table}_references_insert AFTER INSERT ON {t} REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {t}_check_references();
    CREATE TRIGGER {table}_references_update AFTER UPDATE ON {t} REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {t}_check_references();
    """
    for column, target, key, sqltype in references:
        fn = f"{S}.{table}_{column}_referenced"
        # Only keys that no longer exist after the statement are looked up in the big table, so the
        # frequent updates of the referenced table (batch status, territory outlines) cost one anti-join.
        sql += f"""
    CREATE FUNCTION {fn}() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = {S}, pg_temp AS $fn$
    DECLARE gone {sqltype}[]; used text;
    BEGIN
        SELECT array_agg(o.{key}) INTO gone FROM old_rows o
        WHERE NOT EXISTS (SELECT 1 FROM {S}.{target} r WHERE r.{key} = o.{key});
        IF gone IS NULL THEN
            RETURN NULL;
        END IF;
        SELECT x.{column}::text INTO used FROM {t} x WHERE x.{column} = ANY(gone) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'update or delete on table "{target}" violates reference from "{table}"'
                USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key ({key})=(%s) is still referenced.', used);
        END IF;
        RETURN NULL;
    END $fn$;
    CREATE TRIGGER {table}_{column}_deleted AFTER DELETE ON {S}.{target} REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {fn}();
    CREATE TRIGGER {table}_{column}_updated AFTER UPDATE ON {S}.{target} REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION {fn}();
    """
    return sql


def _checks(table: str, references: tuple[tuple[str, str, str, str], ...], rows: str) -> tuple[str, str]:
    """Declarations and body checking that every key of ``rows`` exists in its referenced table, locking the
    referenced rows FOR KEY SHARE as a foreign key would."""
    checks, declared = [], []
    for i, (column, target, key, sqltype) in enumerate(references):
        declared.append(f"keys_{i} {sqltype}[];")
        # The distinct keys go through an array: one pass over the rows, then index probes,
        # whatever the planner believes about either side's size.
        checks.append(f"""
        SELECT array_agg(k) INTO keys_{i} FROM (SELECT DISTINCT {column} AS k FROM {rows}) d WHERE k IS NOT NULL;
        PERFORM 1 FROM {S}.{target} r WHERE r.{key} = ANY(keys_{i}) FOR KEY SHARE;
        SELECT k::text INTO missing FROM unnest(keys_{i}) k
        WHERE NOT EXISTS (SELECT 1 FROM {S}.{target} r WHERE r.{key} = k) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'insert or update on table "{table}" violates reference to "{target}"'
                USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key ({column})=(%s) is not present.', missing);
        END IF;""")
    return " ".join(declared), "".join(checks)


def reference_scan(table: str, references: tuple[tuple[str, str, str, str], ...]) -> str:
    """``obs.<table>_check_all_references()``: the checks of :func:`reference_checks` over the whole table, for
    the bulk insert, which runs them once after its insert instead of through the insert trigger."""
    t = f"{S}.{table}"
    declared, checks = _checks(table, references, t)
    return f"""
    CREATE OR REPLACE FUNCTION {t}_check_all_references() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = {S}, pg_temp AS $fn$
    DECLARE missing text; {declared}
    BEGIN{checks}
    END $fn$;
    REVOKE ALL ON FUNCTION {t}_check_all_references() FROM PUBLIC;
    """
