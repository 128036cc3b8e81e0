"""Streaming rows into a temporary table with ``COPY`` — the fast path every source uses."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
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


def copy_columns(conn: Connection, table: str, columns: Sequence[tuple[str, str]] | None,
                 values: Mapping[str, pa.Array]) -> None:
    """COPY whole columns (named as the table's) into ``table``, created first as a temporary table with
    ``columns`` [(name, sql type)] unless ``columns`` is None. Written as CSV by Arrow: a million rows cost a
    fraction of a second on this side, the rest is PostgreSQL reading them."""
    raw = conn.connection.driver_connection
    names = list(values)
    buffer = io.BytesIO()
    pa_csv.write_csv(pa.table(dict(values)), buffer,
                     pa_csv.WriteOptions(include_header=False, quoting_style="all_valid"))
    with raw.cursor() as cur:
        if columns is not None:
            cur.execute(f"CREATE TEMP TABLE {table} (" + ", ".join(f"{n} {t}" for n, t in columns) + ") ON COMMIT DROP")
        with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv)") as copy:
            view = buffer.getbuffer()
            for start in range(0, len(view), 1 << 20):
                copy.write(view[start:start + (1 << 20)])
            view.release()


def copy_in_bulk_window(conn: Connection, table: str, values: Mapping[str, pa.Array],
                        copied: Callable[[], None] | None = None) -> int:
    """COPY a large batch straight into ``table`` between the owner's ``<table>_bulk_open()`` and
    ``<table>_bulk_close()`` (migration 0900): indexes rebuilt once, rows whose key is already stored (or
    repeated in the batch) left out. ``copied`` is called between the copy and the rebuild (about half of the
    time each). Returns the number of rows added."""
    conn.exec_driver_sql(f"SELECT {table}_bulk_open()")
    copy_columns(conn, table, None, values)
    if copied:
        copied()
    return int(conn.exec_driver_sql(f"SELECT {table}_bulk_close()").scalar_one())


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
