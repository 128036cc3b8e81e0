"""The events of ``obs.event`` held in memory as columns, for the map's filters.

Every filter change of the map asks for counts per hexagon, totals and counts per category over up to a
million events; in SQL each is a scan of the view (a few hundred milliseconds, a second at the 95th
percentile). Here the view is read once into NumPy columns, and a filter becomes boolean masks and a
``bincount``: tens of milliseconds. The copy is tied to ``obs.data_version`` (migration 0600), which
triggers raise on every import, undo, purge or nomenclature edit; each use reads that counter (one
primary-key row) and reloads when it moved, so nobody ever sees stale numbers.

Only the engines an application enables use it (:func:`enable`): a one-off CLI query is faster in SQL
than a load. Filters on a territory outline stay in SQL (:func:`snapshot` answers ``None``).
"""

from __future__ import annotations

import gc
import io
import logging
import threading
import weakref
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy.engine import Connection, Engine

from observatoire.events.filter import EventFilter, where

EPOCH = date(1970, 1, 1)
SQRT3 = np.sqrt(3.0)
# Beyond this many (i, j) pairs in the bounding box of the counted cells, np.unique replaces bincount.
DENSE_LIMIT = 4_000_000

_LOAD_SQL = """
COPY (SELECT e.source, e.category, e.family, e.occurred_at::date - date '1970-01-01',
             extract(hour FROM e.occurred_at)::int, extract(isodow FROM e.occurred_at)::int,
             e.time_known, e.geom IS NOT NULL, ST_X(e.geom_l93), ST_Y(e.geom_l93), e.sensitive
      FROM obs.event e) TO STDOUT (FORMAT csv)"""
_COLUMNS = [
    "source",
    "category",
    "family",
    "day",
    "hour",
    "isodow",
    "time_known",
    "located",
    "x",
    "y",
    "sensitive",
]


@dataclass(frozen=True)
class Snapshot:
    """The events at one version of the data. ``pairs`` lists the (source, category) of ``pair``; ``x``/``y``
    are Lambert-93 metres (NaN when the event has no place); ``day`` counts days since 1970-01-01."""

    version: tuple[int, Any]
    sources: tuple[str, ...]
    pairs: tuple[tuple[str, str | None], ...]
    families: tuple[str | None, ...]
    source: np.ndarray
    pair: np.ndarray
    family: np.ndarray
    day: np.ndarray
    hour: np.ndarray
    isodow: np.ndarray
    time_known: np.ndarray
    located: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sensitive: np.ndarray
    _masks: dict = field(default_factory=dict, compare=False, repr=False)
    _cells: dict = field(default_factory=dict, compare=False, repr=False)
    _zones: dict = field(default_factory=dict, compare=False, repr=False)
    _derived: dict = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.day)

    def mask(self, f: EventFilter) -> np.ndarray:
        """Events selected by ``f``: the same rows as :func:`observatoire.events.filter.where`. A filter change asks
        for totals, cells and a table with the same filter: the last few masks are kept (read-only)."""
        keep = self._masks.get(f)
        if keep is None:
            keep = self._mask(f)
            keep.flags.writeable = False
            remember(self._masks, f, keep)
        return keep

    def _mask(self, f: EventFilter) -> np.ndarray:
        keep = np.ones(len(self), dtype=bool)
        if f.sources:
            keep &= _among(
                self.source, len(self.sources), [k for k, s in enumerate(self.sources) if s in f.sources]
            )
        if f.categories:
            plain = {c for c in f.categories if ":" not in c}
            qualified = {c for c in f.categories if ":" in c}
            chosen = [
                k
                for k, (s, c) in enumerate(self.pairs)
                if c is not None and (c in plain or f"{s}:{c}" in qualified)
            ]
            keep &= _among(self.pair, len(self.pairs), chosen)
        if f.families:
            keep &= _among(
                self.family,
                len(self.families),
                [k for k, fam in enumerate(self.families) if fam in f.families],
            )
        if f.start:
            keep &= self.day >= (f.start - EPOCH).days
        if f.end:
            keep &= self.day <= (f.end - EPOCH).days
        if f.hours and f.hours[0] != f.hours[1]:
            first, last = f.hours
            after, before = self.hour >= first, self.hour < last
            keep &= self.time_known & ((after & before) if first < last else (after | before))
        if f.weekdays:
            keep &= _among(self.isodow, 8, sorted(set(f.weekdays)))
        if f.sensitive is not None:
            keep &= self.sensitive == f.sensitive
        return keep

    def cells(self, f: EventFilter, size: float) -> pd.DataFrame:
        """``i``, ``j``, ``count`` of the non-empty hexagons (side ``size``) of the filtered, placed events,
        by the arithmetic of :mod:`observatoire.events.hexgrid`'s SQL (same rounding: half to even). Kept like the
        masks: the map and its totals ask for the same cells. Callers must not modify the frame."""
        key = (f, float(size))
        found = self._cells.get(key)
        if found is None:
            found = self._count_cells(self.mask(f), float(size))
            remember(self._cells, key, found)
        return found

    def _count_cells(self, keep: np.ndarray, size: float) -> pd.DataFrame:
        i, j = self._cell_of(keep & self.located, size)
        if not len(i):
            return pd.DataFrame({"i": [], "j": [], "count": []}, dtype=int)
        i0, j0 = i.min(), j.min()
        width, height = int(i.max() - i0 + 1), int(j.max() - j0 + 1)
        if width * height <= DENSE_LIMIT:
            counts = np.bincount((i - i0) * height + (j - j0), minlength=width * height)
            index = np.flatnonzero(counts)
            ci, cj, n = index // height + i0, index % height + j0, counts[index]
        else:
            keys, n = np.unique((i - i0) * height + (j - j0), return_counts=True)
            ci, cj = keys // height + i0, keys % height + j0
        return pd.DataFrame({"i": ci.astype(int), "j": cj.astype(int), "count": n.astype(int)})

    def _cell_of(self, keep: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
        """``i``, ``j`` of the hexagon (side ``size``) holding each kept event (placed events only)."""
        u, v = self.x[keep] / size, self.y[keep] / size
        ia, ja = np.rint(u / 3), np.rint(v / SQRT3)
        ib, jb = np.rint((u - 1.5) / 3), np.rint(v / SQRT3 - 0.5)
        da = (u - 3 * ia) ** 2 + (v - SQRT3 * ja) ** 2
        db = (u - 3 * ib - 1.5) ** 2 + (v - SQRT3 * (jb + 0.5)) ** 2
        first = da <= db
        return np.where(first, 2 * ia, 2 * ib + 1).astype(np.int64), np.where(first, ja, jb).astype(np.int64)

    def months(self) -> np.ndarray:
        """Each event's month, as months since January 1970 (worked out once per version)."""
        found = self._derived.get("month")
        if found is None:
            found = _month(self.day).astype(np.int64)
            found.flags.writeable = False
            self._derived["month"] = found
        return found

    def cell_months(self, f: EventFilter, size: float) -> pd.DataFrame:
        """``i``, ``j``, ``month`` (months since January 1970), ``count``: the hexagons of :meth:`cells` month by
        month."""
        keep = self.mask(f) & self.located
        i, j = self._cell_of(keep, size)
        month = self.months()[keep]
        if not len(i):
            return pd.DataFrame({"i": [], "j": [], "month": [], "count": []}, dtype=int)
        frame = pd.DataFrame({"i": i, "j": j, "month": month}).value_counts(sort=False).reset_index()
        return frame.rename(columns={frame.columns[-1]: "count"}).astype(int)

    def monthly(self, f: EventFilter) -> pd.DataFrame:
        """Per month (index: months since January 1970) the totals of :func:`summary`: ``total``,
        ``geolocated``, ``sensitive``, ``time_unknown``."""
        keep = self.mask(f)
        month = self.months()
        columns = {
            "total": keep,
            "geolocated": keep & self.located,
            "sensitive": keep & self.sensitive,
            "time_unknown": keep & ~self.time_known,
        }
        frame = pd.DataFrame({name: pd.Series(month[mask]).value_counts() for name, mask in columns.items()})
        return frame.fillna(0).astype(int).sort_index()

    def _inside(self, code: str, wkb_l93: bytes) -> np.ndarray:
        key = (code, hash(wkb_l93))
        inside = self._zones.get(key)
        if inside is None:
            import shapely

            outline = shapely.from_wkb(wkb_l93)
            shapely.prepare(outline)
            x0, y0, x1, y1 = outline.bounds
            near = np.flatnonzero(
                self.located & (self.x >= x0) & (self.x <= x1) & (self.y >= y0) & (self.y <= y1)
            )
            inside = near[shapely.intersects_xy(outline, self.x[near], self.y[near])]
            remember(self._zones, key, inside, size=256)
        return inside

    def zone_count(self, f: EventFilter, code: str, wkb_l93: bytes) -> int:
        """Filtered events covered by a zone (boundary included, as ``ST_Covers``), given its Lambert-93
        outline as the database writes it. Which events a zone covers is worked out once per version."""
        return int(self.mask(f)[self._inside(code, wkb_l93)].sum())

    def zone_months(self, f: EventFilter, code: str, wkb_l93: bytes) -> pd.Series:
        """:meth:`zone_count` month by month (index: months since January 1970)."""
        inside = self._inside(code, wkb_l93)
        return pd.Series(self.months()[inside][self.mask(f)[inside]]).value_counts().sort_index()

    def points(self, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lambert-93 coordinates of the kept, placed events."""
        keep = keep & self.located
        return self.x[keep], self.y[keep]


def remember(cache: dict, key, value, size: int = 8) -> None:
    """Keep ``value`` under ``key``, forgetting the oldest entries beyond ``size``."""
    while len(cache) >= size:
        try:  # requests run in threads: another may have just emptied it
            cache.pop(next(iter(cache)), None)
        except (StopIteration, RuntimeError):
            break
    cache[key] = value


def _among(codes: np.ndarray, size: int, chosen: list[int]) -> np.ndarray:
    """``np.isin`` for small non-negative codes, as one lookup per row."""
    table = np.zeros(size, dtype=bool)
    table[chosen] = True
    return table[codes]


class _Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: Snapshot | None = None


_stores: weakref.WeakKeyDictionary[Engine, _Store] = weakref.WeakKeyDictionary()


def enable(engine: Engine) -> None:
    """Serve this engine's event queries from memory from now on."""
    _stores.setdefault(engine, _Store())


def disable(engine: Engine) -> None:
    _stores.pop(engine, None)


def version(conn: Connection) -> tuple[int, Any]:
    """The counter and the time it last moved: a database rebuilt from scratch restarts the counter, not
    the clock, so the pair never names two different states."""
    row = conn.exec_driver_sql(
        "SELECT version, changed_at FROM obs.data_version WHERE name = 'event'"
    ).first()
    return (int(row[0]), row[1]) if row else (0, None)


def snapshot(conn: Connection, f: EventFilter | None = None) -> Snapshot | None:
    """The events as of now, when this connection's engine keeps them in memory and the filter can be
    answered there; else ``None`` (the caller queries SQL)."""
    store = _stores.get(conn.engine)
    if store is None or (f is not None and f.territory):
        return None
    if f is not None:
        where(f)  # the same refusals (hours, weekdays) as the SQL path
    current = version(conn)
    if store.current is not None and store.current.version == current:
        return store.current
    with store.lock:
        if store.current is None or store.current.version != current:
            store.current = load(conn.engine)
            # The server's long-lived objects (libraries, pages, this copy) leave the garbage collector's
            # scans: a full collection over them stalled one filter change in ten by ~200 ms.
            gc.freeze()
        return store.current


def warm(engine: Engine) -> threading.Thread:
    """Load the events in the background, so that the first person to open the map does not wait for it."""

    def run() -> None:
        try:
            with engine.connect() as conn:
                snapshot(conn)
        except Exception:  # the first request will load (and report) it
            logging.getLogger(__name__).warning("Préchargement des événements impossible", exc_info=True)

    thread = threading.Thread(target=run, name="event-store-warm", daemon=True)
    thread.start()
    return thread


_TYPES = {
    "source": pa.string(),
    "category": pa.string(),
    "family": pa.string(),
    "day": pa.int32(),
    "hour": pa.int8(),
    "isodow": pa.int8(),
    "time_known": pa.bool_(),
    "located": pa.bool_(),
    "x": pa.float64(),
    "y": pa.float64(),
    "sensitive": pa.bool_(),
}
_PAIR = "\x1f"  # joins a source and a category into one key; below every printable character, so keys sort as pairs


def load(engine: Engine) -> Snapshot:
    """Read the whole view in one COPY, in the same snapshot as the version it is labelled with."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        at = version(conn)
        raw = conn.connection.driver_connection
        assert raw is not None  # set while the connection is checked out
        buffer = io.BytesIO()
        with raw.cursor() as cur, cur.copy(_LOAD_SQL) as copy:
            for block in copy:
                buffer.write(block)
        conn.rollback()
    data = buffer.getbuffer()
    if data.nbytes:
        # Parsed by Arrow on both cores (a million events: 0.3 s, where pandas took 0.8 s and as long again to
        # number the codes). COPY writes NULL as an empty unquoted field, '' as "" (never a code here).
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(column_names=_COLUMNS),
            convert_options=pa_csv.ConvertOptions(
                column_types=_TYPES,
                true_values=["t"],
                false_values=["f"],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    else:
        table = pa.table({name: pa.array([], kind) for name, kind in _TYPES.items()})
    column = {name: table.column(name).combine_chunks() for name in _COLUMNS}
    sources, source_codes = _codes(column["source"])
    pairs, pair_codes = _codes(
        pc.binary_join_element_wise(column["source"], pc.fill_null(column["category"], ""), _PAIR)
    )
    families, family_codes = _codes(column["family"])

    def array(name: str, kind: Any) -> np.ndarray:
        return column[name].to_numpy(zero_copy_only=False).astype(kind, copy=False)

    return Snapshot(
        version=at,
        sources=tuple(sources),
        pairs=tuple((s, c or None) for s, c in (p.split(_PAIR, 1) for p in pairs)),
        families=tuple(fam or None for fam in families),
        source=source_codes.astype(np.int16),
        pair=pair_codes,
        family=family_codes,
        day=array("day", np.int32),
        hour=array("hour", np.int8),
        isodow=array("isodow", np.int8),
        time_known=array("time_known", bool),
        located=array("located", bool),
        x=array("x", np.float64),
        y=array("y", np.float64),
        sensitive=array("sensitive", bool),  # NULL → NaN
    )


def _codes(values: pa.Array) -> tuple[list[str], np.ndarray]:
    """The distinct values in order ("" for NULL) and each row's position among them, as ``pd.factorize(sort=True)``
    gives them."""
    encoded = pc.dictionary_encode(pc.fill_null(values, ""))
    names = encoded.dictionary.to_pylist()
    order = sorted(range(len(names)), key=names.__getitem__)
    rank = np.empty(len(names), dtype=np.int32)
    rank[order] = np.arange(len(names), dtype=np.int32)
    return [names[i] for i in order], rank[encoded.indices.to_numpy(zero_copy_only=False)]


def summary(snap: Snapshot, f: EventFilter) -> dict[str, Any]:
    """The totals of :func:`observatoire.events.queries.summary`, before masking."""
    keep = snap.mask(f)
    days = snap.day[keep]
    return {
        "total": int(keep.sum()),
        "geolocated": int((keep & snap.located).sum()),
        "sensitive": int((keep & snap.sensitive).sum()),
        "time_unknown": int((keep & ~snap.time_known).sum()),
        "first_day": date.fromordinal(EPOCH.toordinal() + int(days.min())) if len(days) else None,
        "last_day": date.fromordinal(EPOCH.toordinal() + int(days.max())) if len(days) else None,
    }


def _month(day: np.ndarray) -> np.ndarray:
    return day.astype("datetime64[D]").astype("datetime64[M]")


def _coded(snap: Snapshot, by: str) -> tuple[np.ndarray, list[str]]:
    """The code of each event for a breakdown by source, category (``source:category``) or family, and the
    label of each code."""
    if by == "source":
        return snap.source, list(snap.sources)
    if by == "category":
        return snap.pair, [f"{s}:{c or ''}" for s, c in snap.pairs]
    return snap.family, [fam or "" for fam in snap.families]


def counts(snap: Snapshot, f: EventFilter, by: str) -> pd.DataFrame:
    """``key`` and ``count`` per source, family, category (``source:category``), month, weekday or hour, in
    key order; for a source, category or family also ``code``, its position in ``snap.sources``, ``snap.pairs``
    or ``snap.families``, for the caller's labels."""
    keep = snap.mask(f)
    if by == "hour":
        keep = keep & snap.time_known
    if by in ("source", "category", "family"):
        codes, labels = _coded(snap, by)
        n = np.bincount(codes[keep], minlength=len(labels))
        present = np.flatnonzero(n)
        keys = [labels[k] for k in present]
        frame = pd.DataFrame({"key": keys, "count": n[present].astype(int), "code": present})
        return frame.sort_values("key", ignore_index=True)
    values = {
        "month": lambda: pd.Index(_month(snap.day[keep])).strftime("%Y-%m"),
        "weekday": lambda: snap.isodow[keep].astype(int),
        "hour": lambda: snap.hour[keep].astype(int),
    }[by]()
    series = pd.Series(values).value_counts().sort_index()
    return pd.DataFrame({"key": series.index.to_list(), "count": series.to_numpy().astype(int)})


def counts_by_month(snap: Snapshot, f: EventFilter, by: str) -> pd.DataFrame:
    """:func:`counts` month by month: ``key``, ``month`` (months since January 1970), ``count``."""
    keep = snap.mask(f)
    if by == "hour":
        keep = keep & snap.time_known
    month = snap.months()[keep]
    if by in ("source", "category", "family"):
        codes, labels = _coded(snap, by)
        keys = np.array(labels, dtype=object)
        values = keys[codes[keep]]
    else:
        values = {
            "month": lambda: pd.Index(_month(snap.day[keep])).strftime("%Y-%m").to_numpy(),
            "weekday": lambda: snap.isodow[keep].astype(int),
            "hour": lambda: snap.hour[keep].astype(int),
        }[by]()
    if not len(month):
        return pd.DataFrame({"key": [], "month": [], "count": []})
    frame = pd.DataFrame({"key": values, "month": month}).value_counts(sort=False).reset_index()
    return frame.rename(columns={frame.columns[-1]: "count"})


def families_of_pairs(snap: Snapshot, f: EventFilter) -> dict[str, set[tuple[str, str | None]]]:
    """For each family key (``''`` for none), the (source, category) pairs of its kept events — the SQL
    takes a family's label from the categories its events belong to."""
    keep = snap.mask(f)
    width = len(snap.pairs)
    n = np.bincount(
        snap.family[keep].astype(np.int64) * width + snap.pair[keep], minlength=len(snap.families) * width
    )
    out: dict[str, set[tuple[str, str | None]]] = {}
    for index in np.flatnonzero(n):
        family, pair = divmod(int(index), width)
        out.setdefault(snap.families[family] or "", set()).add(snap.pairs[pair])
    return out
