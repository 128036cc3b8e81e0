"""No single failure can take the dashboard from its other users: the limits of the application role's database
sessions (a statement, a transaction left open, an import raising its own) and of the connection pool, on a
real PostgreSQL."""

from __future__ import annotations

import contextlib
import time

import pytest
import sqlalchemy as sa

from observatoire import db
from observatoire.db import get_engine
from observatoire.imports.batches import run_import
from tests.helpers_web import login
from tests.pm_helpers import write_export
from tests.test_page_pm import loaded  # noqa: F401


def test_a_saturated_pool_answers_in_french_at_once(loaded):  # noqa: F811
    from dashboard.app import create_app

    app = create_app(loaded.model_copy(update={"db_pool_size": 1, "db_pool_timeout_s": 1}))
    engine = app.server.config["OBS_ENGINE"]
    client = app.server.test_client()
    held = [engine.connect(), engine.connect()]  # the pool and its overflow
    try:
        asked = time.monotonic()
        answer = login(client, "pm-agent")
        assert time.monotonic() - asked < 3
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert "très sollicité" in answer.get_data(as_text=True)
    finally:
        for conn in held:
            conn.close()
    assert login(client, "pm-agent").status_code == 302


def test_sessions_carry_their_limits_and_an_import_raises_its_own(settings, tmp_path):
    engine = get_engine(settings)
    with engine.connect() as conn:
        shown = [conn.exec_driver_sql(f"SHOW {name}").scalar() for name in _TIMEOUTS]
    assert shown == ["1min", "1min"]

    limited = get_engine(settings.model_copy(update={"statement_timeout_s": 1, "import_timeout_s": 30}))
    with pytest.raises(sa.exc.OperationalError) as caught, limited.connect() as conn:
        conn.exec_driver_sql("SELECT pg_sleep(3)")
    assert db.limit_message(caught.value) == db.STATEMENT_TOO_LONG

    seen: list[str] = []

    def load(conn, batch_id, report):
        seen.extend(conn.exec_driver_sql(f"SHOW {name}").scalar() for name in _TIMEOUTS)
        conn.exec_driver_sql("SELECT pg_sleep(1.5)")  # longer than the session's own limit

    path = write_export(tmp_path / "export.csv")
    report = run_import(limited, "pm", path, load, user="agent", dry_run=True)
    assert seen == ["30s", "30s"] and report.status == "essai"
    with limited.connect() as conn:  # SET LOCAL: the next transaction has the session's limits again
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "1s"


_TIMEOUTS = ("statement_timeout", "idle_in_transaction_session_timeout")


def test_a_transaction_left_open_is_ended_by_the_server(settings, admin_engine):
    engine = get_engine(settings.model_copy(update={"idle_in_transaction_timeout_s": 1}))
    conn = engine.connect()
    try:
        conn.begin()
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with contextlib.suppress(sa.exc.DBAPIError):
            conn.exec_driver_sql("SELECT 1/0")  # aborted, and nobody ends it
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with admin_engine.connect() as watcher:
                alive = watcher.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
                ).scalar()
            if not alive:
                break
            time.sleep(0.2)
        assert not alive
    finally:
        conn.invalidate()
        conn.close()
