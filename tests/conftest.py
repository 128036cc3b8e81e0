"""Shared fixtures: a throwaway PostGIS cluster per test session, a clean database per test,
the real files of ``../shared/data`` and headless Chromium options."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from observatoire.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def _test_settings(**kw) -> Settings:
    return Settings(environment="test", tiles_url="none", secret_key="cle-de-test-" + "x" * 32, **kw)


@pytest.fixture(scope="session")
def pg_settings() -> Iterator[Settings]:
    """Settings pointing at a migrated database used only by this test session."""
    from observatoire import migrate

    url = os.environ.get("OBS_TEST_DATABASE_URL")
    if url:
        settings = _test_settings(database_url=url)
        migrate.upgrade(settings)
        yield settings
        return
    from observatoire.localdb import LocalCluster

    home = Path(tempfile.mkdtemp(prefix="obs-test-"))
    home.chmod(0o755)  # the server account must reach the cluster when tests run as root
    cluster = LocalCluster(home)
    cluster.start()
    settings = _test_settings(home=home)
    migrate.upgrade(settings)
    try:
        yield settings
    finally:
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def _engines(pg_settings):
    from observatoire.db import get_engine

    return get_engine(pg_settings), get_engine(pg_settings, admin=True)


def _reset(admin_engine) -> None:
    with admin_engine.begin() as conn:
        tables = (
            conn.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'obs' AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        seeded = set(
            conn.execute(
                sa.text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'obs' AND obj_description(c.oid, 'pg_class') LIKE '%catalogue%'"
                )
            ).scalars()
        )
        wipe = [t for t in tables if t not in seeded]
        conn.execute(sa.text("ALTER TABLE obs.audit_log DISABLE TRIGGER USER"))
        conn.execute(sa.text("TRUNCATE " + ", ".join(f"obs.{t}" for t in wipe) + " RESTART IDENTITY CASCADE"))
        conn.execute(sa.text("ALTER TABLE obs.audit_log ENABLE TRIGGER USER"))


@pytest.fixture
def settings(pg_settings, _engines) -> Settings:
    """Settings of a database emptied of everything but the catalogues seeded by migrations."""
    _reset(_engines[1])
    return pg_settings


@pytest.fixture
def engine(settings, _engines):
    return _engines[0]


@pytest.fixture
def admin_engine(settings, _engines):
    return _engines[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public files; missing locally → skip, missing under CI → fail."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"données réelles absentes : {SHARED_DATA}")
        pytest.skip("../shared/data absent")
    return SHARED_DATA


@pytest.fixture
def cli_env(settings, monkeypatch):
    """Environment under which the ``observatoire`` CLI talks to the test database."""
    from observatoire.localdb import database_urls

    app_url, admin_url = database_urls(settings)
    monkeypatch.setenv("OBS_DATABASE_URL", app_url)
    monkeypatch.setenv("OBS_ADMIN_DATABASE_URL", admin_url)
    monkeypatch.setenv("OBS_ENVIRONMENT", "test")
    monkeypatch.setenv("OBS_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("OBS_TILES_URL", "none")
    return settings


def run_cli(*args: str):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from observatoire.cli.main import cli

    runner = CliRunner()
    result = runner.invoke(cli, list(args), catch_exceptions=True)
    return result


def pytest_setup_options():
    """Options of the headless Chromium used by dash_duo (root needs --no-sandbox)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    if Path("/usr/bin/chromium").exists():
        options.binary_location = "/usr/bin/chromium"
    return options


def pytest_sessionfinish(session, exitstatus):
    """Under CI a skipped test is a failure: the real files and the browser must be there."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"CI : {len(skipped)} test(s) ignoré(s), ce qui compte comme un échec.", red=True)
        session.exitstatus = 1
