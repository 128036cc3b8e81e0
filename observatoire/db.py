"""Engines and transactions. The application connects as the restricted role; migrations as the owner.

The application role's sessions carry limits (settings ``OBS_STATEMENT_TIMEOUT_S``,
``OBS_IDLE_IN_TRANSACTION_TIMEOUT_S``), set when each connection opens, so the CLI and the dashboard both have
them: a query that runs away or a transaction a failure left open is ended by PostgreSQL itself and cannot hold
a connection, its locks and its rows for ever. Work of minutes (an import, an undo, a purge) raises both for its
own transaction only with :func:`allow_long_work`. The pool is sized (``OBS_DB_POOL_SIZE``) and a request waits
``OBS_DB_POOL_TIMEOUT_S`` at most for a connection: :func:`limit_message` gives the French words for both.

A thread may tag the sessions it opens (:func:`tagged`, on an engine given to :func:`track_sessions`), so that
another thread can end them (:func:`end_sessions`): the upload pages' watchdog stops a job that way.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from observatoire.errors import DatabaseUnavailable
from observatoire.localdb import database_urls
from observatoire.settings import Settings

LONG_WORK_OPTION = "obs_long_work_s"  # execution option of the application engine: the import limit
POOL_BUSY = (
    "Le serveur est très sollicité : toutes les connexions à la base de données sont occupées. "
    "Réessayez dans un instant ; si cela dure, prévenez l'administrateur."
)
STATEMENT_TOO_LONG = (
    "La demande a dépassé la durée permise et a été interrompue ; rien n'a été enregistré. Réessayez avec une "
    "période ou un fichier plus petits, ou prévenez l'administrateur."
)
_QUERY_CANCELED = "57014"


@functools.lru_cache(maxsize=16)
def _engine(url: str, limits: tuple[int, int, int, int, float] | None) -> Engine:
    if limits is None:  # the owner's: migrations build indexes for as long as they need
        return sa.create_engine(
            url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args={"connect_timeout": 5}
        )
    statement_s, idle_s, long_s, pool_size, pool_timeout_s = limits
    options = (
        f"-c statement_timeout={statement_s * 1000} -c idle_in_transaction_session_timeout={idle_s * 1000}"
    )
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout_s,
        connect_args={"connect_timeout": 5, "options": options},
        execution_options={LONG_WORK_OPTION: long_s},
    )


def get_engine(settings: Settings, admin: bool = False) -> Engine:
    app_url, admin_url = database_urls(settings)
    if admin:
        return _engine(admin_url, None)
    limits = (
        settings.statement_timeout_s,
        settings.idle_in_transaction_timeout_s,
        settings.import_timeout_s,
        settings.db_pool_size,
        settings.db_pool_timeout_s,
    )
    return _engine(app_url, limits)


def allow_long_work(conn: Connection) -> None:
    """Raise the statement and idle timeouts of this transaction to the import limit (``SET LOCAL``: the
    session's own come back at its end). Nothing to raise on an engine without limits."""
    seconds = conn.get_execution_options().get(LONG_WORK_OPTION)
    if seconds is None:
        return
    ms = int(seconds) * 1000
    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
    conn.exec_driver_sql(f"SET LOCAL idle_in_transaction_session_timeout = {ms}")


def limit_message(exc: BaseException) -> str | None:
    """The French words for a limit of this module reached (pool saturated, statement stopped), else None."""
    if isinstance(exc, sa.exc.TimeoutError):
        return POOL_BUSY
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == _QUERY_CANCELED:
        return STATEMENT_TOO_LONG
    return None


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


# --- Sessions a thread opened, which another may end ------------------------------------------------------

_TAG = threading.local()
_TRACK_LOCK = threading.Lock()
# engine tracked → an engine without pool on the same database, which ends sessions without waiting for the pool
_ENDERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_SESSIONS: dict[str, dict[int, tuple[Engine, int]]] = {}  # tag → {id(pool record): (ender, backend pid)}


def track_sessions(engine: Engine) -> None:
    """Record, under the tag of the thread (:func:`tagged`), each connection ``engine`` hands out."""
    with _TRACK_LOCK:
        if engine in _ENDERS:
            return
        ender = _ENDERS[engine] = sa.create_engine(
            engine.url, poolclass=NullPool, connect_args={"connect_timeout": 5}
        )

    def checkout(dbapi_connection, record, _proxy) -> None:
        tag = getattr(_TAG, "value", None)
        if tag is not None:
            with _TRACK_LOCK:
                _SESSIONS.setdefault(tag, {})[id(record)] = (ender, dbapi_connection.info.backend_pid)

    def checkin(_dbapi_connection, record) -> None:
        tag = getattr(_TAG, "value", None)
        if tag is not None:
            with _TRACK_LOCK:
                _SESSIONS.get(tag, {}).pop(id(record), None)

    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(engine, "checkin", checkin)


@contextmanager
def tagged(tag: str) -> Iterator[None]:
    """Connections taken in this thread meanwhile are recorded under ``tag``."""
    _TAG.value = tag
    try:
        yield
    finally:
        _TAG.value = None
        with _TRACK_LOCK:
            _SESSIONS.pop(tag, None)


def end_sessions(tag: str) -> int:
    """Terminate the sessions held under ``tag`` (their transactions roll back, their locks go); the thread
    using them gets an error at its next statement. Returns how many were ended."""
    with _TRACK_LOCK:
        held = list(_SESSIONS.get(tag, {}).values())
    ended = 0
    for ender, pid in held:
        with ender.connect() as conn:
            ended += bool(conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar())
    return ended
