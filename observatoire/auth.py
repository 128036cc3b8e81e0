"""Accounts: argon2 hashes, lockout after repeated failures, role changes — each one audited."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection, Engine

from observatoire import audit
from observatoire.errors import AuthenticationFailed, NotFound, ObservatoireError
from observatoire.permissions import ROLES, check_role
from observatoire.settings import Settings

MIN_PASSWORD_LENGTH = 12
LOGIN_FAILED = "Identifiant ou mot de passe incorrect, ou compte temporairement verrouillé."
_LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
_hasher = PasswordHasher()
# Verified against when the account does not exist, so both answers take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class User:
    id: int
    login: str
    role: str
    active: bool

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def _now() -> datetime:
    return datetime.now(UTC)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ObservatoireError(f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.")


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters


def _check_login(login: str) -> str:
    login = login.strip().lower()
    if not _LOGIN_RE.match(login):
        raise ObservatoireError(
            f"Identifiant invalide : {login!r} (2 à 80 caractères : lettres minuscules, chiffres, « . », « _ », « - »)."
        )
    return login


def _row_to_user(row: sa.Row) -> User:
    return User(id=row.id, login=row.login, role=row.role, active=row.active)


def _get(conn: Connection, login: str) -> sa.Row | None:
    return conn.execute(sa.text("SELECT * FROM obs.app_user WHERE login = :l"), {"l": login}).first()


def get_user(engine: Engine, user_id: int) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM obs.app_user WHERE id = :i"), {"i": user_id}).first()
    return _row_to_user(row) if row else None


def add_user(engine: Engine, login: str, role: str, password: str, *, by: str | None = None) -> User:
    login = _check_login(login)
    check_role(role)
    check_password(password)
    with engine.begin() as conn:
        if _get(conn, login):
            raise ObservatoireError(f"Le compte {login!r} existe déjà.")
        row = conn.execute(
            sa.text("INSERT INTO obs.app_user (login, role, password_hash) VALUES (:l, :r, :h) RETURNING *"),
            {"l": login, "r": role, "h": _hasher.hash(password)},
        ).one()
        audit.record(conn, "utilisateur_cree", user_login=by, target=login, detail={"role": role})
    return _row_to_user(row)


def list_users(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT login, role, active, locked_until, last_login_at, created_at FROM obs.app_user ORDER BY login"
            )
        )
        return [dict(r._mapping) for r in rows]


def _require(conn: Connection, login: str) -> sa.Row:
    row = _get(conn, login.strip().lower())
    if row is None:
        raise NotFound(f"Aucun compte {login!r}.")
    return row


def disable_user(engine: Engine, login: str, *, by: str | None = None) -> None:
    with engine.begin() as conn:
        row = _require(conn, login)
        conn.execute(sa.text("UPDATE obs.app_user SET active = false WHERE id = :i"), {"i": row.id})
        audit.record(conn, "utilisateur_desactive", user_login=by, target=row.login)


def set_role(engine: Engine, login: str, role: str, *, by: str | None = None) -> None:
    check_role(role)
    with engine.begin() as conn:
        row = _require(conn, login)
        conn.execute(sa.text("UPDATE obs.app_user SET role = :r WHERE id = :i"), {"r": role, "i": row.id})
        audit.record(
            conn, "role_modifie", user_login=by, target=row.login, detail={"avant": row.role, "apres": role}
        )


def reset_password(engine: Engine, login: str, password: str, *, by: str | None = None) -> None:
    check_password(password)
    with engine.begin() as conn:
        row = _require(conn, login)
        conn.execute(
            sa.text(
                "UPDATE obs.app_user SET password_hash = :h, password_changed_at = now(), failed_logins = 0, "
                "first_failed_at = NULL, locked_until = NULL WHERE id = :i"
            ),
            {"h": _hasher.hash(password), "i": row.id},
        )
        audit.record(conn, "mot_de_passe_modifie", user_login=by, target=row.login)


def authenticate(
    engine: Engine, settings: Settings, login: str, password: str, *, ip: str | None = None
) -> User:
    """The user, or AuthenticationFailed with one message whatever the reason (no account enumeration).

    Failures are committed (counter, lock, audit) before the refusal is raised.
    """
    login = (login or "").strip().lower()[:80]
    with engine.begin() as conn:
        row = conn.execute(
            sa.text("SELECT * FROM obs.app_user WHERE login = :l FOR UPDATE"), {"l": login}
        ).first()
        user = _check(conn, settings, row, login, password, ip)
    if user is None:
        raise AuthenticationFailed(LOGIN_FAILED)
    return user


def _check(
    conn: Connection, settings: Settings, row: sa.Row | None, login: str, password: str, ip: str | None
) -> User | None:
    now = _now()
    if row is None:
        try:
            _hasher.verify(_DUMMY_HASH, password or "")
        except VerificationError:
            pass
        audit.record(conn, "connexion_echec", user_login=login or None, ip=ip, detail={"motif": "inconnu"})
        return None
    locked = row.locked_until is not None and row.locked_until > now
    try:
        ok = _hasher.verify(row.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if ok and row.active and not locked:
        if _hasher.check_needs_rehash(row.password_hash):
            conn.execute(
                sa.text("UPDATE obs.app_user SET password_hash = :h WHERE id = :i"),
                {"h": _hasher.hash(password), "i": row.id},
            )
        conn.execute(
            sa.text(
                "UPDATE obs.app_user SET failed_logins = 0, first_failed_at = NULL, locked_until = NULL, "
                "last_login_at = now() WHERE id = :i"
            ),
            {"i": row.id},
        )
        audit.record(conn, "connexion", user_login=row.login, role=row.role, ip=ip)
        return _row_to_user(row)
    reason = "verrouille" if locked else ("desactive" if not row.active else "mot_de_passe")
    if not locked:
        window = timedelta(minutes=settings.lockout_minutes)
        fresh = row.first_failed_at is None or now - row.first_failed_at > window
        count = 1 if fresh else row.failed_logins + 1
        lock_until = now + window if count >= settings.lockout_attempts else None
        conn.execute(
            sa.text(
                "UPDATE obs.app_user SET failed_logins = :c, first_failed_at = :f, locked_until = :u WHERE id = :i"
            ),
            {"c": count, "f": now if fresh else row.first_failed_at, "u": lock_until, "i": row.id},
        )
        if lock_until:
            audit.record(
                conn,
                "compte_verrouille",
                user_login=row.login,
                ip=ip,
                detail={"jusqu_a": lock_until.isoformat(), "echecs": count},
            )
    audit.record(conn, "connexion_echec", user_login=row.login, ip=ip, detail={"motif": reason})
    return None
