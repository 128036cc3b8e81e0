"""Corrections of cameras and requisitions: the same rules for both, so that neither overwrites silently. A
correction names its reason, touches only the fields that may be corrected, and writes each changed field to
the history (``obs.video_correction``, append-only) with its previous value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire.errors import InputFileError

# entity of the history → the table its rows live in
TABLES = {"camera": "obs.video_camera", "requisition": "obs.video_requisition"}


def check_request(changes: Mapping[str, Any], correctable: Iterable[str], reason: str | None) -> None:
    """Refuse a correction without a reason or touching a field that may not be corrected."""
    if not reason or not reason.strip():
        raise InputFileError(
            "Correction refusée, champ « motif de la correction » : le motif est obligatoire."
        )
    unknown = set(changes) - set(correctable)
    if unknown:
        raise InputFileError(
            f"Correction refusée : champ(s) non corrigeable(s) : {', '.join(sorted(unknown))}."
        )


def as_text(value: Any) -> str | None:
    """A value as the history keeps it (and as two values are compared: 50 and 50.0 are not a change)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def apply(
    conn: Connection,
    entity: str,
    entity_id: int,
    current: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    reason: str,
    user: str,
) -> int:
    """Write the fields of ``new`` that differ from ``current`` to the row and to the history; the caller has
    checked the whole entry and holds the row locked. Returns the number of fields changed."""
    table = TABLES[entity]
    changed = {k: v for k, v in new.items() if as_text(v) != as_text(current[k])}
    for name, value in changed.items():
        # ``name`` is one of the entity's correctable columns (check_request), never the user's text.
        conn.execute(sa.text(f"UPDATE {table} SET {name} = :v WHERE id = :i"), {"v": value, "i": entity_id})
        conn.execute(
            sa.text(
                "INSERT INTO obs.video_correction (entity, entity_id, field, old_value, new_value, reason, "
                "user_login) VALUES (:e, :i, :f, :old, :new, :why, :user)"
            ),
            {
                "e": entity,
                "i": entity_id,
                "f": name,
                "old": as_text(current[name]),
                "new": as_text(value),
                "why": reason.strip(),
                "user": user,
            },
        )
    return len(changed)


def history(engine: Engine, entity: str | None = None, entity_id: int | None = None) -> pd.DataFrame:
    """The corrections, most recent first (500 at most)."""
    cond = []
    params: dict[str, Any] = {}
    if entity:
        cond.append("entity = :e")
        params["e"] = entity
    if entity_id is not None:
        cond.append("entity_id = :i")
        params["i"] = entity_id
    where = ("WHERE " + " AND ".join(cond)) if cond else ""
    with engine.connect() as conn:
        return pd.read_sql_query(
            sa.text(
                f"SELECT at, entity, entity_id, field, old_value, new_value, reason, user_login "
                f"FROM obs.video_correction {where} ORDER BY id DESC LIMIT 500"
            ),
            conn,
            params=params,
        )
