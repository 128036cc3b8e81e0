"""Import of the ONISR BAAC files: ``COPY`` into a temporary table, checks in SQL, one insert per table.

One batch per file. Files are taken in table order (accidents first) so that places, vehicles and users
always find their accident; a re-import adds nothing (accident number and per-table natural keys).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ingest import baac_formats as fmt
from ingest.reading import open_table
from ingest.staging import copy_rows
from observatoire import geo_codes
from observatoire.errors import InputFileError
from observatoire.geo_codes import TerritoryCode
from observatoire.imports.batches import (
    MAX_ERRORS_KEPT,
    ImportReport,
    ImportSession,
    import_session,
    run_import,
)
from observatoire.road.scope import Scope, parse_scope
from observatoire.territories import ensure_territories

log = logging.getLogger(__name__)

SOURCE = "onisr-baac"
_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz")

_STAGE_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "caracteristiques": [
        ("line", "int"),
        ("id", "bigint"),
        ("year", "smallint"),
        ("accident_date", "date"),
        ("accident_time", "time"),
        ("lighting", "smallint"),
        ("built_up", "smallint"),
        ("intersection", "smallint"),
        ("weather", "smallint"),
        ("collision", "smallint"),
        ("commune_insee", "text"),
        ("departement", "text"),
        ("region", "text"),
        ("address", "text"),
        ("lat", "float8"),
        ("lon", "float8"),
    ],
    "lieux": [
        ("line", "int"),
        ("accident_id", "bigint"),
        ("road_category", "smallint"),
        ("road_number", "text"),
        ("traffic_regime", "smallint"),
        ("lanes", "smallint"),
        ("reserved_lane", "smallint"),
        ("profile", "smallint"),
        ("layout", "smallint"),
        ("surface", "smallint"),
        ("infrastructure", "smallint"),
        ("situation", "smallint"),
        ("speed_limit", "smallint"),
    ],
    "vehicules": [
        ("line", "int"),
        ("accident_id", "bigint"),
        ("vehicle_letter", "text"),
        ("vehicle_ref", "text"),
        ("direction", "smallint"),
        ("category", "smallint"),
        ("fixed_obstacle", "smallint"),
        ("mobile_obstacle", "smallint"),
        ("impact", "smallint"),
        ("manoeuvre", "smallint"),
        ("motor", "smallint"),
    ],
    "usagers": [
        ("line", "int"),
        ("accident_id", "bigint"),
        ("rank_in_accident", "smallint"),
        ("vehicle_letter", "text"),
        ("vehicle_ref", "text"),
        ("user_ref", "text"),
        ("seat", "smallint"),
        ("category", "smallint"),
        ("gravity", "smallint"),
        ("birth_year", "smallint"),
        ("trip_purpose", "smallint"),
    ],
}
# Target table and natural key of each BAAC table.
_TARGET = {
    "caracteristiques": ("road_accident", ("id",)),
    "lieux": ("road_place", ("accident_id",)),
    "vehicules": ("road_vehicle", ("accident_id", "vehicle_letter")),
    "usagers": ("road_user", ("accident_id", "rank_in_accident")),
}


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files given, and the BAAC-looking files of folders given."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(
                sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(_SUFFIXES))
            )
        elif path.is_file():
            found.append(path)
        else:
            raise InputFileError(f"{path} : fichier ou dossier introuvable.")
    if not found:
        raise InputFileError("Aucun fichier BAAC (.csv ou .csv.gz) trouvé dans les chemins donnés.")
    return found


def plan_files(paths: Sequence[Path]) -> list[fmt.BaacFile]:
    """Recognise every file first (refusing altered or unknown ones before anything is written), then
    order them accidents → places → vehicles → users."""
    described = [
        fmt.describe(open_table(p, expected={"num_acc", "accident_id"})) for p in collect_files(paths)
    ]
    return sorted(described, key=lambda f: fmt.TABLES.index(f.kind))


def import_scope(territory: str | None) -> Scope:
    """The accidents an import keeps: a commune, a département, a région or France (BAAC rows carry no
    infra-communal zone)."""
    return parse_scope(territory, ("COM", "DEP", "REG", "FRA"))


def import_baac_file(
    engine: Engine,
    f: fmt.BaacFile,
    scope: Scope,
    *,
    user: str | None = None,
    accept_valid: bool = False,
    dry_run: bool = False,
    session: ImportSession | None = None,
) -> ImportReport:
    """One file, one batch, one transaction. The files of a set share a ``session`` (:func:`import_baac`):
    a dry run of the places, vehicles and users then finds the accidents the dry run of their year would
    write, as their import finds those the import wrote."""

    def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
        _load_file(conn, batch_id, report, f, scope)

    return run_import(
        engine,
        SOURCE,
        f.table.path,
        load,
        user=user,
        accept_valid=accept_valid,
        dry_run=dry_run,
        session=session,
    )


def import_baac(
    engine: Engine,
    paths: Sequence[Path],
    *,
    territory: str | None = None,
    user: str | None = None,
    accept_valid: bool = False,
    dry_run: bool = False,
) -> list[ImportReport]:
    """Import BAAC files (any year, any layout); ``territory`` keeps one commune, département or région.

    Each file is all-or-nothing; a refused file stops the run (files already done stay imported). A dry run
    goes the same way, each file seeing what the files before it would have written; nothing is kept.
    """
    scope = import_scope(territory)
    files = plan_files(paths)
    with import_session(engine, dry_run=dry_run) as session:
        return [
            import_baac_file(
                engine, f, scope, user=user, accept_valid=accept_valid, dry_run=dry_run, session=session
            )
            for f in files
        ]


def _load_file(conn: Connection, batch_id: int, report: ImportReport, f: fmt.BaacFile, scope: Scope) -> None:
    report.extra.update(
        table=f.kind,
        format="avant 2019"
        if f.legacy and f.kind == "caracteristiques"
        else ("2019 et après" if f.kind == "caracteristiques" else None),
        territoire=scope.code,
    )
    stage = f"stage_baac_{f.kind}"
    communes: set[str] = set()
    if f.kind == "caracteristiques":
        rows = fmt.accident_rows(f, report, scope, communes)
    else:
        rows = {"lieux": fmt.place_rows, "vehicules": fmt.vehicle_rows, "usagers": fmt.user_rows}[f.kind](
            f, report
        )
    copy_rows(conn, stage, _STAGE_COLUMNS[f.kind], rows)
    table, key = _TARGET[f.kind]
    conn.execute(sa.text(f"ANALYZE {stage}"))
    _refuse_duplicates(conn, stage, key, report)
    if f.kind == "caracteristiques":
        ensure_territories(
            conn, {str(TerritoryCode("COM", c)) for c in communes if geo_codes.is_commune_code(c)}
        )
        joined = ""
    else:
        _check_accidents_known(conn, stage, scope, report)
        joined = "JOIN obs.road_accident a ON a.id = s.accident_id"
    # Refused rows (in-file duplicates, unknown accidents) leave the stage, so the insert needs no sort or
    # join: on a national year that halves its time.
    conn.execute(
        sa.text(f"DELETE FROM {stage} WHERE line = ANY(:lines)"), {"lines": report.extra.pop("_drop", [])}
    )
    conn.execute(sa.text(f"ANALYZE {stage}"))
    names = [n for n, _ in _STAGE_COLUMNS[f.kind] if n not in ("line", "lat", "lon")]
    select = ", ".join(f"s.{n}" for n in names)
    if f.kind == "caracteristiques":
        names.append("geom")
        select += ", CASE WHEN s.lat IS NOT NULL THEN ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) END"
    inserted = conn.execute(
        sa.text(f"""
        INSERT INTO obs.{table} ({", ".join(names)}, batch_id)
        SELECT {select}, :batch FROM {stage} s ON CONFLICT DO NOTHING"""),
        {"batch": batch_id},
    ).rowcount
    staged = conn.execute(sa.text(f"SELECT count(*) FROM {stage}")).scalar_one()
    report.inserted = inserted
    report.duplicates = staged - inserted
    year = "s.year" if f.kind == "caracteristiques" else "a.year"
    conn.execute(
        sa.text(f"""
        INSERT INTO obs.road_file (year, table_name, scope, rows, batch_id)
        SELECT {year}, :kind, :scope, count(*), :batch FROM {stage} s {joined} GROUP BY {year}"""),
        {"kind": f.kind, "scope": scope.code, "batch": batch_id},
    )
    report.extra["annees"] = conn.execute(
        sa.text("SELECT array_agg(year ORDER BY year) FROM obs.road_file WHERE batch_id = :b"),
        {"b": batch_id},
    ).scalar()


def _add_sql_errors(
    conn: Connection, sql: str, params: dict, column: str, message: str, report: ImportReport
) -> int:
    """Report rows found by ``sql`` (columns line, value), the first ones in detail, and count them."""
    found = conn.execute(sa.text(f"{sql} ORDER BY 1"), params).all()
    for line, value in found[:MAX_ERRORS_KEPT]:
        report.error(line, column, value, message)
    report.errors_total += max(0, len(found) - MAX_ERRORS_KEPT)
    report.rejected += len(found)
    report.extra.setdefault("_drop", []).extend(line for line, _ in found)
    return len(found)


def _refuse_duplicates(conn: Connection, stage: str, key: tuple[str, ...], report: ImportReport) -> int:
    cols = ", ".join(key)
    return _add_sql_errors(
        conn,
        f"""
        SELECT line, concat_ws(' / ', {cols}) FROM (
            SELECT line, {cols}, row_number() OVER (PARTITION BY {cols} ORDER BY line) AS n FROM {stage}) d
        WHERE n > 1""",
        {},
        "/".join(key),
        "ligne en double dans le fichier (même accident, même clé) : seule la première est gardée",
        report,
    )


def _check_accidents_known(conn: Connection, stage: str, scope: Scope, report: ImportReport) -> int:
    """Rows of places/vehicles/users need their accident. With a territory filter the others are dropped."""
    if scope.kind != "FRA":
        where, params = scope.predicate("a")
        outside = conn.execute(
            sa.text(f"""
            DELETE FROM {stage} s WHERE NOT EXISTS (
                SELECT 1 FROM obs.road_accident a WHERE a.id = s.accident_id AND {where})"""),
            params,
        ).rowcount
        report.extra["hors_territoire"] = outside
        return 0
    return _add_sql_errors(
        conn,
        f"""
        SELECT s.line, s.accident_id::text FROM {stage} s
        WHERE NOT EXISTS (SELECT 1 FROM obs.road_accident a WHERE a.id = s.accident_id)""",
        {},
        "Num_Acc",
        "accident absent de la base : importez d'abord le fichier caracteristiques de la même année "
        "(avec le même filtre de territoire), ou donnez les quatre fichiers ensemble",
        report,
    )
