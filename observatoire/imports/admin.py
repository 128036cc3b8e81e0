"""The list of imports with their reports, and undoing one import (its rows go, the batch stays)."""

from __future__ import annotations

import importlib
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import audit
from observatoire.db import allow_long_work
from observatoire.errors import NotFound, ObservatoireError, PermissionDenied
from observatoire.permissions import allowed
from observatoire.sources import SOURCES

# batch name → tables whose rows an import of that source inserted (batch_id). Sources whose imports update
# shared reference rows in place (territories, populations) are not undoable this way and are absent.
UNDO_TABLES: dict[str, tuple[str, ...]] = {
    b: s.undo_tables for s in SOURCES if s.undo_tables for b in s.batches
}
# batch name → "module:function" telling why an undo is refused (rows elsewhere refer to the import's rows)
UNDO_CHECKS: dict[str, str] = {b: s.undo_check for s in SOURCES if s.undo_check for b in s.batches}

STATUS_LABELS = {
    "en_cours": "en cours",
    "importe": "importé",
    "echec": "refusé",
    "annule": "annulé",
    "essai": "essai",
}

_COLUMNS = [
    "id",
    "source",
    "file_name",
    "user_login",
    "rows_read",
    "inserted",
    "duplicates",
    "rejected",
    "status",
    "started_at",
    "finished_at",
]


def list_imports(engine: Engine, source: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Most recent first; ``status_label`` is the French status."""
    query = f"SELECT {', '.join(_COLUMNS)} FROM obs.import_batch"
    params: dict[str, Any] = {"n": limit}
    if source:
        query += " WHERE source = :s"
        params["s"] = source
    with engine.connect() as conn:
        rows = conn.execute(sa.text(query + " ORDER BY id DESC LIMIT :n"), params).mappings().all()
    frame = pd.DataFrame(rows, columns=_COLUMNS)
    frame["status_label"] = frame["status"].map(STATUS_LABELS)
    return frame


def import_report(engine: Engine, batch_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        report = conn.execute(
            sa.text("SELECT report FROM obs.import_batch WHERE id = :b"), {"b": batch_id}
        ).scalar()
    if report is None:
        raise NotFound(f"Lot d'import n° {batch_id} introuvable.")
    return report


def undo_import(engine: Engine, batch_id: int, *, user: str | None = None, role: str | None = None) -> int:
    """Delete the rows of one import, mark it ``annule`` and log it, in one transaction.

    Returns the number of rows deleted. ``role``, when given, must hold ``imports.annuler``.
    """
    if role is not None and not allowed(role, "imports.annuler"):
        raise PermissionDenied("Votre rôle ne permet pas d'annuler un import.")
    with engine.begin() as conn:
        allow_long_work(conn)  # a batch of a million rows
        batch = conn.execute(
            sa.text("SELECT source, file_name, status FROM obs.import_batch WHERE id = :b FOR UPDATE"),
            {"b": batch_id},
        ).first()
        if batch is None:
            raise NotFound(f"Lot d'import n° {batch_id} introuvable.")
        if batch.status != "importe":
            raise ObservatoireError(
                f"Le lot n° {batch_id} ne peut pas être annulé : son état est "
                f"« {STATUS_LABELS.get(batch.status, batch.status)} » (seul un import réussi s'annule)."
            )
        tables = UNDO_TABLES.get(batch.source)
        if tables is None:
            raise ObservatoireError(
                f"L'annulation des imports de la source « {batch.source} » n'est pas prise en charge "
                f"(possibles : {', '.join(sorted(UNDO_TABLES))})."
            )
        problem = _undo_problem(conn, batch.source, batch_id)
        if problem:
            raise ObservatoireError(problem)
        deleted = 0
        for table in tables:
            deleted += conn.execute(
                sa.text(f"DELETE FROM {table} WHERE batch_id = :b"), {"b": batch_id}
            ).rowcount
        conn.execute(sa.text("UPDATE obs.import_batch SET status = 'annule' WHERE id = :b"), {"b": batch_id})
        audit.record(
            conn,
            "import_annule",
            user_login=user,
            role=role,
            target=batch.source,
            batch_id=batch_id,
            detail={"fichier": batch.file_name, "lignes_supprimees": deleted},
        )
    return deleted


def _undo_problem(conn: Connection, source: str, batch_id: int) -> str | None:
    check = UNDO_CHECKS.get(source)
    if check is None:
        return None
    module, _, function = check.partition(":")
    return getattr(importlib.import_module(module), function)(conn, batch_id)
