"""The migrated database matches the models; the local cluster behaves as the README says."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from observatoire.localdb import LocalCluster
from observatoire.migrate import include_object
from observatoire.models import SCHEMA, Base
from tests.conftest import run_cli


def test_models_and_migrated_database_do_not_differ(admin_engine):
    with admin_engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_object": include_object,
                "compare_type": True,
                "version_table_schema": SCHEMA,
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_cli_url_prints_a_sqlalchemy_url(cli_env):
    result = run_cli("db", "url")
    assert result.exit_code == 0
    assert result.output.strip().startswith("postgresql+psycopg://")


def test_unreachable_database_gives_one_french_line(monkeypatch, tmp_path):
    monkeypatch.setenv("OBS_DATABASE_URL", "postgresql+psycopg://x:y@127.0.0.1:1/nothing")
    monkeypatch.setenv("OBS_HOME", str(tmp_path))
    geo = tmp_path / "a.geojson"
    geo.write_text('{"type": "FeatureCollection", "features": []}')
    result = run_cli("import", "territories", str(geo), "--level", "commune")
    assert result.exit_code == 1
    assert "injoignable" in result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def private_home():
    """An OBS_HOME inside a 0700 directory the postgres account cannot enter (like /root)."""
    parent = Path(tempfile.mkdtemp(prefix="obs-private-"))
    parent.chmod(0o700)
    home = parent / "checkout" / ".observatoire"
    yield home
    LocalCluster(home).destroy()
    subprocess.run(["rm", "-rf", str(parent)], check=False)


@pytest.mark.skipif(os.environ.get("OBS_TEST_DATABASE_URL") is not None, reason="base externe")
def test_local_cluster_lifecycle_private_home_stale_pid_and_busy_port(private_home):
    cluster = LocalCluster(private_home)
    state = cluster.start()
    assert cluster.is_running()
    assert cluster.start().port == state.port  # idempotent
    engine = sa.create_engine(state.url())
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT postgis_version()")).scalar()
    engine.dispose()

    # A crash: the server is killed, postmaster.pid stays behind, and another program takes the port.
    pid = int((Path(state.datadir) / "postmaster.pid").read_text().splitlines()[0])
    subprocess.run(["kill", "-9", str(pid)], check=True)
    import time

    for _ in range(50):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.1)
    subprocess.run(["pkill", "-9", "-f", f"postgres.*{state.datadir}"], check=False)
    time.sleep(0.5)
    assert (Path(state.datadir) / "postmaster.pid").exists()
    import socket

    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", state.port))
    blocker.listen()
    try:
        restarted = cluster.start()
        assert cluster.is_running()
        assert restarted.port != state.port
        assert json.loads((private_home / "cluster.json").read_text())["port"] == restarted.port
    finally:
        blocker.close()
    cluster.stop()
    assert not cluster.is_running()


def test_missing_binaries_message_names_the_packages(monkeypatch):
    from observatoire import localdb
    from observatoire.errors import MissingSystemPackage

    monkeypatch.setattr(localdb.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(localdb.shutil, "which", lambda name: None)
    with pytest.raises(MissingSystemPackage) as exc:
        localdb.find_bindir()
    assert "apt-get install postgresql" in exc.value.message
    assert "postgis" in exc.value.message
