"""Binary COPY encoding: every value an import writes reads back from PostgreSQL as it was sent."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from ingest import pgcopy, staging
from ingest.event_rows import ewkb_points

COLUMNS = [
    ("n", "bigint"),
    ("k", "int"),
    ("ok", "bool"),
    ("score", "float8"),
    ("label", "text"),
    ("code", "varchar(20)"),
    ("at", "timestamp"),
    ("geom", "geometry(Point, 4326)"),
]


def _round_trip(engine, columns: dict[str, pa.Array], parts: int = 1) -> list[tuple]:
    with engine.begin() as conn:
        staging.create_temp(conn, "enc", COLUMNS)
        rows = len(next(iter(columns.values())))
        step = -(-rows // parts)
        with staging.CopyWriter(conn, "enc", list(columns)) as writer:
            for start in range(0, rows, step):
                writer.send({name: array.slice(start, step) for name, array in columns.items()})
        return conn.exec_driver_sql(
            "SELECT n, k, ok, score, label, code, at, ST_X(geom), ST_Y(geom), ST_SRID(geom) FROM enc ORDER BY n"
        ).all()


def test_every_type_and_null_reads_back(engine):
    lon = np.array([5.787225, np.nan, -1.5])
    lat = np.array([43.820369, np.nan, 47.25])
    columns = {
        "n": pa.array([1, 2, 3], pa.int64()),
        "k": pa.array([-7, None, 2**31 - 1], pa.int32()),
        "ok": pa.array([True, None, False]),
        "score": pa.array([0.875, None, -1e300]),
        "label": pa.array(['Dépôt sauvage « rue » ; "quoted"\nsecond line', None, ""]),
        "code": pa.array(["tranquillite", "x" * 20, None]),
        "at": pa.array(
            [datetime(2024, 7, 14, 22, 15), None, datetime(1999, 12, 31, 23, 59, 59)], pa.timestamp("us")
        ),
        "geom": ewkb_points(lon, lat),
    }
    assert _round_trip(engine, columns) == [
        (
            1,
            -7,
            True,
            0.875,
            'Dépôt sauvage « rue » ; "quoted"\nsecond line',
            "tranquillite",
            datetime(2024, 7, 14, 22, 15),
            5.787225,
            43.820369,
            4326,
        ),
        (2, None, None, None, None, "x" * 20, None, None, None, None),
        (3, 2**31 - 1, False, -1e300, "", None, datetime(1999, 12, 31, 23, 59, 59), -1.5, 47.25, 4326),
    ]


def test_a_stream_of_parts_is_one_copy(engine):
    """Parts of a file, sliced anywhere (Arrow slices keep their offset), make one stream with one header."""
    n = 1000
    rng = np.random.default_rng(3)
    words = rng.choice(["Tapage nocturne", "Rodéo urbain", ""], n)
    columns = {
        "n": pa.array(np.arange(n, dtype=np.int64)),
        "k": pa.array(np.arange(n, dtype=np.int32), mask=np.arange(n) % 7 == 0),
        "ok": pa.array(np.arange(n) % 2 == 0),
        "score": pa.array(rng.random(n)),
        "label": pa.array(words).dictionary_encode(),  # as the column reader keeps repeated values
        "code": pa.array([None] * n, pa.string()),
        "at": pa.array(
            (np.datetime64("2020-01-01T00:00") + np.arange(n) * np.timedelta64(37, "m")).astype(
                "datetime64[us]"
            )
        ),
        "geom": ewkb_points(5.7 + rng.random(n) / 10, 43.8 + rng.random(n) / 10),
    }
    back = _round_trip(engine, columns, parts=7)
    assert len(back) == n
    assert [r[1] for r in back] == columns["k"].to_pylist()
    assert [r[4] for r in back] == words.tolist()
    assert [r[6] for r in back] == columns["at"].to_pylist()
    assert [r[3] for r in back] == columns["score"].to_pylist()


def test_a_type_without_binary_form_is_refused():
    with pytest.raises(TypeError):
        pgcopy.encode({"d": pa.array([1.5], pa.float32())})


def test_a_refusal_after_the_last_part_ends_the_copy_instead_of_hanging(engine):
    """PostgreSQL refuses a NUL byte in a text value only once it has read every row: the writer must then
    hand the error back, not wait for a second end marker (a 66-byte upload used to hang the import)."""
    import threading

    outcome: list[BaseException | None] = []

    def copy() -> None:
        try:
            with engine.begin() as conn:
                staging.create_temp(conn, "nul", [("label", "text")])
                with staging.CopyWriter(conn, "nul", ["label"]) as writer:
                    writer.send({"label": pa.array(["Tapage\x00nocturne"])})
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    worker = threading.Thread(target=copy, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the copy hangs"
    assert outcome and outcome[0] is not None and "0x00" in str(outcome[0])
