"""Dated, placed events from office exports (police municipale interventions, police nationale facts…):
reading through a column mapping, validation, personal-data guard, geocoding and deduplication.

A source describes itself with an :class:`EventSource`; this module does the rest. Each row is checked
(dates and times are parsed once per distinct string, so the check costs little) into columns of valid
rows; labels, places and keys are then worked out over those columns (:mod:`ingest.event_rows`), and the
rows are written in one ``COPY`` inside the batch transaction: into a temporary table read by the source's
``INSERT … ON CONFLICT DO NOTHING``, or, for a batch larger than the table, straight into the table in a
bulk window (indexes rebuilt once, see :func:`ingest.staging.open_bulk_window`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest import columnar, event_rows, faults, privacy, reading, staging
from ingest.event_rows import Staged
from ingest.geocoding import Geocoder
from ingest.tabular import ColumnMapping, Field, Table, shown_names
from observatoire.errors import InputFileError
from observatoire.imports.batches import ImportReport
from observatoire.label_learning import Classified

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]  # (stage, share done in [0, 1])

# Field names every event source uses; a source adds its own text fields after them.
CORE_FIELDS = ("date", "time", "label", "address", "x", "y", "record_id")
WGS84, LAMBERT93 = event_rows.WGS84, event_rows.LAMBERT93
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class EventSource:
    """What differs between two event sources."""

    name: str  # batch source, e.g. ``pm``
    label: str  # French, e.g. « Police municipale »
    fields: tuple[Field, ...]
    extra_fields: tuple[str, ...]  # text fields staged as they are, for ``insert_sql``
    classify: Callable[[Connection, list[str]], dict[str, Classified]]
    # INSERT … SELECT … FROM ({events}) e ON CONFLICT DO NOTHING, ``{events}`` being the rows of
    # :func:`ingest.event_rows.event_columns` (after ``prepare``), and :batch_id bound.
    insert_sql: str
    table: str  # where ``insert_sql`` writes, keyed by ``natural_key``
    # What a row's label is called and how to fill it (on a row without one), and what could not be done when
    # neither address nor coordinates are mapped.
    label_name: str = "nature de l'intervention"
    label_advice: str = "renseignez-la (par ex. « Tapage nocturne »)"
    nothing_placed: str = "aucune intervention ne pourrait être placée"
    label_fallback: str | None = None  # field whose value stands in for an empty label (e.g. an index)
    # Ends the report's warning about labels outside the nomenclature.
    attach_hint: str = "Un analyste peut les rattacher à un type (page Nomenclature PM)."
    # Turns the extra fields of the rows into what the table stores (e.g. an origin wording into its code).
    prepare: Callable[[dict], None] | None = None
    # Large batches are copied straight into ``table`` when given: (its column, the row's column), ``id`` and
    # ``batch_id`` aside; the table then has ``<table>_bulk_open(rows)`` and ``_bulk_close()`` (migrations 0900, 1100).
    bulk_columns: tuple[tuple[str, str], ...] = ()

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def missing_label(self) -> str:
        return faults.message("label_missing", label=self.label_name, advice=self.label_advice)


def check_mapping(source: EventSource, header: Sequence[str], index: dict[str, int]) -> None:
    """Refuse a mapping that lacks what every row needs, naming the field and the file's columns."""
    missing = [f for f in source.fields if f.required and f.name not in index]
    if missing:
        raise InputFileError(
            "Colonnes obligatoires non trouvées : "
            + ", ".join(f"« {f.label} »" for f in missing)
            + f". Colonnes du fichier : {shown_names(header)}. Indiquez la correspondance "
            "(profil de correspondance, ou --mapping) ou renommez les colonnes comme dans le modèle."
        )
    if ("x" in index) != ("y" in index):
        raise InputFileError(
            "Une seule colonne de coordonnées est associée : associez X et Y (ou longitude "
            "et latitude), ou aucune des deux."
        )
    if "address" not in index and "x" not in index:
        raise InputFileError(
            "Ni adresse ni coordonnées : associez une colonne « Adresse » (ou « Lieu ») ou les "
            f"colonnes X et Y, sinon {source.nothing_placed}."
        )


def strict_columns(source: EventSource, index: dict[str, int]) -> dict[int, str]:
    """The columns strictly parsed (dates, times, coordinates) and their kind, for the personal-data guard."""
    return {
        index[f.name]: f.kind for f in source.fields if f.kind in privacy.STRICT_KINDS and f.name in index
    }


class _Parsers:
    """Date, time and number parsing with one cache per distinct string (exports repeat them a lot): each
    string gives its ISO text, or the error to report."""

    def __init__(self) -> None:
        self.dates: dict[str, str | Exception] = {}
        self.times: dict[str, str | Exception] = {}
        self.latest = date.today() + timedelta(days=1)

    def day(self, raw: str) -> str | Exception:
        found = self.dates.get(raw)
        if found is None:
            found = self.dates[raw] = _read(raw, self._day, "date_unreadable")
        return found

    def hour(self, raw: str) -> str | Exception:
        found = self.times.get(raw)
        if found is None:
            found = self.times[raw] = _read(raw, _hour, "time_unreadable")
        return found

    def _day(self, raw: str) -> str | Exception:
        value = reading.parse_date(raw)
        assert value is not None  # callers pass a non-blank string
        if not EARLIEST <= value <= self.latest:
            return ValueError(faults.message("date_implausible", first_year=EARLIEST.year))
        return value.isoformat()


def _hour(raw: str) -> str:
    value = reading.parse_time(raw)
    assert value is not None  # callers pass a non-blank string
    return value.strftime("%H:%M:%S")


def _read(raw: str, parse: Callable[[str], str | Exception], unreadable: str) -> str | Exception:
    try:
        return parse(raw)
    except ValueError:
        return ValueError(faults.message(unreadable))


def _number(raw: str) -> float:
    """A coordinate as :func:`ingest.reading.parse_decimal` reads it (French formats only); ValueError if none."""
    value = reading.parse_decimal(raw)
    if value is None:
        raise ValueError(f"pas un nombre : {raw!r}")
    return value


def _in(box: tuple[float, float, float, float], x: Any, y: Any) -> Any:
    """Whether (x, y) lies in ``box`` (bounds included): numbers, or NumPy arrays element-wise."""
    x_low, x_high, y_low, y_high = box
    return (x_low <= x) & (x <= x_high) & (y_low <= y) & (y <= y_high)


def _in_any(boxes: tuple[tuple[float, float, float, float], ...], x: Any, y: Any) -> Any:
    """Whether (x, y) lies in one of ``boxes``: numbers, or NumPy arrays element-wise."""
    inside = np.zeros(np.shape(x), dtype=bool)
    for box in boxes:
        inside |= _in(box, x, y)
    return inside if np.ndim(x) else bool(inside)


def _srid(x: float, y: float, crs: str, area: faults.Area) -> int | str:
    """EPSG code of a point, or the French reason it is refused: neither system, latitude and longitude
    swapped, or outside ``area`` (the département of the commune)."""
    if _in(faults.WGS84_BOX, x, y) and crs != "lambert93":
        if _in(faults.SWAPPED_BOX, x, y):
            return faults.message("coordinates_swapped")
        return WGS84 if _in_any(area.wgs84, x, y) else faults.message("coordinates_elsewhere", area=area.name)
    if _in(faults.LAMBERT93_BOX, x, y) and crs != "wgs84":
        if _in_any(area.lambert93, x, y):
            return LAMBERT93
        return faults.message("coordinates_elsewhere", area=area.name)
    expected = {"wgs84": "longitude/latitude en degrés (WGS84)", "lambert93": "X/Y Lambert-93 en mètres"}.get(
        crs, "longitude/latitude en degrés (WGS84) ou X/Y Lambert-93 en mètres"
    )
    return faults.message("coordinates_outside", expected=expected)


STAGED_TYPES = (
    ("line", pa.int64()),
    ("occurred_at", pa.string()),
    ("time_known", pa.bool_()),
    ("label", pa.string()),
    ("address", pa.string()),
    ("x", pa.float64()),
    ("y", pa.float64()),
    ("srid", pa.int64()),
    ("record_id", pa.string()),
)


def _stage(
    source: EventSource,
    table: Table,
    index: dict[str, int],
    crs: str,
    area: faults.Area,
    report: ImportReport,
    progress: Progress | None,
) -> Staged:
    """The valid rows of any readable export, checked one by one; bad rows are reported, not kept."""
    extras = source.extra_fields
    header = table.header
    names = {name: header[i] for name, i in index.items()}
    guard = privacy.ContentGuard(header, strict=strict_columns(source, index))
    parse = _Parsers()
    get = {name: index.get(name) for name in CORE_FIELDS}
    i_date, i_time, i_label, i_addr, i_x, i_y, i_id = (get[n] for n in CORE_FIELDS)
    i_extras = [index.get(name) for name in extras]
    i_fallback = index.get(source.label_fallback) if source.label_fallback else None
    width = len(header)
    counts = {WGS84: 0, LAMBERT93: 0}
    on_position = (lambda share: progress("lecture", share)) if progress else None
    kept: list[list] = []
    for line, row in guard.rows(table.rows(on_position)):
        report.rows_read += 1
        if len(row) < width:
            row = row + [""] * (width - len(row))
        bad = False
        when = row[i_date].strip() if i_date is not None else ""
        if not when:
            report.error(line, names["date"], None, faults.message("date_missing"))
            bad = True
            day = None
        else:
            day_part, _, time_part = when.replace("T", " ", 1).partition(" ")
            day = parse.day(day_part)
            if isinstance(day, Exception):
                report.error(line, names["date"], when, str(day))
                bad = True
            time_part = time_part.strip()
        hour_raw = row[i_time].strip() if i_time is not None else ""
        if hour_raw:
            time_part = hour_raw
        hour: str | Exception | None = parse.hour(time_part) if when and time_part else None
        if isinstance(hour, Exception):
            report.error(line, names["time" if hour_raw else "date"], time_part, str(hour))
            bad = True
        label = row[i_label].strip() if i_label is not None else ""
        if not label and i_fallback is not None:
            label = row[i_fallback].strip()
        if not label:
            report.error(line, names.get("label"), None, source.missing_label)
            bad = True
        x = y = srid = None
        if i_x is not None:
            rx, ry = row[i_x].strip(), row[i_y].strip()  # type: ignore[index]
            if rx or ry:
                try:
                    x, y = _number(rx), _number(ry)
                except ValueError:
                    report.error(
                        line,
                        names["x"] if not _is_number(rx) else names["y"],
                        f"{rx} ; {ry}",
                        faults.message("coordinates_unreadable"),
                    )
                    bad = True
                else:
                    if x == 0 and y == 0:  # some software writes 0;0 for "no position"
                        x = y = None
                    else:
                        found = _srid(x, y, crs, area)
                        if isinstance(found, str):
                            report.error(line, names["x"], f"{rx} ; {ry}", found)
                            bad = True
                        else:
                            srid = found
                            counts[found] += 1
        if bad:
            report.rejected += 1
            continue
        stamp = f"{day} {hour}" if hour else day
        values = [
            line,
            stamp,
            hour is not None,
            label[:300],
            row[i_addr].strip()[:300] if i_addr is not None else None,
            x,
            y,
            srid,
            row[i_id].strip()[:100] if i_id is not None and row[i_id].strip() else None,
        ]
        values += [row[i].strip()[:150] or None if i is not None else None for i in i_extras]
        kept.append(values)
    _add_systems(report, counts)
    by_column = list(zip(*kept, strict=True)) if kept else [()] * (len(STAGED_TYPES) + len(extras))
    types = list(STAGED_TYPES) + [(name, pa.string()) for name in extras]
    return {name: pa.array(list(values), kind) for (name, kind), values in zip(types, by_column, strict=True)}


def _screen(
    source: EventSource, data: columnar.Columns, header: list[str], index: dict[str, int]
) -> np.ndarray:
    """The rows of blanks only (skipped, as the row reader skips them), after the personal-data guard has gone
    over every column of the whole file: nothing of a refused file is ever written, even in part."""
    n = len(data)
    cols = data.columns
    blank = np.zeros(n, dtype=bool)
    when = columnar.strip(cols[index["date"]])  # a required field
    maybe = np.flatnonzero(pc.equal(when, "").to_numpy(zero_copy_only=False))
    if len(maybe):
        picked = pa.array(maybe)
        joined = pc.binary_join_element_wise(*[columnar.plain(c.take(picked)) for c in cols], "")
        results, codes = columnar.by_distinct(joined, lambda v: not v.strip())
        blank[maybe] = np.array(results, dtype=bool)[codes]
    privacy.first_violation(header, cols, data.lines, strict=strict_columns(source, index), ignore=blank)
    return blank


def _stage_columns(
    source: EventSource,
    data: columnar.Columns,
    blank: np.ndarray,
    header: list[str],
    index: dict[str, int],
    crs: str,
    area: faults.Area,
    report: ImportReport,
    parse: _Parsers,
) -> Staged:
    """What :func:`_stage` does, over whole columns of a regular export (``blank``: its rows of blanks only,
    see :func:`_screen`): the same rows are refused with the same errors, the same values kept. Each distinct
    date, time or label is checked once, numbers and coordinates at C speed."""

    extras = source.extra_fields
    names = {name: header[i] for name, i in index.items()}
    n = len(data)
    cols, lines = data.columns, data.lines
    column = {name: cols[i] for name, i in index.items()}
    empty = pa.array([""] * n, pa.string()) if n else pa.array([], pa.string())

    def stripped(name: str, length: int | None = None) -> pa.Array:
        return columnar.strip(column[name], length) if name in column else empty

    def is_empty(array: pa.Array) -> np.ndarray:
        return pc.equal(array, "").to_numpy(zero_copy_only=False)

    when = stripped("date")
    keep = ~blank
    report.rows_read += int(keep.sum())

    errors: list[
        tuple[int, int, str | None, str | None, str]
    ] = []  # (row, order in the row, column, value, reason)

    def split(value: str) -> tuple[str | Exception | None, str, str | Exception | None]:
        if not value:
            return None, "", None
        day_part, _, time_part = value.replace("T", " ", 1).partition(" ")
        time_part = time_part.strip()
        return parse.day(day_part), time_part, parse.hour(time_part) if time_part else None

    def text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    dates, d_codes = columnar.by_distinct(when, split)
    d_take = pa.array(d_codes)
    day_bad = np.array([isinstance(d, Exception) for d, _, _ in dates], dtype=bool)[d_codes]
    when_empty = is_empty(when)
    for r in np.flatnonzero(when_empty & keep):
        errors.append((int(r), 0, names["date"], None, faults.message("date_missing")))
    for r in np.flatnonzero(day_bad & keep):
        errors.append((int(r), 0, names["date"], when[int(r)].as_py(), str(dates[d_codes[r]][0])))
    day = pa.array([text(d) for d, _, _ in dates], pa.string()).take(d_take)
    # The time column when filled, else the time written after the date; none without a date.
    hour = pa.array([text(h) for _, _, h in dates], pa.string()).take(d_take)
    hour_bad = np.array([isinstance(h, Exception) for _, _, h in dates], dtype=bool)[d_codes]
    hour_raw = stripped("time")
    from_time_column = ~is_empty(hour_raw)
    if from_time_column.any():
        hours, h_codes = columnar.by_distinct(hour_raw, lambda v: parse.hour(v) if v else None)
        hour = pc.if_else(
            pa.array(from_time_column),
            pa.array([text(h) for h in hours], pa.string()).take(pa.array(h_codes)),
            hour,
        )
        hour_bad = np.where(
            from_time_column,
            np.array([isinstance(h, Exception) for h in hours], dtype=bool)[h_codes],
            hour_bad,
        )
    hour = pc.if_else(pa.array(when_empty), pa.nulls(n, pa.string()), hour)
    for r in np.flatnonzero(hour_bad & ~when_empty & keep):
        raw_time = hour_raw[int(r)].as_py() if from_time_column[r] else dates[d_codes[r]][1]
        errors.append(
            (int(r), 1, names["time" if from_time_column[r] else "date"], raw_time, str(parse.hour(raw_time)))
        )

    label = _wordings(source, column, n)
    for r in np.flatnonzero(is_empty(label) & keep):
        errors.append((int(r), 2, names.get("label"), None, source.missing_label))

    has_xy = "x" in column and "y" in column
    counts = {WGS84: 0, LAMBERT93: 0}
    srid = np.zeros(n, dtype=np.int64)
    x = y = np.full(n, np.nan)
    if has_xy:
        rx, ry = stripped("x"), stripped("y")
        given = ~(is_empty(rx) & is_empty(ry))
        x, x_ok = columnar.to_numbers(rx, _number)
        y, y_ok = columnar.to_numbers(ry, _number)
        unreadable = given & ~(x_ok & y_ok)
        for r in np.flatnonzero(unreadable & keep):
            pair = f"{rx[int(r)].as_py()} ; {ry[int(r)].as_py()}"
            errors.append(
                (
                    int(r),
                    3,
                    names["x"] if not x_ok[r] else names["y"],
                    pair,
                    faults.message("coordinates_unreadable"),
                )
            )
        placed = given & ~unreadable & ~((x == 0) & (y == 0))  # some software writes 0;0 for "no position"
        with np.errstate(invalid="ignore"):
            wgs, l93 = _in(faults.WGS84_BOX, x, y), _in(faults.LAMBERT93_BOX, x, y)
            as_wgs = placed & wgs & (crs != "lambert93")
            swapped = as_wgs & _in(faults.SWAPPED_BOX, x, y)
            as_l93 = placed & ~as_wgs & l93 & (crs != "wgs84")
            srid[as_wgs & ~swapped & _in_any(area.wgs84, x, y)] = WGS84
            srid[as_l93 & _in_any(area.lambert93, x, y)] = LAMBERT93
        # Swapped, outside the département, or in neither system: refused, with the row reader's reason.
        for r in np.flatnonzero(placed & (srid == 0) & keep):
            reason = _srid(float(x[r]), float(y[r]), crs, area)
            errors.append(
                (int(r), 3, names["x"], f"{rx[int(r)].as_py()} ; {ry[int(r)].as_py()}", str(reason))
            )
        srid[~keep] = 0
    bad = np.zeros(n, dtype=bool)
    errors.sort(key=lambda e: (e[0], e[1]))
    for pos, _, name, value, reason in errors:
        report.error(int(lines[pos]), name, value, reason)
        bad[pos] = True
    report.rejected += int((bad & keep).sum())
    good = keep & ~bad
    # As the row reader counts them: every readable position, the row refused for another reason or not.
    counts[WGS84] = int((srid[keep] == WGS84).sum())
    counts[LAMBERT93] = int((srid[keep] == LAMBERT93).sum())

    picked = pa.array(np.flatnonzero(good))
    placed_good = srid[good] != 0
    day_text, hour_text = day.take(picked), hour.take(picked)
    none = pa.nulls(len(picked), pa.string())
    staged = {
        "line": pa.array(lines[good]),
        "occurred_at": pc.binary_join_element_wise(day_text, hour_text, " ", null_handling="skip"),
        "time_known": pc.is_valid(hour_text),
        "label": pc.utf8_slice_codeunits(label.take(picked), 0, 300),
        "address": stripped("address", 300).take(picked) if "address" in column else none,
        "x": pa.array(x[good], mask=~placed_good),
        "y": pa.array(y[good], mask=~placed_good),
        "srid": pa.array(srid[good], mask=~placed_good),
        "record_id": _or_null(stripped("record_id", 100).take(picked)) if "record_id" in column else none,
    }
    for name in extras:
        staged[name] = _or_null(stripped(name, 150).take(picked)) if name in column else none
    _add_systems(report, counts)
    return staged


def _wordings(source: EventSource, column: dict[str, pa.Array], n: int) -> pa.Array:
    """Each row's wording, stripped: its label, or the fallback field when the label is empty."""
    label = columnar.strip(column["label"]) if "label" in column else pa.array([""] * n, pa.string())
    if source.label_fallback and source.label_fallback in column:
        label = pc.if_else(pc.equal(label, ""), columnar.strip(column[source.label_fallback]), label)
    return label


def _add_systems(report: ImportReport, counts: dict[int, int]) -> None:
    """Positions read per coordinate system, added up over the parts of a file."""
    systems = report.extra.setdefault("systemes_coordonnees", {"WGS84": 0, "Lambert-93": 0})
    systems["WGS84"] += counts[WGS84]
    systems["Lambert-93"] += counts[LAMBERT93]


def _or_null(array: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(array, ""), None, array)


def _is_number(raw: str) -> bool:
    try:
        _number(raw)
        return True
    except ValueError:
        return False


PART_ROWS = 250_000  # rows of a part: checked and built while the previous one is being copied

# Types of the rows written to the temporary table read by a source's INSERT.
EVENT_TYPES = (
    ("line", "bigint"),
    ("occurred_at", "timestamp"),
    ("time_known", "bool"),
    ("label", "text"),
    ("label_key", "text"),
    ("type_code", "text"),
    ("family_code", "text"),
    ("place", "text"),
    ("geom", "geometry(Point, 4326)"),
    ("geocoding_status", "text"),
    ("geocoding_score", "float8"),
    ("record_id", "text"),
    ("natural_key", 'text COLLATE "C"'),
)


def load_events(
    conn: Connection,
    batch_id: int,
    report: ImportReport,
    *,
    source: EventSource,
    table: Table,
    index: dict[str, int],
    mapping: ColumnMapping,
    commune: str,
    geocoder: Geocoder | None,
    accept_valid: bool,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> None:
    """The loader given to :func:`observatoire.imports.batches.run_import`.

    A regular file is checked and built part by part while the previous part is being copied (one core each).
    A large batch goes straight into the table in a bulk window; otherwise the rows go to a temporary table read
    by the source's INSERT. A dry run counts the rows a commit would add without writing them: validating a
    large file must not lock the table that the dashboards read. A refused file stops being written at its
    first error (run_import then rolls back what was), and is still checked to the end for the report."""
    # The temporary table has no statistics: its estimates would make the insert compile itself (JIT), which
    # costs more than the query on an import.
    conn.exec_driver_sql("SET LOCAL jit = off")
    report.extra["correspondance"] = {name: table.header[i] for name, i in index.items()}
    report.extra["format"] = {
        "type": table.kind,
        "encodage": table.encoding,
        "separateur": table.separator,
        "ligne_en_tete": table.header_line,
    }
    area = faults.area_of(commune)
    with staging.timed(report, "lecture"):
        data = columnar.read_regular(table)
        if data is not None:
            blank = _screen(source, data, table.header, index)
            total = len(data)
        else:
            whole = _stage(source, table, index, mapping.crs, area, report, progress)
            total = len(whole["line"])
    parse = _Parsers()

    def parts() -> Iterator[Staged]:
        if data is None:
            yield whole
            return
        for start in range(0, max(total, 1), PART_ROWS):
            part = columnar.Columns(
                [c.slice(start, PART_ROWS) for c in data.columns], data.lines[start : start + PART_ROWS]
            )
            with staging.timed(report, "verification"):
                staged = _stage_columns(
                    source,
                    part,
                    blank[start : start + PART_ROWS],
                    table.header,
                    index,
                    mapping.crs,
                    area,
                    report,
                    parse,
                )
            yield staged
            if progress:
                progress("lecture", min(1.0, (start + PART_ROWS) / max(total, 1)))

    builder = event_rows.Builder(conn, source, geocoder, commune, progress)
    # Every wording is classified now: once the copy has begun, this connection is busy, and the bulk window
    # locks the catalogues (their foreign keys are dropped) against any other.
    if data is not None:
        wordings = _wordings(source, {name: data.columns[i] for name, i in index.items()}, total)
        builder.classify(conn, pc.unique(pc.utf8_slice_codeunits(wordings, 0, 300)).to_pylist())
    else:
        builder.classify(conn, pc.unique(whole["label"]).to_pylist())
    bulk = not dry_run and bool(source.bulk_columns) and staging.bulk_worthwhile(conn, source.table, total)
    if bulk:
        next_id = staging.open_bulk_window(conn, source.table, total)
        target, names = source.table, ["id"] + [column for column, _ in source.bulk_columns] + ["batch_id"]
    else:
        staging.create_temp(
            conn, "ev_events", list(EVENT_TYPES) + [(name, "text") for name in source.extra_fields]
        )
        target, names = "ev_events", [name for name, _ in EVENT_TYPES] + list(source.extra_fields)
    kept = 0
    with staging.CopyWriter(conn, target, names) as writer:
        for staged in parts():
            with staging.timed(report, "verification"):
                kept += len(staged["line"])
                if report.errors_total and not accept_valid:
                    builder.rows(staged)  # for the report only: the file will be refused
                    continue
                rows = builder.rows(staged)
                if source.prepare:
                    source.prepare(rows)
                if bulk:
                    count = len(staged["line"])
                    rows = {
                        "id": pa.array(np.arange(next_id, next_id + count, dtype=np.int64)),
                        **{column: rows[name] for column, name in source.bulk_columns},
                        "batch_id": pa.array(np.full(count, batch_id, dtype=np.int32)),
                    }
                    next_id += count
            if progress:
                progress("validation", min(1.0, kept / max(total, 1)))
            writer.send({name: rows[name] for name in names})
    builder.finish(report)
    if not report.rows_read:
        raise InputFileError(
            "Le fichier ne contient aucune ligne sous l'en-tête : rien à importer. Vérifiez la "
            "période ou les filtres choisis dans le logiciel au moment de l'export."
        )
    if report.errors_total and not accept_valid:
        return  # run_import refuses the whole file and rolls back what was written
    if progress:
        progress("ecriture", 0.5)
    with staging.timed(report, "ecriture"):
        if bulk:
            report.inserted = staging.close_bulk_window(conn, source.table)
        elif dry_run:
            report.inserted = conn.execute(
                sa.text(
                    f"SELECT count(*) FROM (SELECT DISTINCT natural_key FROM ev_events) e "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {source.table} t WHERE t.natural_key = e.natural_key)"
                )
            ).scalar_one()
        else:
            result = conn.execute(
                sa.text(source.insert_sql.format(events="SELECT * FROM ev_events")), {"batch_id": batch_id}
            )
            report.inserted = result.rowcount
    report.duplicates = kept - report.inserted
    if progress:
        progress("ecriture", 1.0)
