"""Streaming rows into a temporary table with ``COPY`` — the fast path every source uses."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def copy_rows(conn: Connection, table: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]],
              *, temporary: bool = True) -> int:
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


@contextmanager
def timed(report: Any, step: str) -> Iterator[None]:
    """Seconds spent per step, kept in the report (``durees_s``): a slow import says where its time went."""
    start = time.perf_counter()
    yield
    report.extra.setdefault("durees_s", {})[step] = round(time.perf_counter() - start, 2)


# Below this many rows, or when the table already holds more rows than the batch, inserting through the
# live indexes costs less than rebuilding them (and takes no lock that keeps readers waiting).
BULK_MIN_ROWS = 100_000


def bulk_worthwhile(conn: Connection, table: str, staged: int) -> bool:
    """Whether a batch of ``staged`` rows should go through ``<table>_bulk_insert()`` (see migrations)."""
    if staged <= BULK_MIN_ROWS:
        return False
    # Counting stops at ``staged``: a large table is not scanned to the end to learn it is large.
    existing = conn.exec_driver_sql(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT {int(staged)}) t").scalar()
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
    owner = conn.execute(sa.text("SELECT tableowner FROM pg_tables WHERE schemaname = :s AND tablename = :t"),
                         {"s": schema, "t": name}).scalar_one()
    conn.exec_driver_sql(f'GRANT SELECT ON {view} TO "{owner}"')
    inserted = conn.exec_driver_sql(f"SELECT {schema}.{name}_bulk_insert()").scalar_one()
    conn.exec_driver_sql(f"DROP VIEW {view}")
    return int(inserted)
