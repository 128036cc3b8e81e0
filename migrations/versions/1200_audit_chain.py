"""Audit log: appended only through the database, chained by hashes, purged only within the owner's policy.

- ``obs_app`` loses INSERT on ``obs.audit_log``: it appends through ``obs.audit_append()`` (SECURITY DEFINER).
- A BEFORE INSERT trigger, whoever inserts, sets the time (``clock_timestamp()``), the id (the chain head's
  last id + 1, so ids have no gap) and the chain: ``prev_hash`` is the hash of the entry before, ``hash`` the
  SHA-256 of ``prev_hash`` followed by the canonical text of the entry (``obs.audit_entry_hash``). The head
  (``obs.audit_chain``, one row) is locked for the append: two concurrent appends cannot fork the chain.
- ``obs.purge_audit()`` refuses a retention shorter than the floor of ``obs.audit_policy`` (written here,
  3 years), removes only the oldest run of entries older than the retention, moves the chain's anchor to
  the last removed entry and appends a purge entry carrying its id and hash.
- The session variable ``obs.purge_en_cours`` no longer lets anything through: the append-only trigger lets a
  DELETE pass only inside the transaction ``obs.purge_audit()`` marked on the chain head, which only the
  owner can write.
- Entries already there are chained in id order from a zero hash.

Revision ID: 1200
Revises: 1100
Create Date: 2026-11-30
"""

from alembic import op

revision = "1200"
down_revision = "1100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(_SQL_TABLES)
    op.execute(_SQL_FUNCTIONS)
    op.execute(_SQL_CHAIN_EXISTING)
    op.execute(_SQL_GRANTS)


def downgrade() -> None:
    op.execute(_SQL_DOWN)


# The SQL as it stood when this migration was written, frozen: a migration already applied never runs
# again, so it must keep creating exactly what it created then, whatever the code becomes.
_SQL_TABLES = """
ALTER TABLE obs.audit_log ADD COLUMN prev_hash varchar(64), ADD COLUMN hash varchar(64);

CREATE TABLE obs.audit_policy (
    id boolean DEFAULT true NOT NULL CONSTRAINT pk_audit_policy PRIMARY KEY,
    min_retention_years integer NOT NULL,
    CONSTRAINT ck_audit_policy_single CHECK (id),
    CONSTRAINT ck_audit_policy_min_retention_years CHECK (min_retention_years >= 1)
);
COMMENT ON TABLE obs.audit_policy IS
    'catalogue : durée minimale de conservation du journal d''audit, fixée par le propriétaire de la base';
INSERT INTO obs.audit_policy (id, min_retention_years) VALUES (true, 3);

CREATE TABLE obs.audit_chain (
    id boolean DEFAULT true NOT NULL CONSTRAINT pk_audit_chain PRIMARY KEY,
    last_id bigint NOT NULL,
    last_hash varchar(64) NOT NULL,
    anchor_id bigint NOT NULL,
    anchor_hash varchar(64) NOT NULL,
    purge_txid bigint,
    CONSTRAINT ck_audit_chain_single CHECK (id)
);
COMMENT ON TABLE obs.audit_chain IS 'tête de la chaîne d''empreintes du journal d''audit';
"""

_SQL_FUNCTIONS = """
-- The canonical text of an entry is a JSON array of its fields (time in UTC to the microsecond): the same
-- text whatever the session's time zone or date style. `observatoire audit verify` recomputes it.
CREATE FUNCTION obs.audit_entry_hash(prev_hash text, id bigint, at timestamptz, user_login text, role text,
                                     action text, target text, batch_id integer, ip text, detail jsonb)
RETURNS text LANGUAGE sql STABLE AS $fn$
    SELECT encode(sha256(convert_to(prev_hash || jsonb_build_array(
        id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), user_login, role, action, target,
        batch_id, ip, detail)::text, 'UTF8')), 'hex')
$fn$;

-- The chain head, locked until the end of the transaction (created empty when the log is empty).
CREATE FUNCTION obs.audit_chain_lock() RETURNS obs.audit_chain
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
DECLARE
    head obs.audit_chain;
BEGIN
    SELECT * INTO head FROM obs.audit_chain WHERE id FOR UPDATE;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM obs.audit_log) THEN
            RAISE EXCEPTION 'tête de la chaîne du journal d''audit absente alors que le journal a des entrées : '
                'rien ne peut y être ajouté avant que le propriétaire de la base la rétablisse'
                USING ERRCODE = 'data_corrupted';
        END IF;
        INSERT INTO obs.audit_chain (id, last_id, last_hash, anchor_id, anchor_hash)
            VALUES (true, 0, repeat('0', 64), 0, repeat('0', 64)) ON CONFLICT (id) DO NOTHING;
        SELECT * INTO head FROM obs.audit_chain WHERE id FOR UPDATE;
    END IF;
    RETURN head;
END $fn$;

-- Whoever inserts: the database sets the id, the time and the chain, never the caller.
CREATE FUNCTION obs.audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
DECLARE
    head obs.audit_chain;
BEGIN
    head := obs.audit_chain_lock();
    NEW.id := head.last_id + 1;
    NEW.at := clock_timestamp();
    NEW.detail := COALESCE(NEW.detail, '{}'::jsonb);
    NEW.prev_hash := head.last_hash;
    NEW.hash := obs.audit_entry_hash(NEW.prev_hash, NEW.id, NEW.at, NEW.user_login, NEW.role, NEW.action,
                                     NEW.target, NEW.batch_id, NEW.ip, NEW.detail);
    UPDATE obs.audit_chain SET last_id = NEW.id, last_hash = NEW.hash WHERE id;
    RETURN NEW;
END $fn$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON obs.audit_log
    FOR EACH ROW EXECUTE FUNCTION obs.audit_log_chain();

-- No session variable: a DELETE passes only in the transaction obs.purge_audit() marked on the head.
CREATE OR REPLACE FUNCTION obs.audit_log_refuse() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (
            SELECT 1 FROM obs.audit_chain WHERE id AND purge_txid = txid_current()) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'journal d''audit en ajout seul : % refusé', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $fn$;

-- The application's only way to write to the log.
CREATE FUNCTION obs.audit_append(action text, user_login text DEFAULT NULL, role text DEFAULT NULL,
                                 target text DEFAULT NULL, batch_id integer DEFAULT NULL,
                                 detail jsonb DEFAULT '{}', ip text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
#variable_conflict use_variable
DECLARE
    new_id bigint;
BEGIN
    IF action = 'purge' AND target = 'audit_log' THEN
        RAISE EXCEPTION 'l''entrée de purge du journal d''audit est réservée à obs.purge_audit()'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO obs.audit_log (action, user_login, role, target, batch_id, detail, ip)
        VALUES (action, user_login, role, target, batch_id, COALESCE(detail, '{}'::jsonb), ip)
        RETURNING audit_log.id INTO new_id;
    RETURN new_id;
END $fn$;

-- Retention: never below the owner's floor; removes the oldest run of expired entries as a whole and
-- moves the chain's anchor to the last of them, written in the purge entry.
CREATE OR REPLACE FUNCTION obs.purge_audit(retention_years integer, by_login text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $fn$
DECLARE
    minimum integer;
    head obs.audit_chain;
    boundary bigint;
    last_removed record;
    removed bigint := 0;
BEGIN
    SELECT min_retention_years INTO minimum FROM obs.audit_policy WHERE id;
    IF minimum IS NULL THEN
        RAISE EXCEPTION 'politique de conservation du journal d''audit absente (obs.audit_policy) : purge refusée'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF retention_years IS NULL OR retention_years < minimum THEN
        RAISE EXCEPTION 'Purge du journal d''audit refusée : une conservation de % an(s) est inférieure au '
            'minimum de % an(s) fixé par le propriétaire de la base.', COALESCE(retention_years::text, '?'), minimum
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    head := obs.audit_chain_lock();
    SELECT min(l.id) INTO boundary FROM obs.audit_log l
        WHERE l.at >= now() - make_interval(years => retention_years);
    SELECT l.id, l.hash INTO last_removed FROM obs.audit_log l
        WHERE boundary IS NULL OR l.id < boundary ORDER BY l.id DESC LIMIT 1;
    IF last_removed.id IS NOT NULL THEN
        UPDATE obs.audit_chain SET purge_txid = txid_current() WHERE id;
        DELETE FROM obs.audit_log WHERE id <= last_removed.id;
        GET DIAGNOSTICS removed = ROW_COUNT;
        UPDATE obs.audit_chain SET purge_txid = NULL, anchor_id = last_removed.id, anchor_hash = last_removed.hash
            WHERE id RETURNING * INTO head;
    END IF;
    INSERT INTO obs.audit_log (user_login, action, target, detail)
        VALUES (by_login, 'purge', 'audit_log', jsonb_build_object(
            'lignes_supprimees', removed, 'conservation_ans', retention_years, 'minimum_ans', minimum,
            'derniere_supprimee', head.anchor_id, 'empreinte_derniere_supprimee', head.anchor_hash));
    RETURN removed;
END $fn$;

REVOKE ALL ON FUNCTION obs.audit_chain_lock() FROM PUBLIC;
REVOKE ALL ON FUNCTION obs.audit_log_chain() FROM PUBLIC;
REVOKE ALL ON FUNCTION obs.audit_log_refuse() FROM PUBLIC;
REVOKE ALL ON FUNCTION obs.audit_append(text, text, text, text, integer, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION obs.purge_audit(integer, text) FROM PUBLIC;
"""

# Entries written before this migration: chained in id order from a zero hash (the trigger is lifted for
# this update only, inside the migration's transaction).
_SQL_CHAIN_EXISTING = """
ALTER TABLE obs.audit_log DISABLE TRIGGER audit_log_append_only;
DO $$
DECLARE
    r record;
    prev text := repeat('0', 64);
    first_id bigint;
    last_id bigint := 0;
BEGIN
    FOR r IN SELECT * FROM obs.audit_log ORDER BY id LOOP
        first_id := COALESCE(first_id, r.id);
        UPDATE obs.audit_log SET prev_hash = prev,
            hash = obs.audit_entry_hash(prev, r.id, r.at, r.user_login, r.role, r.action, r.target, r.batch_id,
                                        r.ip, r.detail)
            WHERE id = r.id RETURNING hash INTO prev;
        last_id := r.id;
    END LOOP;
    INSERT INTO obs.audit_chain (id, last_id, last_hash, anchor_id, anchor_hash)
        VALUES (true, last_id, prev, COALESCE(first_id, 1) - 1, repeat('0', 64));
END $$;
ALTER TABLE obs.audit_log ENABLE TRIGGER audit_log_append_only;
ALTER TABLE obs.audit_log ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;
"""

_SQL_GRANTS = """
DO $$ BEGIN
IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON obs.audit_log FROM obs_app;
    REVOKE ALL ON obs.audit_chain, obs.audit_policy FROM obs_app;
    GRANT SELECT ON obs.audit_chain, obs.audit_policy TO obs_app;
    GRANT EXECUTE ON FUNCTION obs.audit_append(text, text, text, text, integer, jsonb, text) TO obs_app;
    GRANT EXECUTE ON FUNCTION obs.purge_audit(integer, text) TO obs_app;
END IF;
END $$;
"""

# Back to 0001: the functions as they were, INSERT given back to the application.
_SQL_DOWN = """
DROP TRIGGER audit_log_chain ON obs.audit_log;
DROP FUNCTION obs.audit_log_chain();
DROP FUNCTION obs.audit_append(text, text, text, text, integer, jsonb, text);
CREATE OR REPLACE FUNCTION obs.audit_log_refuse() RETURNS trigger LANGUAGE plpgsql SECURITY INVOKER AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('obs.purge_en_cours', true) = 'oui' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'journal d''audit en ajout seul : % refusé', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE FUNCTION obs.purge_audit(retention_years integer, by_login text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = obs, pg_temp AS $$
DECLARE removed bigint;
BEGIN
    IF retention_years < 1 THEN
        RAISE EXCEPTION 'durée de conservation invalide : % an(s)', retention_years;
    END IF;
    PERFORM set_config('obs.purge_en_cours', 'oui', true);
    DELETE FROM obs.audit_log WHERE at < now() - make_interval(years => retention_years);
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('obs.purge_en_cours', '', true);
    INSERT INTO obs.audit_log (user_login, action, target, detail)
        VALUES (by_login, 'purge', 'audit_log',
                jsonb_build_object('lignes_supprimees', removed, 'conservation_ans', retention_years));
    RETURN removed;
END $$;
DROP FUNCTION obs.audit_chain_lock();
DROP FUNCTION obs.audit_entry_hash(text, bigint, timestamptz, text, text, text, text, integer, text, jsonb);
DROP TABLE obs.audit_chain;
DROP TABLE obs.audit_policy;
ALTER TABLE obs.audit_log DROP COLUMN prev_hash, DROP COLUMN hash;
DO $$ BEGIN
IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
    GRANT INSERT ON obs.audit_log TO obs_app;
END IF;
END $$;
"""
