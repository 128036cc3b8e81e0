"""Engines and transactions. The application connects as the restricted role; migrations as the owner."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from observatoire.errors import DatabaseUnavailable
from observatoire.localdb import database_urls
from observatoire.settings import Settings


@functools.lru_cache(maxsize=8)
def _engine(url: str) -> Engine:
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args={"connect_timeout": 5}
    )


def get_engine(settings: Settings, admin: bool = False) -> Engine:
    app_url, admin_url = database_urls(settings)
    return _engine(admin_url if admin else app_url)


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except OperationalError as exc:
        raise DatabaseUnavailable(
            "La base de données est injoignable. Vérifiez qu'elle est démarrée "
            "(`observatoire db start`) ou la valeur de OBS_DATABASE_URL.",
            detail=str(exc),
        ) from exc


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction; connection errors become a French message."""
    try:
        with engine.begin() as conn:
            yield conn
    except OperationalError as exc:
        raise DatabaseUnavailable("La base de données est injoignable.", detail=str(exc)) from exc
