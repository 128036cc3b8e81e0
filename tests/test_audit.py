"""The audit log is append-only for the application role; only the retention purge removes rows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from observatoire import audit
from tests.conftest import run_cli


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM obs.audit_log")).scalar_one()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE obs.audit_log SET action = 'effacement'",
        "DELETE FROM obs.audit_log",
        "TRUNCATE obs.audit_log",
    ],
)
def test_application_role_cannot_rewrite_the_audit_log(engine, admin_engine, statement):
    audit.record_now(engine, "connexion", user_login="quelquun")
    for eng in (engine, admin_engine):  # the owner is refused too, by the trigger
        with pytest.raises(DBAPIError):
            with eng.begin() as conn:
                conn.execute(sa.text(statement))
    assert _count(engine) == 1


def test_purge_removes_only_expired_entries_and_logs_itself(engine, admin_engine, cli_env):
    audit.record_now(engine, "connexion", user_login="ancien")
    audit.record_now(engine, "connexion", user_login="recent")
    # Age one entry beyond retention (test set-up only: the owner lifts its own trigger for a moment).
    with admin_engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE obs.audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(
            sa.text("UPDATE obs.audit_log SET at = now() - interval '4 years' WHERE user_login = 'ancien'")
        )
        conn.execute(sa.text("ALTER TABLE obs.audit_log ENABLE TRIGGER audit_log_append_only"))
    result = run_cli("purge")
    assert result.exit_code == 0, result.output
    assert "1 entrée(s)" in result.output
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT user_login, action, target, detail FROM obs.audit_log ORDER BY id")
        ).all()
    assert [r.user_login for r in rows if r.action != "purge"] == ["recent"]
    purge_of_log = next(r for r in rows if r.action == "purge" and r.target == "audit_log")
    assert purge_of_log.detail["lignes_supprimees"] == 1


def test_purge_removes_logbook_interventions_older_than_three_years(engine, cli_env):
    from ingest import police_municipale as pm
    from sample_data.demo import FILES

    pm.commit(
        engine,
        FILES / "police_municipale" / "main_courante_2021_2022.csv",
        accept_valid=True,
        commune="04112",
    )
    with engine.connect() as conn:
        before = conn.execute(
            sa.text(
                "SELECT count(*), count(*) FILTER (WHERE occurred_at >= now() - interval '3 years') "
                "FROM obs.pm_intervention"
            )
        ).one()
    assert before[0] > 0
    result = run_cli("purge")
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT count(*) FROM obs.pm_intervention")).scalar_one()
        logged = conn.execute(
            sa.text(
                "SELECT detail FROM obs.audit_log WHERE action = 'purge' AND target = 'obs.pm_intervention'"
            )
        ).scalar_one()
    assert after == before[1]
    assert logged["lignes_supprimees"] == before[0] - before[1]
