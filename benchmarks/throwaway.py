"""A migrated PostGIS cluster of its own for one benchmark run, destroyed afterwards (the benchmarks never
touch the demo's or the tests' databases)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def database(name: str) -> Iterator[tuple]:
    """``(settings, engine, admin_engine)`` of a fresh migrated database."""
    from observatoire import migrate
    from observatoire.db import get_engine
    from observatoire.localdb import LocalCluster
    from observatoire.settings import Settings

    work = Path(tempfile.mkdtemp(prefix=f"obs-bench-{name}-"))
    work.chmod(0o755)  # the server account must reach the cluster when run as root
    os.environ.update(
        OBS_ENVIRONMENT="test",
        OBS_HOME=str(work / "home"),
        OBS_TILES_URL="none",
        OBS_SECRET_KEY="banc-d-essai-" + "x" * 32,
    )
    cluster = LocalCluster(work / "home")
    try:
        cluster.start()
        settings = Settings(environment="test", home=work / "home", tiles_url="none")
        migrate.upgrade(settings)
        yield settings, get_engine(settings), get_engine(settings, admin=True)
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


def vacuum(admin_engine) -> None:
    """Fresh statistics after a bulk load, as a real database would have them."""
    import sqlalchemy as sa

    with admin_engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
