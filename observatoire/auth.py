"""Accounts: argon2 hashes, login throttling and locks, TOTP second factor, session versions — each change audited.

Repeated failures are counted two ways (migration 1300), neither of which lets a stranger keep an account's owner
out: per client address (past ``throttle_attempts`` each attempt waits 1 s, 2 s, 4 s… up to ``lockout_minutes``,
answered by HTTP 429), and per (account, address) pair (``lockout_attempts`` failures lock that pair for
``lockout_minutes``; the same account from another address is not affected).

``app_user.session_version`` is copied into the session at login and compared at every request: logging out,
a password reset, a role change, disabling the account or changing its second factor raise it, which ends every
session of the account, cookies saved earlier included.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection, Engine

from observatoire import audit, totp
from observatoire.errors import (
    AuthenticationFailed,
    LoginThrottled,
    NotFound,
    ObservatoireError,
    SecondFactorFailed,
)
from observatoire.permissions import ROLES, check_role
from observatoire.settings import Settings

MIN_PASSWORD_LENGTH = 12
LOGIN_FAILED = "Identifiant ou mot de passe incorrect, ou compte temporairement verrouillé."
CODE_FAILED = "Code incorrect ou expiré : saisissez le code affiché en ce moment par votre application."
# Roles whose accounts may have a TOTP second factor.
TOTP_ROLES = ("admin", "analyste")
TOTP_ISSUER = "Observatoire tranquillité publique"
# Recorded for a login whose client address is unknown (never the case over HTTP).
UNKNOWN_ADDRESS = "inconnue"
# The longest wait, in powers of two seconds, before lockout_minutes caps it.
_MAX_DOUBLINGS = 20
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
    session_version: int = 0
    totp_enabled: bool = False

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


@dataclass(frozen=True)
class PendingLogin:
    """The password was right; the account has a second factor, whose code is still to come
    (:func:`authenticate_code`). Nothing is recorded as a login yet."""

    user_id: int
    login: str
    session_version: int


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
    return User(
        id=row.id,
        login=row.login,
        role=row.role,
        active=row.active,
        session_version=row.session_version,
        totp_enabled=row.totp_secret is not None,
    )


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
                "SELECT login, role, active, totp_secret IS NOT NULL AS totp, last_login_at, created_at "
                "FROM obs.app_user ORDER BY login"
            )
        )
        return [dict(r._mapping) for r in rows]


def _require(conn: Connection, login: str) -> sa.Row:
    row = _get(conn, login.strip().lower())
    if row is None:
        raise NotFound(f"Aucun compte {login!r}.")
    return row


def _end_sessions(conn: Connection, user_id: int) -> None:
    """Every session opened before this moment no longer matches the account's version."""
    conn.execute(
        sa.text("UPDATE obs.app_user SET session_version = session_version + 1 WHERE id = :i"), {"i": user_id}
    )


def disable_user(engine: Engine, login: str, *, by: str | None = None) -> None:
    with engine.begin() as conn:
        row = _require(conn, login)
        conn.execute(sa.text("UPDATE obs.app_user SET active = false WHERE id = :i"), {"i": row.id})
        _end_sessions(conn, row.id)
        audit.record(conn, "utilisateur_desactive", user_login=by, target=row.login)


def set_role(engine: Engine, login: str, role: str, *, by: str | None = None) -> None:
    check_role(role)
    with engine.begin() as conn:
        row = _require(conn, login)
        conn.execute(sa.text("UPDATE obs.app_user SET role = :r WHERE id = :i"), {"r": role, "i": row.id})
        _end_sessions(conn, row.id)
        audit.record(
            conn, "role_modifie", user_login=by, target=row.login, detail={"avant": row.role, "apres": role}
        )


def reset_password(engine: Engine, login: str, password: str, *, by: str | None = None) -> None:
    """New password; every session of the account ends and every address it was locked from is let in again."""
    check_password(password)
    with engine.begin() as conn:
        row = _require(conn, login)
        conn.execute(
            sa.text("UPDATE obs.app_user SET password_hash = :h, password_changed_at = now() WHERE id = :i"),
            {"h": _hasher.hash(password), "i": row.id},
        )
        conn.execute(sa.text("DELETE FROM obs.login_lock WHERE user_id = :i"), {"i": row.id})
        _end_sessions(conn, row.id)
        audit.record(conn, "mot_de_passe_modifie", user_login=by, target=row.login)


def logout(engine: Engine, user_id: int, *, ip: str | None = None) -> None:
    """End every session of the account (this browser's and any cookie saved elsewhere), audited."""
    with engine.begin() as conn:
        row = conn.execute(
            sa.text("SELECT login, role FROM obs.app_user WHERE id = :i"), {"i": user_id}
        ).first()
        if row is None:
            return
        _end_sessions(conn, user_id)
        audit.record(conn, "deconnexion", user_login=row.login, role=row.role, ip=ip)


def enable_totp(engine: Engine, login: str, *, by: str | None = None) -> str:
    """Give the account a new TOTP secret, returned once (the caller shows it to the account's owner)."""
    with engine.begin() as conn:
        row = _require(conn, login)
        if row.role not in TOTP_ROLES:
            raise ObservatoireError(
                "Le second facteur (TOTP) est proposé aux comptes des rôles "
                + " et ".join(ROLES[r] for r in TOTP_ROLES)
                + f" ; {row.login} a le rôle "
                f"{ROLES.get(row.role, row.role)}."
            )
        if row.totp_secret is not None:
            raise ObservatoireError(
                f"Le second facteur de {row.login} est déjà activé : désactivez-le d'abord "
                "(observatoire users totp-disable) pour en créer un nouveau."
            )
        secret = totp.new_secret()
        conn.execute(
            sa.text("UPDATE obs.app_user SET totp_secret = :s, totp_last_step = NULL WHERE id = :i"),
            {"s": secret, "i": row.id},
        )
        _end_sessions(conn, row.id)
        audit.record(conn, "double_facteur_active", user_login=by, target=row.login)
    return secret


def disable_totp(engine: Engine, login: str, *, by: str | None = None) -> None:
    with engine.begin() as conn:
        row = _require(conn, login)
        if row.totp_secret is None:
            raise ObservatoireError(f"Le compte {row.login} n'a pas de second facteur.")
        conn.execute(
            sa.text("UPDATE obs.app_user SET totp_secret = NULL, totp_last_step = NULL WHERE id = :i"),
            {"i": row.id},
        )
        _end_sessions(conn, row.id)
        audit.record(conn, "double_facteur_desactive", user_login=by, target=row.login)


def totp_uri(login: str, secret: str) -> str:
    return totp.provisioning_uri(secret, login, TOTP_ISSUER)


def _address(ip: str | None) -> str:
    return (ip or UNKNOWN_ADDRESS)[:64]


def _throttled_message(seconds: int) -> str:
    wait = f"{seconds} seconde(s)" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    return f"Trop de tentatives de connexion depuis cette adresse : réessayez dans {wait}."


def _address_wait(conn: Connection, address: str, now: datetime) -> int | None:
    """Seconds this address must still wait before its next attempt, or None. The row, when there is one,
    stays locked until the end of the transaction: one address's attempts are checked one after the other."""
    row = conn.execute(
        sa.text("SELECT blocked_until FROM obs.login_throttle WHERE address = :a FOR UPDATE"), {"a": address}
    ).first()
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return None
    return max(1, math.ceil((row.blocked_until - now).total_seconds()))


def _fail_address(conn: Connection, settings: Settings, address: str, ip: str | None, now: datetime) -> None:
    """One more failure from this address; past the threshold, a wait that doubles at each failure.
    The count is forgotten after ``lockout_minutes`` without a failure."""
    window = timedelta(minutes=settings.lockout_minutes)
    # Rows forgotten long ago go; rows another attempt holds are left for later (no waiting, no deadlock).
    conn.execute(
        sa.text(
            "DELETE FROM obs.login_throttle WHERE address IN (SELECT address FROM obs.login_throttle "
            "WHERE last_failed_at < :old AND (blocked_until IS NULL OR blocked_until < :now) FOR UPDATE SKIP LOCKED)"
        ),
        {"old": now - window, "now": now},
    )
    failures = conn.execute(
        sa.text(
            "INSERT INTO obs.login_throttle AS t (address, failures, last_failed_at) VALUES (:a, 1, :now) "
            "ON CONFLICT (address) DO UPDATE SET failures = t.failures + 1, last_failed_at = :now RETURNING failures"
        ),
        {"a": address, "now": now},
    ).scalar_one()
    beyond = failures - settings.throttle_attempts
    if beyond < 0:
        return
    wait = timedelta(seconds=min(2 ** min(beyond, _MAX_DOUBLINGS), window.total_seconds()))
    conn.execute(
        sa.text("UPDATE obs.login_throttle SET blocked_until = :u WHERE address = :a"),
        {"u": now + wait, "a": address},
    )
    if beyond == 0:
        audit.record(conn, "adresse_freinee", ip=ip, detail={"echecs": failures})


def _pair_lock(conn: Connection, user_id: int, address: str) -> sa.Row | None:
    return conn.execute(
        sa.text(
            "SELECT failures, first_failed_at, locked_until FROM obs.login_lock "
            "WHERE user_id = :u AND address = :a FOR UPDATE"
        ),
        {"u": user_id, "a": address},
    ).first()


def _pair_locked(lock: sa.Row | None, now: datetime) -> bool:
    return lock is not None and lock.locked_until is not None and lock.locked_until > now


def _fail_pair(
    conn: Connection,
    settings: Settings,
    row: sa.Row,
    lock: sa.Row | None,
    address: str,
    ip: str | None,
    now: datetime,
) -> None:
    window = timedelta(minutes=settings.lockout_minutes)
    fresh = lock is None or now - lock.first_failed_at > window
    count = 1 if lock is None or fresh else lock.failures + 1
    lock_until = now + window if count >= settings.lockout_attempts else None
    conn.execute(
        sa.text(
            "DELETE FROM obs.login_lock WHERE (user_id, address) IN (SELECT user_id, address FROM obs.login_lock "
            "WHERE first_failed_at < :old AND (locked_until IS NULL OR locked_until < :now) FOR UPDATE SKIP LOCKED)"
        ),
        {"old": now - window, "now": now},
    )
    conn.execute(
        sa.text(
            "INSERT INTO obs.login_lock (user_id, address, failures, first_failed_at, locked_until) "
            "VALUES (:u, :a, :c, :f, :l) ON CONFLICT (user_id, address) DO UPDATE "
            "SET failures = :c, first_failed_at = :f, locked_until = :l"
        ),
        {
            "u": row.id,
            "a": address,
            "c": count,
            "f": now if lock is None or fresh else lock.first_failed_at,
            "l": lock_until,
        },
    )
    if lock_until:
        audit.record(
            conn,
            "compte_verrouille",
            user_login=row.login,
            ip=ip,
            detail={"jusqu_a": lock_until.isoformat(), "echecs": count, "adresse": address},
        )


def _succeed(conn: Connection, row: sa.Row, address: str, ip: str | None) -> User:
    conn.execute(
        sa.text("DELETE FROM obs.login_lock WHERE user_id = :u AND address = :a"), {"u": row.id, "a": address}
    )
    conn.execute(sa.text("UPDATE obs.app_user SET last_login_at = now() WHERE id = :i"), {"i": row.id})
    audit.record(conn, "connexion", user_login=row.login, role=row.role, ip=ip)
    return _row_to_user(row)


def authenticate(
    engine: Engine, settings: Settings, login: str, password: str, *, ip: str | None = None
) -> User | PendingLogin:
    """The user; or, when the account has a second factor, a :class:`PendingLogin` to complete with
    :func:`authenticate_code`. Otherwise AuthenticationFailed with one message whatever the reason (no account
    enumeration), or LoginThrottled when the address must wait (no password checked).

    Failures are committed (counters, locks, audit) before the refusal is raised.
    """
    login = (login or "").strip().lower()[:80]
    address = _address(ip)
    now = _now()
    outcome: User | PendingLogin | None = None
    with engine.begin() as conn:
        wait = _address_wait(conn, address, now)
        if wait is None:
            row = conn.execute(
                sa.text("SELECT * FROM obs.app_user WHERE login = :l FOR UPDATE"), {"l": login}
            ).first()
            outcome = _check(conn, settings, row, login, password, address, ip, now)
    if wait is not None:
        raise LoginThrottled(_throttled_message(wait), retry_after=wait)
    if outcome is None:
        raise AuthenticationFailed(LOGIN_FAILED)
    return outcome


def _check(
    conn: Connection,
    settings: Settings,
    row: sa.Row | None,
    login: str,
    password: str,
    address: str,
    ip: str | None,
    now: datetime,
) -> User | PendingLogin | None:
    if row is None:
        try:
            _hasher.verify(_DUMMY_HASH, password or "")
        except VerificationError:
            pass
        _fail_address(conn, settings, address, ip, now)
        audit.record(conn, "connexion_echec", user_login=login or None, ip=ip, detail={"motif": "inconnu"})
        return None
    lock = _pair_lock(conn, row.id, address)
    locked = _pair_locked(lock, now)
    ok: bool
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
        if row.totp_secret is not None:
            return PendingLogin(user_id=row.id, login=row.login, session_version=row.session_version)
        return _succeed(conn, row, address, ip)
    reason = "verrouille" if locked else ("desactive" if not row.active else "mot_de_passe")
    if not locked:
        _fail_pair(conn, settings, row, lock, address, ip, now)
    _fail_address(conn, settings, address, ip, now)
    audit.record(conn, "connexion_echec", user_login=row.login, ip=ip, detail={"motif": reason})
    return None


def authenticate_code(
    engine: Engine, settings: Settings, pending: PendingLogin, code: str, *, ip: str | None = None
) -> User:
    """Second step of a login: the TOTP code of the account whose password was right.

    A wrong code counts as a failure like a wrong password (address and pair) and raises SecondFactorFailed
    (the code may be typed again); a locked pair, an account changed since the password step or a disabled
    account raise AuthenticationFailed (the login starts again). A code is accepted once.
    """
    address = _address(ip)
    now = _now()
    user: User | None = None
    retry = False
    with engine.begin() as conn:
        wait = _address_wait(conn, address, now)
        if wait is None:
            row = conn.execute(
                sa.text("SELECT * FROM obs.app_user WHERE id = :i FOR UPDATE"), {"i": pending.user_id}
            ).first()
            if (
                row is None
                or not row.active
                or row.session_version != pending.session_version
                or row.totp_secret is None
            ):
                audit.record(
                    conn, "connexion_echec", user_login=pending.login, ip=ip, detail={"motif": "session"}
                )
            else:
                lock = _pair_lock(conn, row.id, address)
                locked = _pair_locked(lock, now)
                step = None if locked else totp.matching_step(row.totp_secret, code, after=row.totp_last_step)
                if step is not None:
                    conn.execute(
                        sa.text("UPDATE obs.app_user SET totp_last_step = :s WHERE id = :i"),
                        {"s": step, "i": row.id},
                    )
                    user = _succeed(conn, row, address, ip)
                else:
                    if not locked:
                        _fail_pair(conn, settings, row, lock, address, ip, now)
                    _fail_address(conn, settings, address, ip, now)
                    audit.record(
                        conn,
                        "connexion_echec",
                        user_login=row.login,
                        ip=ip,
                        detail={"motif": "verrouille" if locked else "code"},
                    )
                    retry = not locked and not _pair_locked(_pair_lock(conn, row.id, address), now)
    if wait is not None:
        raise LoginThrottled(_throttled_message(wait), retry_after=wait)
    if user is None:
        raise SecondFactorFailed(CODE_FAILED) if retry else AuthenticationFailed(LOGIN_FAILED)
    return user
