"""No single failure can take the dashboard from its other users: the limits of the application role's database
sessions (a statement, a transaction left open, an import raising its own), of the connection pool, and of the
upload pages' jobs (per account, in all, in time), through the real page machinery and a real PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
import sqlalchemy as sa

from dashboard import uploads
from ingest import event_upload
from observatoire import db
from observatoire.db import get_engine
from observatoire.imports.batches import run_import
from tests.helpers_web import login
from tests.pm_helpers import write_export
from tests.test_page_pm import _call, _client, _mapping, _response, _run, _upload, loaded  # noqa: F401

LIMITS = {"job_timeout_s": 2, "jobs_per_user": 2, "jobs_total": 4, "db_pool_size": 3, "db_pool_timeout_s": 2}


@pytest.fixture
def stuck(monkeypatch):
    """Files named ``bloque-*`` fail inside the import's transaction and leave their thread stuck with it, the
    way ``CopyWriter`` once did on a NUL byte: the session stays « idle in transaction (aborted) »."""
    release = threading.Event()
    real = event_upload.load_events

    def load_events(conn, batch_id, report, **kwargs):
        if not kwargs["table"].path.name.startswith("bloque"):
            return real(conn, batch_id, report, **kwargs)
        with contextlib.suppress(sa.exc.DBAPIError):
            conn.exec_driver_sql("SELECT 1/0")
        release.wait(120)

    monkeypatch.setattr(event_upload, "load_events", load_events)
    yield release
    release.set()
    deadline = time.monotonic() + 30
    while uploads._RUNNING and time.monotonic() < deadline:  # the next test starts with no job running
        time.sleep(0.05)


def _start(client, app, upload: dict, mapping: dict) -> dict:
    from ingest.police_municipale import FIELDS

    values = {"depot-jeton.data": upload, "depot-crs.value": "auto", "depot-accepter.value": []}
    values.update({f"depot-champ-{f.name}.value": mapping[f"depot-champ-{f.name}"]["value"] for f in FIELDS})
    answer = _call(client, app, "depot-travail.data", values, ["depot-verifier.n_clicks"])
    return _response(answer)["depot-travail"]["data"]


def _poll(client, app, upload: dict, work: dict) -> str | None:
    """The job's report once finished, None while it runs; every poll must answer, and quickly."""
    asked = time.monotonic()
    answer = _call(
        client,
        app,
        "depot-rapport.children",
        {"depot-travail.data": work, "depot-minuteur.n_intervals": 1, "depot-jeton.data": upload},
        ["depot-minuteur.n_intervals"],
    )
    assert time.monotonic() - asked < 3
    resp = _response(answer)
    return str(resp["depot-rapport"]["children"]) if resp["depot-minuteur"]["disabled"] else None


def _stuck_sessions(admin_engine) -> list[str]:
    with admin_engine.connect() as conn:
        return (
            conn.execute(
                sa.text(
                    "SELECT state FROM pg_stat_activity WHERE usename = 'obs_app' "
                    "AND datname = current_database() AND state LIKE 'idle in transaction%'"
                )
            )
            .scalars()
            .all()
        )


def test_ten_stuck_uploads_leave_the_dashboard_to_the_others(loaded, admin_engine, stuck, tmp_path):  # noqa: F811
    from dashboard.app import create_app

    app = create_app(loaded.model_copy(update=LIMITS))
    began = time.monotonic()
    officer = _client(app, "pm-agent")
    jobs = []
    for i in range(10):  # ten tabs, ten files
        upload, _ = _upload(officer, app, write_export(tmp_path / f"bloque-{i}.csv"))
        jobs.append((upload, _start(officer, app, upload, _mapping(officer, app, upload))))

    answers: dict[int, str] = {}
    deadline = time.monotonic() + 20
    while len(answers) < len(jobs) and time.monotonic() < deadline:
        for i, (upload, work) in enumerate(jobs):
            if i not in answers and (report := _poll(officer, app, upload, work)) is not None:
                answers[i] = report
        time.sleep(0.2)
    assert len(answers) == 10, "chaque traitement a une réponse"
    refused = [a for a in answers.values() if "au plus 2 à la fois par compte" in a]
    stopped = [a for a in answers.values() if "Le traitement a dépassé 2 secondes" in a]
    assert (len(refused), len(stopped)) == (8, 2), answers
    assert "rien n'a été enregistré" in stopped[0]
    assert _stuck_sessions(admin_engine) == []  # the watchdog ended the two sessions it stopped

    asked = time.monotonic()
    colleague = app.server.test_client()
    assert login(colleague, "pm-collegue").status_code == 302
    assert time.monotonic() - asked < 3
    upload, _ = _upload(colleague, app, write_export(tmp_path / "sain.csv"))
    report = _run(colleague, app, upload, _mapping(colleague, app, upload), "depot-verifier")
    assert "Vérification terminée" in report
    # The officer's stuck threads still count against the officer only.
    upload, _ = _upload(officer, app, write_export(tmp_path / "autre.csv"))
    assert "au plus 2 à la fois" in _run(
        officer, app, upload, _mapping(officer, app, upload), "depot-verifier"
    )
    assert time.monotonic() - began < 40
    with admin_engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT count(*) FROM obs.import_batch WHERE source = 'pm'")).scalar() == 0
        )


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
