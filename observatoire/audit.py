"""Append-only audit trail, chained by hashes.

The application appends through ``obs.audit_append()`` (migration 1200): the database sets the id, the time and
the chain itself — ``prev_hash`` is the hash of the entry before, ``hash`` the SHA-256 of ``prev_hash`` followed
by the entry's canonical text. ``verify()`` recomputes the chain from the anchor (the last entry a purge removed)
to the head, and names the first entry where it breaks: an entry edited, entries deleted, the end cut off.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from observatoire.errors import ObservatoireError

_AUDIT = sa.table(
    "audit_log",
    sa.column("id"),
    sa.column("at"),
    sa.column("user_login"),
    sa.column("role"),
    sa.column("action"),
    sa.column("target"),
    sa.column("batch_id"),
    sa.column("ip"),
    sa.column("detail", sa.JSON),
    schema="obs",
)

_APPEND = sa.text(
    "SELECT obs.audit_append(:action, :user_login, :role, :target, :batch_id, :detail, :ip)"
).bindparams(sa.bindparam("detail", type_=JSONB))

# The canonical text of an entry, as obs.audit_entry_hash() (migration 1200) builds it, from built-in
# functions only: the hash itself is recomputed here, not by a function of the database.
_CANONICAL = (
    "jsonb_build_array(id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "user_login, role, action, target, batch_id, ip, detail)::text"
)
ZERO_HASH = "0" * 64
ACTION_LABELS = {
    "connexion": "Connexion réussie",
    "connexion_echec": "Échec de connexion",
    "compte_verrouille": "Compte verrouillé depuis une adresse",
    "adresse_freinee": "Connexions freinées depuis une adresse",
    "deconnexion": "Déconnexion",
    "import": "Import",
    "import_refuse": "Import refusé",
    "import_annule": "Import annulé",
    "export": "Export",
    "consultation": "Consultation d'une page restreinte",
    "utilisateur_cree": "Compte créé",
    "utilisateur_desactive": "Compte désactivé",
    "role_modifie": "Rôle modifié",
    "mot_de_passe_modifie": "Mot de passe modifié",
    "double_facteur_active": "Second facteur activé",
    "double_facteur_desactive": "Second facteur désactivé",
    "purge": "Purge de conservation",
    "nomenclature_modifiee": "Nomenclature modifiée",
    "acces_refuse": "Accès refusé",
    "video_saisie": "Vidéoprotection : saisie au registre",
}


def record(
    conn: Connection,
    action: str,
    *,
    user_login: str | None = None,
    role: str | None = None,
    target: str | None = None,
    batch_id: int | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction (the chain head stays locked until it ends)."""
    conn.execute(
        _APPEND,
        {
            "action": action,
            "user_login": user_login,
            "role": role,
            "target": target,
            "batch_id": batch_id,
            "detail": detail or {},
            "ip": ip,
        },
    )


def record_now(engine: Engine, action: str, **kwargs: Any) -> None:
    with engine.begin() as conn:
        record(conn, action, **kwargs)


def list_entries(
    engine: Engine,
    *,
    action: str | None = None,
    user_login: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    query = sa.select(_AUDIT).order_by(_AUDIT.c.at.desc(), _AUDIT.c.id.desc()).limit(limit)
    if action:
        query = query.where(_AUDIT.c.action == action)
    if user_login:
        query = query.where(_AUDIT.c.user_login == user_login)
    if since:
        query = query.where(_AUDIT.c.at >= since)
    if until:
        query = query.where(_AUDIT.c.at <= until)
    with engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(query).mappings().all(),
            columns=["id", "at", "user_login", "role", "action", "target", "batch_id", "ip", "detail"],
        )


def purge(engine: Engine, retention_years: int, by_login: str | None) -> int:
    """Delete the oldest entries beyond the retention period; the database refuses a retention below the
    floor its owner set (``obs.audit_policy``) and logs the purge itself."""
    try:
        with engine.begin() as conn:
            return conn.execute(
                sa.text("SELECT obs.purge_audit(:y, :u)"), {"y": retention_years, "u": by_login}
            ).scalar_one()
    except DBAPIError as exc:
        orig = exc.orig
        if getattr(orig, "sqlstate", None) == "22023":  # invalid_parameter_value: below the floor
            message = getattr(getattr(orig, "diag", None), "message_primary", None) or str(orig)
            raise ObservatoireError(message, detail=str(orig)) from None
        raise


def minimum_retention_years(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT min_retention_years FROM obs.audit_policy")).scalar()


@dataclass(frozen=True)
class ChainReport:
    """What ``verify()`` found: ``entries`` checked and, when the chain breaks, the first entry concerned."""

    entries: int
    first_id: int | None = None
    last_id: int | None = None
    last_hash: str | None = None
    broken_at: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if not self.intact:
            return f"Journal altéré : {self.problem}"
        if not self.entries:
            return "Journal intègre : 0 entrée."
        noun = "entrée" if self.entries == 1 else "entrées"
        return (
            f"Journal intègre : {self.entries} {noun} (n° {self.first_id} à {self.last_id}) ; "
            f"empreinte de la dernière : {self.last_hash}"
        )


def _missing(first: int, last: int) -> str:
    return (
        f"l'entrée n° {first} a été supprimée"
        if first == last
        else f"les entrées n° {first} à {last} ont été supprimées"
    )


def verify(engine: Engine) -> ChainReport:
    """Recompute every hash from the anchor to the head of the chain, in one snapshot of the log."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        head = conn.execute(
            sa.text("SELECT last_id, last_hash, anchor_id, anchor_hash FROM obs.audit_chain WHERE id")
        ).first()
        rows = conn.execution_options(yield_per=5000).execute(
            sa.text(
                f"SELECT id, prev_hash, hash, action, target, detail, {_CANONICAL} AS canonical "
                "FROM obs.audit_log ORDER BY id"
            )
        )
        if head is None:
            first = rows.first()
            if first is None:
                return ChainReport(entries=0)
            return ChainReport(
                entries=0,
                broken_at=first.id,
                problem=(
                    "la tête de la chaîne (obs.audit_chain) a disparu alors que le journal a des entrées."
                ),
            )
        prev_id, prev_hash = head.anchor_id, head.anchor_hash
        count, first_id, last_purge = 0, None, None
        for row in rows:
            computed = hashlib.sha256((row.prev_hash + row.canonical).encode("utf-8")).hexdigest()
            if computed != row.hash:
                return ChainReport(
                    entries=count,
                    broken_at=row.id,
                    problem=(
                        f"l'entrée n° {row.id} a été modifiée : son contenu ne correspond plus à son empreinte."
                    ),
                )
            if row.prev_hash != prev_hash:
                if row.id > prev_id + 1:
                    problem = (
                        f"{_missing(prev_id + 1, row.id - 1)} (chaîne rompue avant l'entrée n° {row.id})."
                    )
                    return ChainReport(entries=count, broken_at=row.id, problem=problem)
                if count == 0:
                    return ChainReport(
                        entries=count,
                        broken_at=row.id,
                        problem=(
                            f"l'entrée n° {row.id}, la première, ne suit pas la dernière entrée purgée "
                            f"(n° {prev_id}) : le début du journal a été modifié."
                        ),
                    )
                return ChainReport(
                    entries=count,
                    broken_at=prev_id,
                    problem=(
                        f"l'entrée n° {prev_id} a été réécrite (son empreinte recalculée ne suit plus dans "
                        f"l'entrée n° {row.id})."
                    ),
                )
            if row.action == "purge" and row.target == "audit_log" and "derniere_supprimee" in row.detail:
                last_purge = row
            prev_id, prev_hash = row.id, row.hash
            first_id = row.id if first_id is None else first_id
            count += 1
        if (prev_id, prev_hash) != (head.last_id, head.last_hash):
            if head.last_id > prev_id:
                return ChainReport(
                    entries=count,
                    broken_at=prev_id + 1,
                    problem=(
                        f"{_missing(prev_id + 1, head.last_id)} (fin du journal coupée après l'entrée n° {prev_id})."
                    ),
                )
            return ChainReport(
                entries=count,
                broken_at=prev_id,
                problem=(f"la tête de la chaîne ne correspond pas à la dernière entrée (n° {prev_id})."),
            )
        if last_purge is not None and (
            last_purge.detail["derniere_supprimee"],
            last_purge.detail.get("empreinte_derniere_supprimee"),
        ) != (head.anchor_id, head.anchor_hash):
            return ChainReport(
                entries=count,
                broken_at=last_purge.id,
                problem=(
                    f"la dernière purge (entrée n° {last_purge.id}) ne correspond pas au début de la chaîne."
                ),
            )
    return ChainReport(
        entries=count,
        first_id=first_id,
        last_id=prev_id if count else None,
        last_hash=prev_hash if count else None,
    )
