"""Import batches: provenance, the report a person can act on, all-or-nothing commits."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire.db import allow_long_work
from observatoire.errors import ValidationFailed

log = logging.getLogger(__name__)

MAX_ERRORS_KEPT = 500  # a report listing 100,000 identical errors helps nobody


@dataclass
class RowError:
    line: int | None
    column: str | None
    value: str | None
    message: str


@dataclass
class ImportReport:
    source: str
    file_name: str
    rows_read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    batch_id: int | None = None
    status: str = "en_cours"
    extra: dict[str, Any] = field(default_factory=dict)
    errors_total: int = 0

    def error(self, line: int | None, column: str | None, value: Any, message: str) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(RowError(line, column, None if value is None else str(value)[:200], message))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [asdict(e) for e in self.errors]
        return data

    def summary(self) -> str:
        """One line; a dry run (``essai``) says what an import would add, and has no batch number."""
        if self.status == "essai":
            return (
                f"{self.file_name} (essai, rien n'est enregistré) : {self.rows_read} lignes lues, "
                f"{self.inserted} seraient ajoutées, {self.duplicates} déjà présentes, {self.rejected} rejetées"
            )
        return (
            f"{self.file_name} : {self.rows_read} lignes lues, {self.inserted} insérées, "
            f"{self.duplicates} déjà présentes, {self.rejected} rejetées"
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_BATCH = sa.table(
    "import_batch",
    sa.column("id"),
    sa.column("source"),
    sa.column("file_name"),
    sa.column("sha256"),
    sa.column("user_login"),
    sa.column("rows_read"),
    sa.column("inserted"),
    sa.column("duplicates"),
    sa.column("rejected"),
    sa.column("status"),
    sa.column("report", sa.JSON),
    sa.column("finished_at"),
    schema="obs",
)


def _insert_batch(conn: Connection, source: str, path: Path, sha: str, user: str | None) -> int:
    return conn.execute(
        sa.insert(_BATCH)
        .values(source=source, file_name=path.name, sha256=sha, user_login=user)
        .returning(_BATCH.c.id)
    ).scalar_one()


def _close_batch(conn: Connection, batch_id: int, report: ImportReport) -> None:
    conn.execute(
        sa.update(_BATCH)
        .where(_BATCH.c.id == batch_id)
        .values(
            rows_read=report.rows_read,
            inserted=report.inserted,
            duplicates=report.duplicates,
            rejected=report.rejected,
            status=report.status,
            report=report.to_dict(),
            finished_at=sa.func.now(),
        )
    )


def previous_import(conn: Connection, source: str, sha: str) -> int | None:
    return conn.execute(
        sa.select(_BATCH.c.id)
        .where(_BATCH.c.source == source, _BATCH.c.sha256 == sha, _BATCH.c.status == "importe")
        .order_by(_BATCH.c.id)
        .limit(1)
    ).scalar()


Loader = Callable[[Connection, int, ImportReport], None]


@dataclass
class ImportSession:
    """One connection for imports that build on each other (the accidents of a BAAC year, then its places,
    vehicles and users): see :func:`import_session`."""

    conn: Connection
    dry_run: bool


@contextmanager
def import_session(engine: Engine, *, dry_run: bool) -> Iterator[ImportSession]:
    """Imports run one after the other on one connection, each in its own transaction as alone. In a dry run,
    what each one would write stays visible to the next (a savepoint released), and all of it is rolled back
    at the end: the dry run of a set goes the import's way to its last step, and says what the import does."""
    with engine.connect() as conn:
        if not dry_run:
            yield ImportSession(conn, dry_run)
            return
        outer = conn.begin()
        try:
            yield ImportSession(conn, dry_run)
        finally:
            outer.rollback()


@contextmanager
def _transaction(engine: Engine, session: ImportSession | None) -> Iterator[Connection]:
    if session is None:
        with engine.begin() as conn:
            yield conn
    elif session.dry_run:
        with session.conn.begin_nested():
            yield session.conn
    else:
        with session.conn.begin():
            yield session.conn


def run_import(
    engine: Engine,
    source: str,
    path: Path,
    load: Loader,
    *,
    user: str | None = None,
    accept_valid: bool = False,
    dry_run: bool = False,
    session: ImportSession | None = None,
) -> ImportReport:
    """Run ``load`` inside one transaction with its batch row.

    ``load`` fills the report (counts, errors). Errors abort everything unless ``accept_valid``; a
    dry run always rolls back (within a ``session``, at the session's end). A refused import still leaves a
    batch row saying why (own transaction), so the list of imports tells the whole story.
    """
    if session is not None and session.dry_run != dry_run:
        raise ValueError("un essai ne peut pas se faire dans une session d'import réel, ni l'inverse")
    path = Path(path)
    report = ImportReport(source=source, file_name=path.name)
    sha = file_sha256(path)
    from observatoire import audit  # late: audit imports nothing from here, but keeps this module light

    try:
        with _transaction(engine, session) as conn:
            allow_long_work(conn)
            earlier = previous_import(conn, source, sha)
            if earlier:
                report.warnings.append(
                    f"Ce fichier a déjà été importé (lot n° {earlier}) : rien ne sera ajouté en double."
                )
            batch_id = _insert_batch(conn, source, path, sha, user)
            report.batch_id = batch_id
            load(conn, batch_id, report)
            if report.errors_total and not accept_valid:
                raise ValidationFailed(
                    f"Import refusé : {report.errors_total} erreur(s) dans {path.name}. Rien n'a été enregistré. "
                    "Corrigez le fichier ou relancez en acceptant les lignes valides.",
                    report=report,
                )
            report.status = "essai" if dry_run else "importe"
            _close_batch(conn, batch_id, report)
            if dry_run:
                if session is None:
                    conn.rollback()  # in a set, the session rolls everything back at its end
                report.batch_id = None  # rolled back: no batch bears this number
            else:
                audit.record(
                    conn,
                    "import",
                    user_login=user,
                    target=source,
                    batch_id=batch_id,
                    detail={
                        "fichier": path.name,
                        "inserees": report.inserted,
                        "doublons": report.duplicates,
                        "rejetees": report.rejected,
                    },
                )
    except ValidationFailed:
        report.status = "echec"
        report.inserted = 0
        report.batch_id = None
        if not dry_run:  # a dry run stores nothing, its refusal neither
            _record_failure(engine, source, path, sha, user, report)
        raise
    return report


def _record_failure(
    engine: Engine, source: str, path: Path, sha: str, user: str | None, report: ImportReport
) -> None:
    from observatoire import audit

    with engine.begin() as conn:
        batch_id = _insert_batch(conn, source, path, sha, user)
        report.batch_id = batch_id
        _close_batch(conn, batch_id, report)
        audit.record(
            conn,
            "import_refuse",
            user_login=user,
            target=source,
            batch_id=batch_id,
            detail={"fichier": path.name, "erreurs": report.errors_total},
        )
