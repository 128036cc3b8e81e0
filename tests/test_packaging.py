"""The installed package carries what the checkout has: every module, the dashboard's assets, the demo
files, and the Alembic migrations as ``observatoire/migrations``, where ``observatoire db upgrade`` finds
them without a checkout (the Docker image installs the wheel)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from observatoire import migrate

ROOT = Path(__file__).resolve().parents[1]
# What the Dockerfile copies into the image before installing it.
SOURCES = ("pyproject.toml", "README.md", "observatoire", "ingest", "dashboard", "sample_data", "migrations")
PACKAGES = ("observatoire", "ingest", "dashboard", "sample_data")
SETUPTOOLS_FLOOR = 77  # [build-system] requires


def _files(folder: Path) -> list[Path]:
    return sorted(
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def _run(args: list[str], **kwargs) -> str:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(args)[:200]}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def _revisions(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "versions").glob("*.py"))


def test_the_checkout_runs_its_own_migrations():
    folder = migrate.migrations_dir()
    assert folder == ROOT / "migrations"
    config = migrate.alembic_config("postgresql+psycopg://personne@localhost/observatoire")
    assert Path(config.get_main_option("script_location")) == folder
    assert (folder / "env.py").is_file() and (folder / "script.py.mako").is_file()
    script = ScriptDirectory.from_config(config)
    assert sorted(Path(r.path).name for r in script.walk_revisions()) == _revisions(folder)


def _setuptools_major() -> int:
    try:
        import setuptools
    except ImportError:
        return 0
    return int(setuptools.__version__.split(".")[0])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the sources the Dockerfile copies (the checkout is left untouched)."""
    src = tmp_path_factory.mktemp("sources")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    # The venv's setuptools builds it offline; an older one lets pip fetch the build requirements.
    isolation = ["--no-build-isolation"] if _setuptools_major() >= SETUPTOOLS_FLOOR else []
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation, "-w", str(out), str(src)])
    (built,) = out.glob("observatoire-*.whl")
    return built


def test_the_wheel_holds_every_module_asset_demo_file_and_migration(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"{package}/{path.as_posix()}" for package in PACKAGES for path in _files(ROOT / package)}
    expected |= {f"observatoire/migrations/{path.as_posix()}" for path in _files(ROOT / "migrations")}
    assert "observatoire/migrations/env.py" in expected
    assert "observatoire/migrations/script.py.mako" in expected
    assert "observatoire/migrations/versions/0001_foundation.py" in expected
    missing = sorted(expected - names)
    assert not missing, f"absents du paquet (pyproject.toml, [tool.setuptools]) : {missing}"


def test_the_installed_package_upgrades_the_database_from_its_own_migrations(wheel, tmp_path, cli_env):
    site = tmp_path / "site"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--target",
            str(site),
            str(wheel),
        ]
    )
    probe = (
        "import json, sys\n"
        "from alembic.script import ScriptDirectory\n"
        "import observatoire\n"
        "from observatoire import migrate\n"
        "config = migrate.alembic_config('postgresql+psycopg://personne@localhost/observatoire')\n"
        "script = ScriptDirectory.from_config(config)\n"
        "print(json.dumps({'package': observatoire.__file__, 'location': config.get_main_option('script_location'),\n"
        "                  'revisions': sorted(r.path for r in script.walk_revisions())}))\n"
    )
    # Outside the checkout, with the installed copy first on the path.
    env = {**os.environ, "PYTHONPATH": str(site)}
    found = json.loads(_run([sys.executable, "-c", probe], cwd=tmp_path, env=env))
    location = Path(found["location"])
    assert Path(found["package"]).parent == site / "observatoire"
    assert location == site / "observatoire" / "migrations"
    assert (location / "env.py").is_file()
    assert [Path(p).parent for p in found["revisions"]] == [location / "versions"] * len(found["revisions"])
    assert sorted(Path(p).name for p in found["revisions"]) == _revisions(ROOT / "migrations")

    # `observatoire db upgrade` from the installed copy, against the (already migrated) test database.
    upgrade = _run(
        [
            sys.executable,
            "-c",
            "import sys; from observatoire.cli.main import main; "
            "sys.argv = ['observatoire', 'db', 'upgrade']; main()",
        ],
        cwd=tmp_path,
        env=env,
    )
    assert "Schéma à jour." in upgrade
