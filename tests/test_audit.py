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


@pytest.mark.parametrize("statement", [
    "UPDATE obs.audit_log SET action = 'effacement'",
    "DELETE FROM obs.audit_log",
    "TRUNCATE obs.audit_log",
])
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
        conn.execute(sa.text("UPDATE obs.audit_log SET at = now() - interval '4 years' WHERE user_login = 'ancien'"))
        conn.execute(sa.text("ALTER TABLE obs.audit_log ENABLE TRIGGER audit_log_append_only"))
    result = run_cli("purge")
    assert result.exit_code == 0, result.output
    assert "1 entrée(s)" in result.output
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT user_login, action, detail FROM obs.audit_log ORDER BY id")).all()
    assert [r.user_login for r in rows] == ["recent", rows[-1].user_login]
    assert rows[-1].action == "purge" and rows[-1].detail["lignes_supprimees"] == 1
