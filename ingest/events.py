"""Dated, placed events from office exports (police municipale interventions, police nationale facts…):
reading through a column mapping, validation, personal-data guard, geocoding and deduplication.

A source describes itself with an :class:`EventSource`; this module does the rest. Rows are checked while
they stream into a temporary table by ``COPY`` (dates and times are parsed once per distinct string, so the
check costs little); labels, places, duplicates and commune bounds are then handled in SQL on the staged
rows, and one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` writes the table inside the batch transaction.
"""

from __future__ import annotations

import difflib
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest import columnar, privacy, reading, staging
from ingest.geocoding import Geocoder, normalise_address
from ingest.tabular import ColumnMapping, Field, Table
from observatoire.batches import ImportReport
from observatoire.errors import InputFileError

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]  # (stage, share done in [0, 1])

# Field names every event source uses; a source adds its own text fields after them.
CORE_FIELDS = ("date", "time", "label", "address", "x", "y", "record_id")
LISTED_MAX = 200  # lines listed in the report for each warning kind

WGS84, LAMBERT93 = 4326, 2154
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Classified:
    type_code: str | None
    family_code: str | None
    suggestion: str | None = None  # label of the closest type when unknown


def resolve_label(key: str, code: str | None, keywords: list[tuple], vocabulary: dict[str, str],
                  family: dict[str, str]) -> Classified:
    """The type already found (index, name, learnt label), else the first keyword contained in the
    normalised label, else unclassified with the closest known label as a suggestion."""
    if code is None:
        padded = f" {key} "
        code = next((c for *_, kk, c in keywords if f" {kk} " in padded), None)
    if code is not None:
        return Classified(code, family.get(code))
    # Below 0.6 the "closest" label shares little more than a word (« Feu de broussailles » → « feu rouge »):
    # no suggestion is better than a misleading one; typos score above 0.9.
    close = difflib.get_close_matches(key, list(vocabulary), n=1, cutoff=0.6)
    return Classified(None, None, vocabulary[close[0]] if close else None)


@dataclass(frozen=True)
class EventSource:
    """What differs between two event sources."""

    name: str  # batch source, e.g. ``pm``
    label: str  # French, e.g. « Police municipale »
    fields: tuple[Field, ...]
    extra_fields: tuple[str, ...]  # text fields staged as they are, for ``insert_sql``
    classify: Callable[[Connection, list[str]], dict[str, Classified]]
    # INSERT … SELECT … FROM ({events}) e ON CONFLICT DO NOTHING, ``{events}`` being the validated rows with
    # occurred_at, time_known, label, label_key, type_code, family_code, place, geom, geocoding_status,
    # geocoding_score, record_id, natural_key, the extra fields, and :batch_id bound.
    insert_sql: str
    # Shown on a row without a label, and when neither address nor coordinates are mapped.
    missing_label: str = "nature de l'intervention absente ; renseignez-la (par ex. « Tapage nocturne »)"
    nothing_placed: str = "aucune intervention ne pourrait être placée"
    label_fallback: str | None = None  # field whose value stands in for an empty label (e.g. an index)
    # Large batches: ``bulk_select_sql`` gives the validated rows (``{events}``) under the columns of
    # ``bulk_table``, plus ``line``, ``{batch_id}`` standing for the batch; inserted by the table owner's
    # ``<table>_bulk_insert()`` (see :func:`ingest.staging.bulk_insert`).
    bulk_table: str | None = None
    bulk_select_sql: str | None = None

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


def check_mapping(source: EventSource, header: Sequence[str], index: dict[str, int]) -> None:
    """Refuse a mapping that lacks what every row needs, naming the field and the file's columns."""
    missing = [f for f in source.fields if f.required and f.name not in index]
    if missing:
        raise InputFileError(
            "Colonnes obligatoires non trouvées : " + ", ".join(f"« {f.label} »" for f in missing)
            + f". Colonnes du fichier : {', '.join(h for h in header if h)}. Indiquez la correspondance "
            "(profil de correspondance, ou --mapping) ou renommez les colonnes comme dans le modèle.")
    if ("x" in index) != ("y" in index):
        raise InputFileError("Une seule colonne de coordonnées est associée : associez X et Y (ou longitude "
                             "et latitude), ou aucune des deux.")
    if "address" not in index and "x" not in index:
        raise InputFileError("Ni adresse ni coordonnées : associez une colonne « Adresse » (ou « Lieu ») ou les "
                             f"colonnes X et Y, sinon {source.nothing_placed}.")


class _Parsers:
    """Date, time and number parsing with one cache per distinct string (exports repeat them a lot)."""

    def __init__(self) -> None:
        self.dates: dict[str, str | Exception] = {}
        self.times: dict[str, str | Exception] = {}
        self.latest = date.today() + timedelta(days=1)

    def day(self, raw: str) -> str | Exception:
        try:
            return self.dates[raw]
        except KeyError:
            pass
        try:
            value = reading.parse_date(raw)
            assert value is not None
            if not EARLIEST <= value <= self.latest:
                result: str | Exception = ValueError(
                    f"date hors de la période plausible ({EARLIEST.year} à aujourd'hui) ; vérifiez l'année")
            else:
                result = value.isoformat()
        except ValueError:
            result = ValueError("date non reconnue ; écrivez-la jj/mm/aaaa (par ex. 14/07/2024) ou aaaa-mm-jj")
        self.dates[raw] = result
        return result

    def hour(self, raw: str) -> str | Exception:
        try:
            return self.times[raw]
        except KeyError:
            pass
        try:
            value = reading.parse_time(raw)
            assert value is not None
            result: str | Exception = value.strftime("%H:%M:%S")
        except ValueError:
            result = ValueError("heure non reconnue ; écrivez-la HH:MM ou HHhMM (par ex. 22:15 ou 22h15)")
        self.times[raw] = result
        return result


def _number(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        value = reading.parse_decimal(raw)
        if value is None:
            raise
        return value


def _srid(x: float, y: float, crs: str) -> int | str:
    """EPSG code of a point, or the French reason it is refused."""
    wgs = -180 <= x <= 180 and -90 <= y <= 90
    l93 = 100_000 <= x <= 1_300_000 and 6_000_000 <= y <= 7_200_000
    if wgs and crs != "lambert93":
        if 41 <= x <= 52 and -6 <= y <= 10:
            return "longitude et latitude semblent inversées ; échangez les colonnes X et Y"
        return WGS84
    if l93 and crs != "wgs84":
        return LAMBERT93
    expected = {"wgs84": "longitude/latitude en degrés (WGS84)", "lambert93": "X/Y Lambert-93 en mètres"}.get(
        crs, "longitude/latitude en degrés (WGS84) ou X/Y Lambert-93 en mètres")
    return f"coordonnées hors de France dans le système attendu ; attendu : {expected}"


def _stage(conn: Connection, source: EventSource, table: Table, index: dict[str, int], crs: str,
           report: ImportReport, progress: Progress | None) -> None:
    """Stream the rows into ``ev_stage``, checking each one; bad rows are reported, not staged."""
    extras = source.extra_fields
    columns = [("line", "int"), ("occurred_at", "timestamp"), ("time_known", "bool"), ("label", "text"),
               ("address", "text"), ("x", "float8"), ("y", "float8"), ("srid", "int"), ("record_id", "text")]
    columns += [(name, "text") for name in extras]
    header = table.header
    names = {name: header[i] for name, i in index.items()}
    skip = {index[n] for n in ("date", "time", "x", "y") if n in index}
    guard = privacy.ContentGuard(header, skip=skip)
    parse = _Parsers()
    get = {name: index.get(name) for name in CORE_FIELDS}
    i_date, i_time, i_label, i_addr, i_x, i_y, i_id = (get[n] for n in CORE_FIELDS)
    i_extras = [index.get(name) for name in extras]
    i_fallback = index.get(source.label_fallback) if source.label_fallback else None
    width = len(header)
    counts = {WGS84: 0, LAMBERT93: 0}
    raw = conn.connection.driver_connection
    on_position = (lambda share: progress("lecture", share)) if progress else None
    with raw.cursor() as cur:
        cur.execute("CREATE TEMP TABLE ev_stage (" + ", ".join(f"{n} {t}" for n, t in columns) + ") ON COMMIT DROP")
        with cur.copy("COPY ev_stage FROM STDIN") as copy:
            for line, row in table.rows(on_position):
                report.rows_read += 1
                if len(row) < width:
                    row = row + [""] * (width - len(row))
                guard.check(line, row)
                bad = False
                when = row[i_date].strip() if i_date is not None else ""
                if not when:
                    report.error(line, names["date"], None, "date absente ; renseignez la date (jj/mm/aaaa)")
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
                            report.error(line, names["x"] if not _is_number(rx) else names["y"], f"{rx} ; {ry}",
                                         "coordonnée absente ou non numérique ; renseignez X et Y avec un nombre "
                                         "(virgule ou point décimal), ou laissez les deux vides")
                            bad = True
                        else:
                            if x == 0 and y == 0:  # some software writes 0;0 for "no position"
                                x = y = None
                            else:
                                found = _srid(x, y, crs)
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
                values = [line, stamp, hour is not None, label[:300],
                          row[i_addr].strip()[:300] if i_addr is not None else None,
                          x, y, srid, row[i_id].strip()[:100] if i_id is not None and row[i_id].strip() else None]
                values += [row[i].strip()[:150] or None if i is not None else None for i in i_extras]
                copy.write_row(values)
    report.extra["systemes_coordonnees"] = {"WGS84": counts[WGS84], "Lambert-93": counts[LAMBERT93]}


def _stage_columns(conn: Connection, source: EventSource, data: columnar.Columns, header: list[str],
                   index: dict[str, int], crs: str, report: ImportReport, progress: Progress | None) -> None:
    """What :func:`_stage` does, over whole columns of a regular export: the same rows are refused with the same
    errors, the same values staged. Each distinct date, time or label is checked once, numbers and
    coordinates at C speed, and the rows go to ``ev_stage`` in one CSV ``COPY``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

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

    # Rows of blanks only are skipped, as the row reader skips them.
    when = stripped("date")
    blank = np.zeros(n, dtype=bool)
    maybe = np.flatnonzero(is_empty(when))
    if len(maybe):
        picked = pa.array(maybe)
        joined = pc.binary_join_element_wise(*[columnar.plain(c.take(picked)) for c in cols], "")
        results, codes = columnar.by_distinct(joined, lambda v: not v.strip())
        blank[maybe] = np.array(results, dtype=bool)[codes]
    keep = ~blank
    report.rows_read += int(keep.sum())
    skip = {index[f] for f in ("date", "time", "x", "y") if f in index}
    privacy.first_violation(header, cols, lines, skip=skip, ignore=blank)
    if progress:
        progress("lecture", 0.5)

    parse = _Parsers()
    errors: list[tuple[int, int, str | None, str | None, str]] = []  # (row, order in the row, column, value, reason)

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
        errors.append((int(r), 0, names["date"], None, "date absente ; renseignez la date (jj/mm/aaaa)"))
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
        hour = pc.if_else(pa.array(from_time_column), pa.array([text(h) for h in hours], pa.string()).take(
            pa.array(h_codes)), hour)
        hour_bad = np.where(from_time_column, np.array([isinstance(h, Exception) for h in hours], dtype=bool)[h_codes],
                            hour_bad)
    hour = pc.if_else(pa.array(when_empty), pa.nulls(n, pa.string()), hour)
    for r in np.flatnonzero(hour_bad & ~when_empty & keep):
        raw_time = hour_raw[int(r)].as_py() if from_time_column[r] else dates[d_codes[r]][1]
        errors.append((int(r), 1, names["time" if from_time_column[r] else "date"], raw_time,
                       str(parse.hour(raw_time))))

    label = stripped("label")
    if source.label_fallback and source.label_fallback in column:
        label = pc.if_else(pc.equal(label, ""), stripped(source.label_fallback), label)
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
            errors.append((int(r), 3, names["x"] if not x_ok[r] else names["y"], pair,
                           "coordonnée absente ou non numérique ; renseignez X et Y avec un nombre "
                           "(virgule ou point décimal), ou laissez les deux vides"))
        placed = given & ~unreadable & ~((x == 0) & (y == 0))  # some software writes 0;0 for "no position"
        with np.errstate(invalid="ignore"):
            wgs = (-180 <= x) & (x <= 180) & (-90 <= y) & (y <= 90)
            l93 = (100_000 <= x) & (x <= 1_300_000) & (6_000_000 <= y) & (y <= 7_200_000)
            as_wgs = placed & wgs & (crs != "lambert93")
            swapped = as_wgs & (41 <= x) & (x <= 52) & (-6 <= y) & (y <= 10)
        as_l93 = placed & ~as_wgs & l93 & (crs != "wgs84")
        srid[as_wgs & ~swapped] = WGS84
        srid[as_l93] = LAMBERT93
        outside = placed & ~as_wgs & ~as_l93
        for r in np.flatnonzero((swapped | outside) & keep):
            reason = _srid(float(x[r]), float(y[r]), crs)
            errors.append((int(r), 3, names["x"], f"{rx[int(r)].as_py()} ; {ry[int(r)].as_py()}", str(reason)))
        srid[~keep] = 0
    bad = np.zeros(n, dtype=bool)
    errors.sort(key=lambda e: (e[0], e[1]))
    for r, _, name, value, reason in errors:
        report.error(int(lines[r]), name, value, reason)
        bad[r] = True
    report.rejected += int((bad & keep).sum())
    good = keep & ~bad
    # As the row reader counts them: every readable position, the row refused for another reason or not.
    counts[WGS84] = int((srid[keep] == WGS84).sum())
    counts[LAMBERT93] = int((srid[keep] == LAMBERT93).sum())
    if progress:
        progress("lecture", 0.8)

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
    buffer = io.BytesIO()
    pa_csv.write_csv(pa.table(staged), buffer, pa_csv.WriteOptions(include_header=False, quoting_style="all_valid"))
    columns = [("line", "int"), ("occurred_at", "timestamp"), ("time_known", "bool"), ("label", "text"),
               ("address", "text"), ("x", "float8"), ("y", "float8"), ("srid", "int"), ("record_id", "text")]
    columns += [(name, "text") for name in extras]
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute("CREATE TEMP TABLE ev_stage (" + ", ".join(f"{c} {t}" for c, t in columns) + ") ON COMMIT DROP")
        with cur.copy("COPY ev_stage FROM STDIN (FORMAT csv)") as copy:
            view = buffer.getbuffer()
            for start in range(0, len(view), 1 << 20):
                copy.write(view[start:start + (1 << 20)])
            view.release()
    report.extra["systemes_coordonnees"] = {"WGS84": counts[WGS84], "Lambert-93": counts[LAMBERT93]}


def _or_null(array):
    import pyarrow.compute as pc

    return pc.if_else(pc.equal(array, ""), None, array)


def _is_number(raw: str) -> bool:
    try:
        _number(raw)
        return True
    except ValueError:
        return False


def _copy(conn: Connection, table: str, columns: str, rows: list[tuple]) -> None:
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {table} ({columns}) ON COMMIT DROP")
        with cur.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _labels(conn: Connection, source: EventSource, report: ImportReport) -> None:
    stats = conn.execute(sa.text(
        "SELECT label, count(*) AS n, min(line) AS first FROM ev_stage GROUP BY label")).all()
    found = source.classify(conn, [r.label for r in stats])
    rows, unknown = [], []
    for r in stats:
        c = found.get(r.label) or Classified(None, None)
        rows.append((r.label, reading.normalise_header(r.label) or r.label.lower(), c.type_code, c.family_code))
        if c.type_code is None:
            unknown.append({"libelle": r.label, "lignes": r.n, "premiere_ligne": r.first, "suggestion": c.suggestion})
    _copy(conn, "ev_label", "label text, label_key text, type_code text, family_code text", rows)
    if unknown:
        unknown.sort(key=lambda u: -u["lignes"])
        report.extra["libelles_inconnus"] = unknown[:LISTED_MAX]
        report.warnings.append(
            f"{len(unknown)} libellé(s) absent(s) de la nomenclature, gardé(s) « non classé(s) » : "
            + "; ".join(f"« {u['libelle']} » ({u['lignes']} ligne(s))"
                        + (f", peut-être « {u['suggestion']} »" if u["suggestion"] else "") for u in unknown[:10])
            + ". Un analyste peut les rattacher à un type (nomenclature).")


def _places(conn: Connection, geocoder: Geocoder | None, report: ImportReport, progress: Progress | None) -> None:
    stats = conn.execute(sa.text(
        "SELECT address, bool_or(x IS NULL) AS needed FROM ev_stage WHERE address IS NOT NULL AND address <> '' "
        "GROUP BY address")).all()
    name = geocoder.commune_name if geocoder else None
    rows = []
    for i, r in enumerate(stats):
        parsed = normalise_address(r.address, name)
        place = parsed.text or r.address.lower()
        match = geocoder.match(r.address) if (geocoder and r.needed) else None
        rows.append((r.address, place, reading.normalise_header(place),
                     match.lon if match else None, match.lat if match else None, match.score if match else None))
        if progress and i % 5000 == 0:
            progress("geocodage", i / max(len(stats), 1))
    _copy(conn, "ev_place", "address text, place text, place_key text, lon float8, lat float8, score float8", rows)
    if geocoder is None or not len(geocoder):
        report.warnings.append("La Base Adresse Nationale de la commune n'est pas chargée (observatoire import ban) : "
                               "les adresses sans coordonnées restent non géolocalisées.")


def events_select(extra_fields: Sequence[str]) -> str:
    """The validated rows, ready for a source's INSERT."""
    extras = "".join(f", s.{name}" for name in extra_fields)
    return f"""
        SELECT s.line, s.occurred_at, s.time_known, s.label, l.label_key, l.type_code, l.family_code,
               p.place,
               CASE WHEN s.srid = {LAMBERT93} THEN ST_Transform(ST_SetSRID(ST_MakePoint(s.x, s.y), {LAMBERT93}), {WGS84})
                    WHEN s.srid = {WGS84} THEN ST_SetSRID(ST_MakePoint(s.x, s.y), {WGS84})
                    WHEN p.lon IS NOT NULL THEN ST_SetSRID(ST_MakePoint(p.lon, p.lat), {WGS84}) END AS geom,
               CASE WHEN s.srid IS NOT NULL THEN 'coordonnees' WHEN p.lon IS NOT NULL THEN 'geocode'
                    ELSE 'non_geolocalise' END AS geocoding_status,
               CASE WHEN s.srid IS NULL THEN p.score END AS geocoding_score,
               s.record_id,
               CASE WHEN s.record_id IS NOT NULL THEN 'n:' || s.record_id
                    ELSE 'k:' || to_char(s.occurred_at, 'YYYY-MM-DD"T"HH24:MI') || '|' || l.label_key || '|'
                         || COALESCE(p.place_key, s.x::text || ',' || s.y::text, '') END AS natural_key
               {extras}
        FROM ev_stage s JOIN ev_label l ON l.label = s.label LEFT JOIN ev_place p ON p.address = s.address"""


def _warnings(conn: Connection, report: ImportReport, commune: str) -> None:
    rows = conn.execute(sa.text(
        "SELECT line FROM ev_stage s LEFT JOIN ev_place p ON p.address = s.address "
        "WHERE s.srid IS NULL AND p.lon IS NULL ORDER BY line")).scalars().all()
    report.extra["non_geolocalises"] = len(rows)
    if rows:
        report.extra["lignes_non_geolocalisees"] = rows[:LISTED_MAX]
        report.warnings.append(
            f"{len(rows)} ligne(s) non géolocalisée(s) (adresse absente ou introuvable dans la BAN) : gardées, "
            f"comptées dans les statistiques mais absentes des cartes. Lignes : "
            + ", ".join(map(str, rows[:30])) + (" …" if len(rows) > 30 else ""))
    has_outline = conn.execute(sa.text("SELECT geom IS NOT NULL FROM obs.territory WHERE code = :c"),
                               {"c": f"COM:{commune}"}).scalar()
    if not has_outline:
        report.extra["controle_commune"] = "contour de la commune non chargé : positions non contrôlées"
        return
    outside = conn.execute(sa.text(f"""
        SELECT s.line FROM ev_stage s LEFT JOIN ev_place p ON p.address = s.address,
             (SELECT geom FROM obs.territory WHERE code = :c) t
        WHERE (s.srid IS NOT NULL OR p.lon IS NOT NULL) AND NOT ST_Covers(t.geom,
              CASE WHEN s.srid = {LAMBERT93} THEN ST_Transform(ST_SetSRID(ST_MakePoint(s.x, s.y), {LAMBERT93}), {WGS84})
                   WHEN s.srid = {WGS84} THEN ST_SetSRID(ST_MakePoint(s.x, s.y), {WGS84})
                   ELSE ST_SetSRID(ST_MakePoint(p.lon, p.lat), {WGS84}) END)
        ORDER BY s.line"""), {"c": f"COM:{commune}"}).scalars().all()
    report.extra["hors_commune"] = len(outside)
    if outside:
        report.extra["lignes_hors_commune"] = outside[:LISTED_MAX]
        report.warnings.append(f"{len(outside)} point(s) hors de la commune (gardés ; vérifiez les coordonnées) : "
                               "lignes " + ", ".join(map(str, outside[:30])) + (" …" if len(outside) > 30 else ""))


def load_events(conn: Connection, batch_id: int, report: ImportReport, *, source: EventSource, table: Table,
                index: dict[str, int], mapping: ColumnMapping, commune: str, geocoder: Geocoder | None,
                accept_valid: bool, progress: Progress | None = None) -> None:
    """The loader given to :func:`observatoire.batches.run_import`."""
    # The staging tables have no statistics: their estimates would make every query compile itself (JIT), which
    # costs more than the query on an import.
    conn.exec_driver_sql("SET LOCAL jit = off")
    report.extra["correspondance"] = {name: table.header[i] for name, i in index.items()}
    report.extra["format"] = {"type": table.kind, "encodage": table.encoding, "separateur": table.separator,
                              "ligne_en_tete": table.header_line}
    with staging.timed(report, "lecture"):
        data = columnar.read_regular(table)
        if data is not None:
            _stage_columns(conn, source, data, table.header, index, mapping.crs, report, progress)
        else:
            _stage(conn, source, table, index, mapping.crs, report, progress)
    if progress:
        progress("validation", 0.0)
    with staging.timed(report, "libelles"):
        _labels(conn, source, report)
    with staging.timed(report, "adresses"):
        _places(conn, geocoder, report, progress)
    with staging.timed(report, "controles"):
        _warnings(conn, report, commune)
    if report.errors_total and not accept_valid:
        return  # run_import refuses the whole file; no need to write what will be rolled back
    if progress:
        progress("ecriture", 0.0)
    staged = report.rows_read - report.rejected
    events = events_select(source.extra_fields)
    with staging.timed(report, "ecriture"):
        if source.bulk_table and source.bulk_select_sql and staging.bulk_worthwhile(conn, source.bulk_table, staged):
            report.inserted = staging.bulk_insert(
                conn, source.bulk_table, source.bulk_select_sql.format(events=events, batch_id=int(batch_id)))
        else:
            result = conn.execute(sa.text(source.insert_sql.format(events=events)), {"batch_id": batch_id})
            report.inserted = result.rowcount
    report.duplicates = staged - report.inserted
    if progress:
        progress("ecriture", 1.0)
