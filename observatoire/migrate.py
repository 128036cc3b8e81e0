"""Run the Alembic migrations of ``migrations/`` against the configured database."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from geoalchemy2 import alembic_helpers

from observatoire.errors import ConfigurationError
from observatoire.localdb import database_urls
from observatoire.models import SCHEMA
from observatoire.settings import Settings


def migrations_dir() -> Path:
    """Alembic's script folder (``env.py``, ``versions/``).

    An installed package carries it as package data, ``observatoire/migrations`` (pyproject.toml maps the
    repository's top-level ``migrations/`` there); a checkout, editable install included, has it beside
    the package. The folder is looked up next to the ``observatoire`` actually imported, never through
    another install of it.
    """
    packaged = resources.files("observatoire") / "migrations"
    checkout = Path(__file__).resolve().parents[1] / "migrations"
    for folder in (packaged, checkout):
        if isinstance(folder, Path) and (folder / "env.py").is_file():
            return folder
    raise ConfigurationError(
        "Les migrations de la base sont introuvables : réinstallez l'observatoire.",
        detail=f"ni {packaged} ni {checkout} ne contiennent env.py",
    )


def alembic_config(admin_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", admin_url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings, revision: str = "heads") -> None:
    _, admin_url = database_urls(settings, start=not settings.database_url)
    command.upgrade(alembic_config(admin_url), revision)


def include_object(obj, name, type_, reflected, compare_to):
    """Only the ``obs`` schema is ours: PostGIS' tables (spatial_ref_sys, topology…) are not compared."""
    if type_ == "table" and getattr(obj, "schema", None) != SCHEMA:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)
