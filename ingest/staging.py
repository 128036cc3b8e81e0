"""Streaming rows into a temporary table with ``COPY`` — the fast path every source uses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

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
