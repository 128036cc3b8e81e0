"""Run the Alembic migrations of ``migrations/`` against the configured database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from geoalchemy2 import alembic_helpers

from observatoire.localdb import database_urls
from observatoire.models import SCHEMA
from observatoire.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(admin_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
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
