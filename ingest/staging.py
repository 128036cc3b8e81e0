"""Streaming rows into a temporary table with ``COPY`` — the fast path every source uses."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest import pgcopy


def copy_rows(
    conn: Connection,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[Any]],
    *,
    temporary: bool = True,
) -> int:
    """Create ``table`` (dropped at commit when temporary) with ``columns`` [(name, sql type)] and COPY
    ``rows`` into it through psycopg 3. Returns the number of rows copied."""
    cols_sql = ", ".join(f"{name} {sqltype}" for name, sqltype in columns)
    raw = conn.connection.driver_connection
    count = 0
    with raw.cursor() as cur:
        if temporary:
            cur.execute(f"CREATE TEMP TABLE {table} ({cols_sql}) ON COMMIT DROP")
        else:
            cur.execute(f"CREATE UNLOGGED TABLE {table} ({cols_sql})")
        names = ", ".join(name for name, _ in columns)
        with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def create_temp(conn: Connection, table: str, columns: Sequence[tuple[str, str]]) -> None:
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {table} (" + ", ".join(f"{n} {t}" for n, t in columns) + ") ON COMMIT DROP"
    )


class CopyWriter:
    """One binary ``COPY`` into ``table`` fed part by part from a thread of its own: the next part is checked and
    built while PostgreSQL reads this one, which keeps both cores busy. Each part maps the column ``names``, in
    their order, to Arrow columns whose types give the PostgreSQL ones (see :mod:`ingest.pgcopy`). Nothing else
    may use the connection until the ``with`` block ends; leaving it on an error ends the copy (the transaction
    is then rolled back)."""

    def __init__(self, conn: Connection, table: str, names: Sequence[str]) -> None:
        self.raw = conn.connection.driver_connection
        self.names = list(names)
        self.sql = f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT binary)"
        self.parts: queue.Queue[memoryview | None] = queue.Queue(
            maxsize=2
        )  # bounded: memory stays at a few parts
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._copy, daemon=True)

    def __enter__(self) -> CopyWriter:
        self.thread.start()
        return self

    def _copy(self) -> None:
        ended = (
            False  # whether the caller's end marker was taken: a failure after it must not wait for another
        )
        try:
            with self.raw.cursor() as cur, cur.copy(self.sql) as copy:
                copy.write(pgcopy.HEADER)
                while (data := self.parts.get()) is not None:
                    for start in range(0, len(data), 1 << 20):
                        copy.write(data[start : start + (1 << 20)])
                ended = True
                copy.write(pgcopy.TRAILER)
        except BaseException as exc:  # handed to the caller's thread
            self.error = exc
            # PostgreSQL may refuse the rows only once it has read them all (a NUL byte in a text value): the
            # end marker is then already taken. Before it, the caller must never wait on a full queue.
            while not ended and self.parts.get() is not None:
                pass

    def send(self, values: Mapping[str, pa.Array]) -> None:
        if self.error is not None:
            raise self.error
        self.parts.put(pgcopy.encode({name: values[name] for name in self.names}))

    def __exit__(self, kind, exc, tb) -> None:
        self.parts.put(None)
        self.thread.join()
        if self.error is not None and exc is None:
            raise self.error


def open_bulk_window(conn: Connection, table: str, rows: int) -> int:
    """Drop the indexes and keys of ``table`` until :func:`close_bulk_window`, in this transaction (migrations
    0900, 1100): rows ``COPY``'d in between cost no index upkeep. Returns the first of ``rows`` ids reserved for
    them: the caller numbers its rows in the order of its file (the first line of a repeated key wins)."""
    return int(conn.exec_driver_sql(f"SELECT {table}_bulk_open({int(rows)})").scalar_one())


def close_bulk_window(conn: Connection, table: str) -> int:
    """Leave out the rows whose key was already stored (or repeated, but the first), rebuild the indexes and
    keys once; returns the number of rows added."""
    return int(conn.exec_driver_sql(f"SELECT {table}_bulk_close()").scalar_one())


@contextmanager
def timed(report: Any, step: str) -> Iterator[None]:
    """Seconds spent per step, kept in the report (``durees_s``): a slow import says where its time went."""
    start = time.perf_counter()
    yield
    spent = report.extra.setdefault("durees_s", {})
    spent[step] = round(spent.get(step, 0) + time.perf_counter() - start, 2)  # a step met again adds up


# Below this many rows, or when the table already holds more rows than the batch, inserting through the
# live indexes costs less than rebuilding them (and takes no lock that keeps readers waiting).
BULK_MIN_ROWS = 100_000


def bulk_worthwhile(conn: Connection, table: str, staged: int) -> bool:
    """Whether a batch of ``staged`` rows should go through ``<table>_bulk_insert()`` (see migrations)."""
    if staged <= BULK_MIN_ROWS:
        return False
    # Counting stops at ``staged``: a large table is not scanned to the end to learn it is large.
    existing = conn.exec_driver_sql(
        f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT {int(staged)}) t"
    ).scalar()
    return existing < staged


def bulk_insert(conn: Connection, table: str, select_sql: str) -> int:
    """Insert the rows of ``select_sql`` (target column names, plus ``line``) through the owner's
    ``<table>_bulk_insert()``: rows whose key exists are skipped, indexes are rebuilt once, the table stays
    locked until the transaction ends. Returns the number of rows inserted."""
    schema, name = table.split(".")
    view = f"{name}_bulk"
    conn.exec_driver_sql(f"CREATE TEMP VIEW {view} AS {select_sql}")
    # The function runs as the table's owner, who must be allowed to read this session's view; the view
    # itself reads the staging tables with the application's rights.
    owner = conn.execute(
        sa.text("SELECT tableowner FROM pg_tables WHERE schemaname = :s AND tablename = :t"),
        {"s": schema, "t": name},
    ).scalar_one()
    conn.exec_driver_sql(f'GRANT SELECT ON {view} TO "{owner}"')
    inserted = conn.exec_driver_sql(f"SELECT {schema}.{name}_bulk_insert()").scalar_one()
    conn.exec_driver_sql(f"DROP VIEW {view}")
    return int(inserted)
