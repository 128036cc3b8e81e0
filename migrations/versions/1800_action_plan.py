"""The strategy's action plan (fiches, indicators, yearly values locked once validated, their log, evaluations
of placed actions) and perceived-insecurity surveys (codebook, anonymous coded answers).

- ``obs.action_entry``: a trigger refuses any change or deletion of a validated value, except going back to
  draft with the values unchanged while ``obs.reopen_reason`` is set (``observatoire.strategy.entries.reopen``);
  another trigger (owner's rights) writes every insert, change, validation, reopening and deletion into
  ``obs.action_entry_log``, which the application role may read but never write.

Revision ID: 1800
Revises: 1600
Create Date: 2026-12-03
"""

from alembic import op

revision = "1800"
down_revision = "1600"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(_SQL_UP)


def downgrade() -> None:
    op.execute(_SQL_DOWN)


# The SQL as it stood when this migration was written, frozen.
_SQL_UP = """
CREATE TABLE obs.strategy (
    id SERIAL NOT NULL,
    code VARCHAR(40) NOT NULL,
    label TEXT NOT NULL,
    first_year SMALLINT NOT NULL,
    last_year SMALLINT NOT NULL,
    batch_id INTEGER,
    CONSTRAINT pk_strategy PRIMARY KEY (id),
    CONSTRAINT uq_strategy_code UNIQUE (code),
    CONSTRAINT fk_strategy_batch_id_import_batch FOREIGN KEY(batch_id) REFERENCES obs.import_batch (id)
);
CREATE TABLE obs.action_fiche (
    id SERIAL NOT NULL,
    strategy_id INTEGER NOT NULL,
    number VARCHAR(10) NOT NULL,
    position SMALLINT NOT NULL,
    axis SMALLINT NOT NULL,
    title TEXT NOT NULL,
    status VARCHAR(12) NOT NULL,
    pilot TEXT,
    partners TEXT,
    batch_id INTEGER,
    CONSTRAINT pk_action_fiche PRIMARY KEY (id),
    CONSTRAINT uq_action_fiche_strategy_id_number UNIQUE (strategy_id, number),
    CONSTRAINT ck_action_fiche_status CHECK (status IN ('nouvelle', 'reconduite')),
    CONSTRAINT fk_action_fiche_strategy_id_strategy FOREIGN KEY(strategy_id) REFERENCES obs.strategy (id) ON DELETE CASCADE,
    CONSTRAINT fk_action_fiche_batch_id_import_batch FOREIGN KEY(batch_id) REFERENCES obs.import_batch (id)
);
CREATE TABLE obs.action_indicator (
    id SERIAL NOT NULL,
    fiche_id INTEGER NOT NULL,
    position SMALLINT NOT NULL,
    label TEXT NOT NULL,
    kind VARCHAR(12) NOT NULL,
    series TEXT[] DEFAULT '{}'::text[] NOT NULL,
    CONSTRAINT pk_action_indicator PRIMARY KEY (id),
    CONSTRAINT uq_action_indicator_fiche_id_position UNIQUE (fiche_id, position),
    CONSTRAINT ck_action_indicator_kind CHECK (kind IN ('nombre', 'oui_non', 'qualitatif')),
    CONSTRAINT fk_action_indicator_fiche_id_action_fiche FOREIGN KEY(fiche_id) REFERENCES obs.action_fiche (id) ON DELETE CASCADE
);
CREATE TABLE obs.action_entry (
    id SERIAL NOT NULL,
    indicator_id INTEGER NOT NULL,
    year SMALLINT NOT NULL,
    number_value NUMERIC,
    bool_value BOOLEAN,
    quality VARCHAR(20),
    source TEXT,
    progress VARCHAR(20) NOT NULL,
    state VARCHAR(10) DEFAULT 'brouillon' NOT NULL,
    entered_by VARCHAR(80),
    validated_by VARCHAR(80),
    validated_at TIMESTAMP WITH TIME ZONE,
    batch_id INTEGER,
    CONSTRAINT pk_action_entry PRIMARY KEY (id),
    CONSTRAINT uq_action_entry_indicator_id_year UNIQUE (indicator_id, year),
    CONSTRAINT ck_action_entry_progress CHECK (progress IN ('non_demarree', 'en_cours', 'realisee', 'abandonnee')),
    CONSTRAINT ck_action_entry_state CHECK (state IN ('brouillon', 'valide')),
    CONSTRAINT ck_action_entry_quality CHECK (quality IS NULL OR quality IN ('insuffisant', 'partiel', 'satisfaisant', 'tres_satisfaisant')),
    CONSTRAINT ck_action_entry_one_value CHECK (num_nonnulls(number_value, bool_value, quality) <= 1),
    CONSTRAINT fk_action_entry_indicator_id_action_indicator FOREIGN KEY(indicator_id) REFERENCES obs.action_indicator (id) ON DELETE CASCADE,
    CONSTRAINT fk_action_entry_batch_id_import_batch FOREIGN KEY(batch_id) REFERENCES obs.import_batch (id)
);
CREATE TABLE obs.action_entry_log (
    id BIGSERIAL NOT NULL,
    entry_id INTEGER NOT NULL,
    indicator_id INTEGER NOT NULL,
    year SMALLINT NOT NULL,
    action VARCHAR(20) NOT NULL,
    user_login VARCHAR(80),
    reason TEXT,
    before JSONB,
    after JSONB,
    at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_action_entry_log PRIMARY KEY (id)
);
CREATE TABLE obs.action_evaluation (
    id SERIAL NOT NULL,
    fiche_id INTEGER,
    label TEXT NOT NULL,
    place TEXT NOT NULL,
    geom_l93 geometry(MULTIPOLYGON,2154) NOT NULL,
    start_date DATE NOT NULL,
    event_source VARCHAR(20) NOT NULL,
    family VARCHAR(40),
    buffer_m INTEGER DEFAULT '300' NOT NULL,
    created_by VARCHAR(80),
    CONSTRAINT pk_action_evaluation PRIMARY KEY (id),
    CONSTRAINT fk_action_evaluation_fiche_id_action_fiche FOREIGN KEY(fiche_id) REFERENCES obs.action_fiche (id) ON DELETE CASCADE
);
CREATE TABLE obs.survey (
    id SERIAL NOT NULL,
    code VARCHAR(40) NOT NULL,
    label TEXT NOT NULL,
    fielded_on DATE,
    batch_id INTEGER NOT NULL,
    CONSTRAINT pk_survey PRIMARY KEY (id),
    CONSTRAINT uq_survey_code UNIQUE (code),
    CONSTRAINT fk_survey_batch_id_import_batch FOREIGN KEY(batch_id) REFERENCES obs.import_batch (id)
);
CREATE TABLE obs.survey_variable (
    id SERIAL NOT NULL,
    survey_id INTEGER NOT NULL,
    code VARCHAR(40) NOT NULL,
    label TEXT NOT NULL,
    kind VARCHAR(10) NOT NULL,
    position SMALLINT NOT NULL,
    answers JSONB NOT NULL,
    CONSTRAINT pk_survey_variable PRIMARY KEY (id),
    CONSTRAINT uq_survey_variable_survey_id_code UNIQUE (survey_id, code),
    CONSTRAINT ck_survey_variable_kind CHECK (kind IN ('question', 'profil')),
    CONSTRAINT fk_survey_variable_survey_id_survey FOREIGN KEY(survey_id) REFERENCES obs.survey (id) ON DELETE CASCADE
);
CREATE TABLE obs.survey_answer (
    id BIGSERIAL NOT NULL,
    survey_id INTEGER NOT NULL,
    respondent INTEGER NOT NULL,
    variable_id INTEGER NOT NULL,
    code VARCHAR(20) NOT NULL,
    batch_id INTEGER NOT NULL,
    CONSTRAINT pk_survey_answer PRIMARY KEY (id),
    CONSTRAINT uq_survey_answer_survey_id_respondent_variable_id UNIQUE (survey_id, respondent, variable_id),
    CONSTRAINT fk_survey_answer_survey_id_survey FOREIGN KEY(survey_id) REFERENCES obs.survey (id) ON DELETE CASCADE,
    CONSTRAINT fk_survey_answer_variable_id_survey_variable FOREIGN KEY(variable_id) REFERENCES obs.survey_variable (id) ON DELETE CASCADE,
    CONSTRAINT fk_survey_answer_batch_id_import_batch FOREIGN KEY(batch_id) REFERENCES obs.import_batch (id)
);

CREATE FUNCTION obs.action_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'valide' THEN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'obs:valeur_validee' USING ERRCODE = 'check_violation',
                HINT = 'Une valeur validée ne peut pas être supprimée.';
        END IF;
        IF NEW.state <> 'brouillon'
           OR coalesce(current_setting('obs.reopen_reason', true), '') = ''
           OR (NEW.indicator_id, NEW.year, NEW.number_value, NEW.bool_value, NEW.quality, NEW.source, NEW.progress)
              IS DISTINCT FROM
              (OLD.indicator_id, OLD.year, OLD.number_value, OLD.bool_value, OLD.quality, OLD.source, OLD.progress)
        THEN
            RAISE EXCEPTION 'obs:valeur_validee' USING ERRCODE = 'check_violation',
                HINT = 'Une valeur validée ne change que par une réouverture explicite et motivée.';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER action_entry_guard BEFORE UPDATE OR DELETE ON obs.action_entry
    FOR EACH ROW EXECUTE FUNCTION obs.action_entry_guard();

CREATE FUNCTION obs.action_entry_log_write() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, obs AS $$
DECLARE
    what text;
    ref obs.action_entry;
BEGIN
    IF TG_OP = 'INSERT' THEN
        what := 'saisie'; ref := NEW;
    ELSIF TG_OP = 'DELETE' THEN
        what := 'suppression'; ref := OLD;
    ELSIF OLD.state = 'brouillon' AND NEW.state = 'valide' THEN
        what := 'validation'; ref := NEW;
    ELSIF OLD.state = 'valide' AND NEW.state = 'brouillon' THEN
        what := 'reouverture'; ref := NEW;
    ELSE
        what := 'modification'; ref := NEW;
    END IF;
    INSERT INTO obs.action_entry_log (entry_id, indicator_id, year, action, user_login, reason, before, after)
    VALUES (ref.id, ref.indicator_id, ref.year, what,
            nullif(current_setting('obs.user_login', true), ''),
            CASE WHEN what = 'reouverture' THEN current_setting('obs.reopen_reason', true) END,
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
    RETURN NULL;
END $$;

CREATE TRIGGER action_entry_log_write AFTER INSERT OR UPDATE OR DELETE ON obs.action_entry
    FOR EACH ROW EXECUTE FUNCTION obs.action_entry_log_write();

-- Tables created after 0001 get the application role's rights from its default privileges only when the same
-- role creates them; granting again keeps both migration orders right. The log is written by the trigger alone.
DO $$ BEGIN
IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'obs_app') AND current_user <> 'obs_app' THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON obs.strategy, obs.action_fiche, obs.action_indicator, obs.action_entry,
        obs.action_evaluation, obs.survey, obs.survey_variable, obs.survey_answer TO obs_app;
    GRANT SELECT ON obs.action_entry_log TO obs_app;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON obs.action_entry_log FROM obs_app;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA obs TO obs_app;
END IF;
END $$;
"""

_SQL_DOWN = """
DROP TABLE obs.survey_answer, obs.survey_variable, obs.survey, obs.action_evaluation, obs.action_entry_log,
    obs.action_entry, obs.action_indicator, obs.action_fiche, obs.strategy;
DROP FUNCTION obs.action_entry_log_write();
DROP FUNCTION obs.action_entry_guard();
"""
