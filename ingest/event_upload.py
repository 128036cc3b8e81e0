"""Uploading an export of dated, placed events, whatever the source: preview, mapping profiles, validation
(dry run) and the all-or-nothing commit with the personal-data guard, geocoding and deduplication.

A source module (police municipale, police nationale facts…) describes itself with an
:class:`ingest.event_exports.EventSource` and calls these functions with it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine

from ingest import privacy, profiles, tabular
from ingest.event_exports import EventSource, Progress, check_mapping, load_events, strict_columns
from ingest.geocoding import load_geocoder
from ingest.tabular import ColumnMapping, Preview
from observatoire.errors import PersonalDataRefused
from observatoire.imports.batches import ImportReport, run_import

MappingArg = ColumnMapping | dict[str, Any] | str | None
# A source may adjust the resolved columns (field name → column index) before the checks.
IndexHook = Callable[[dict[str, int]], dict[str, int]]


def preview(source: EventSource, path: Path, n: int = 10, sheet: str | None = None) -> Preview:
    """Header, first rows, detected format and proposed mapping (field → (column, confidence)).

    A nominative header or value refuses the file here already, so the page never displays it; the header is
    checked before any row is read.
    """
    table = tabular.open_export(path, source.fields, sheet)
    privacy.check_header(table.header)
    result = tabular.preview_table(table, source.fields, n=n)
    proposed = {name: result.header.index(column) for name, (column, _) in result.proposal.items()}
    guard = privacy.ContentGuard(result.header, strict=strict_columns(source, proposed))
    for i, row in enumerate(result.rows, start=result.header_line + 1):
        guard.check(i, row)
    guard.finish()
    return result


def mapping_from(engine: Engine, source: EventSource, mapping: MappingArg) -> ColumnMapping | None:
    """A mapping given as an object, a dict, or the name of a profile saved for this source."""
    if mapping is None or isinstance(mapping, ColumnMapping):
        return mapping
    if isinstance(mapping, str):
        return profiles.load_profile(engine, source.name, mapping)
    return ColumnMapping.from_dict(mapping)


def commit(
    engine: Engine,
    source: EventSource,
    path: Path,
    *,
    mapping: MappingArg = None,
    user: str | None = None,
    accept_valid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    commune: str | None = None,
    adjust_index: IndexHook | None = None,
) -> ImportReport:
    """Validate and import an export in one transaction; see :func:`validate` for a dry run."""
    path = Path(path)
    if commune is None:
        from observatoire.settings import get_settings

        commune = get_settings().commune
    chosen = mapping_from(engine, source, mapping)
    try:
        table = tabular.open_export(path, source.fields, chosen.sheet if chosen else None)
        privacy.check_header(table.header)
        index = tabular.resolve(table.header, source.fields, chosen)
        if adjust_index is not None:
            index = adjust_index(index)
        check_mapping(source, table.header, index)

        def load(conn: Connection, batch_id: int, report: ImportReport) -> None:
            geocoder = load_geocoder(conn, commune)
            load_events(
                conn,
                batch_id,
                report,
                source=source,
                table=table,
                index=index,
                mapping=chosen or ColumnMapping(),
                commune=commune,
                geocoder=geocoder,
                accept_valid=accept_valid,
                progress=progress,
                dry_run=dry_run,
            )

        return run_import(
            engine, source.name, path, load, user=user, accept_valid=accept_valid, dry_run=dry_run
        )
    except PersonalDataRefused as exc:
        from observatoire import audit

        # The refusal is logged by file name and rule only: the message holds no value of the file.
        audit.record_now(
            engine,
            "import_refuse",
            user_login=user,
            target=source.name,
            detail={"fichier": path.name, "motif": exc.message},
        )
        raise


def validate(
    engine: Engine,
    source: EventSource,
    path: Path,
    mapping: MappingArg = None,
    *,
    user: str | None = None,
    progress: Progress | None = None,
    commune: str | None = None,
    adjust_index: IndexHook | None = None,
) -> ImportReport:
    """Everything :func:`commit` checks, nothing kept: the full report, errors included, never raised."""
    report = commit(
        engine,
        source,
        path,
        mapping=mapping,
        user=user,
        accept_valid=True,
        dry_run=True,
        progress=progress,
        commune=commune,
        adjust_index=adjust_index,
    )
    report.extra["refuse_sans_acceptation"] = report.errors_total > 0
    return report


def save_used_mapping(
    engine: Engine, source: EventSource, path: Path, mapping: MappingArg, name: str, user: str | None = None
) -> ColumnMapping:
    """Save as profile ``name`` the mapping given, or the one proposed for the file's header."""
    chosen = mapping_from(engine, source, mapping)
    if chosen is None:
        header = tabular.open_export(path, source.fields).header
        proposal = tabular.propose_mapping(header, source.fields)
        chosen = ColumnMapping({field: column for field, (column, _) in proposal.items()})
    profiles.save_profile(engine, source.name, name, chosen, user=user)
    return chosen
