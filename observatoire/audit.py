"""Append-only audit trail. Writing is one INSERT; the database refuses any change afterwards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

_AUDIT = sa.table(
    "audit_log",
    sa.column("id"), sa.column("at"), sa.column("user_login"), sa.column("role"), sa.column("action"),
    sa.column("target"), sa.column("batch_id"), sa.column("ip"), sa.column("detail", sa.JSON),
    schema="obs",
)

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
}


def record(conn: Connection, action: str, *, user_login: str | None = None, role: str | None = None,
           target: str | None = None, batch_id: int | None = None, ip: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    conn.execute(sa.insert(_AUDIT).values(
        action=action, user_login=user_login, role=role, target=target, batch_id=batch_id, ip=ip,
        detail=detail or {},
    ))


def record_now(engine: Engine, action: str, **kwargs: Any) -> None:
    with engine.begin() as conn:
        record(conn, action, **kwargs)


def list_entries(engine: Engine, *, action: str | None = None, user_login: str | None = None,
                 since: datetime | None = None, until: datetime | None = None, limit: int = 500) -> pd.DataFrame:
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
        return pd.DataFrame(conn.execute(query).mappings().all(),
                            columns=["id", "at", "user_login", "role", "action", "target", "batch_id", "ip", "detail"])


def purge(engine: Engine, retention_years: int, by_login: str | None) -> int:
    """Delete entries older than the retention period; the database function logs the purge itself."""
    with engine.begin() as conn:
        return conn.execute(sa.text("SELECT obs.purge_audit(:y, :u)"), {"y": retention_years, "u": by_login}).scalar_one()
