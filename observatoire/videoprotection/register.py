"""The register of judicial requisitions: checking an entry, recording it (with its cameras and the log of
the hand-over), correcting it (the previous value kept), listing it with filters, and the access log."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire.errors import InputFileError
from observatoire.text import normalise_header
from observatoire.videoprotection import corrections, labels, legal
from observatoire.videoprotection.models import AUTHORITIES, CATEGORIES, LOG_ACTIONS, USABLE

FIELD_LABELS = {
    "requested_on": "date de la demande",
    "authority": "autorité requérante",
    "procedure_ref": "référence de procédure",
    "cameras": "caméras concernées",
    "images_from": "début de la période d'images",
    "images_to": "fin de la période d'images",
    "category": "catégorie d'infraction",
    "images_found": "images trouvées",
    "handed_over_on": "date de remise",
    "usable": "exploitable pour l'enquête",
}


@dataclass
class RequisitionEntry:
    requested_on: date | None
    authority: str | None
    images_from: datetime | None
    cameras: list[str] = field(default_factory=list)
    images_to: datetime | None = None
    procedure_ref: str | None = None
    category: str | None = None
    images_found: bool | None = None
    handed_over_on: date | None = None
    usable: str | None = None

    def natural_key(self) -> str:
        parts = [
            str(self.requested_on),
            self.authority or "",
            (self.procedure_ref or "").strip().upper(),
            str(self.images_from),
            ",".join(sorted(self.cameras)),
        ]
        return hashlib.sha1("|".join(parts).encode()).hexdigest()


def _code(
    value: str | None, codes: tuple[str, ...], words: dict[str, tuple[str, ...]] | None, names: dict
) -> str | None:
    if value is None or not str(value).strip():
        return None
    key = normalise_header(str(value))
    for code in codes:
        if key in (normalise_header(code), normalise_header(names.get(code, ""))) or key in {
            normalise_header(w) for w in (words or {}).get(code, ())
        }:
            return code
    raise ValueError(", ".join(names.get(c, c) for c in codes))


def problems(entry: RequisitionEntry, cameras: dict[str, int]) -> list[tuple[str, str]]:
    """(field, French message) of each fault; the entry's codes are normalised in place when valid."""
    found: list[tuple[str, str]] = []
    if entry.requested_on is None:
        found.append(("requested_on", "la date de la demande est obligatoire"))
    try:
        entry.authority = _code(entry.authority, AUTHORITIES, labels.AUTHORITY_WORDS, labels.AUTHORITY_LABELS)
        if entry.authority is None:
            found.append(("authority", "l'autorité requérante est obligatoire"))
    except ValueError as exc:
        found.append(("authority", f"autorité inconnue « {entry.authority} » (possibles : {exc})"))
    try:
        entry.category = _code(entry.category, CATEGORIES, None, labels.CATEGORY_LABELS) or "autres"
    except ValueError as exc:
        found.append(("category", f"catégorie inconnue « {entry.category} » (possibles : {exc})"))
    try:
        entry.usable = _code(entry.usable, USABLE, None, labels.USABLE_LABELS) or "inconnu"
    except ValueError:
        found.append(("usable", f"valeur « {entry.usable} » non reconnue (oui, non ou inconnu)"))
    reason = legal.reference_problem(entry.procedure_ref)
    if reason:
        found.append(("procedure_ref", reason))
    if entry.images_from is None:
        found.append(("images_from", "le début de la période d'images demandée est obligatoire"))
    elif entry.images_to is not None and entry.images_to < entry.images_from:
        found.append(("images_to", "la fin de la période d'images précède son début"))
    if entry.requested_on and entry.images_from and entry.images_from.date() > entry.requested_on:
        found.append(("images_from", "les images demandées sont postérieures à la date de la demande"))
    if entry.requested_on and entry.handed_over_on and entry.handed_over_on < entry.requested_on:
        found.append(("handed_over_on", "la remise précède la demande"))
    entry.cameras = [c.strip() for c in entry.cameras if c and c.strip()]
    if not entry.cameras:
        found.append(("cameras", "au moins une caméra est obligatoire"))
    unknown = [c for c in entry.cameras if c not in cameras]
    if unknown:
        found.append(("cameras", "caméra(s) inconnue(s) de l'inventaire : " + ", ".join(unknown)))
    return found


def check(entry: RequisitionEntry, cameras: dict[str, int]) -> None:
    """Raise the first fault as a French message naming the field."""
    found = problems(entry, cameras)
    if found:
        name, message = found[0]
        raise InputFileError(
            f"Réquisition refusée, champ « {FIELD_LABELS[name]} » : {message}. Rien n'a été enregistré."
        )


def camera_ids(conn: Connection) -> dict[str, int]:
    return dict(conn.execute(sa.text("SELECT code, id FROM obs.video_camera")).all())


def insert(
    conn: Connection,
    entry: RequisitionEntry,
    cameras: dict[str, int],
    *,
    user: str | None,
    batch_id: int | None = None,
) -> int | None:
    """Insert a checked entry; None when the same requisition is already there."""
    new_id = conn.execute(
        sa.text("""
        INSERT INTO obs.video_requisition (requested_on, authority, procedure_ref, images_from, images_to, category,
            images_found, handed_over_on, usable, natural_key, batch_id, created_by)
        VALUES (:requested_on, :authority, :procedure_ref, :images_from, :images_to, :category, :images_found,
            :handed_over_on, :usable, :key, :batch_id, :user)
        ON CONFLICT (natural_key) DO NOTHING RETURNING id"""),
        {
            "requested_on": entry.requested_on,
            "authority": entry.authority,
            "procedure_ref": (entry.procedure_ref or "").strip() or None,
            "images_from": entry.images_from,
            "images_to": entry.images_to,
            "category": entry.category,
            "images_found": entry.images_found,
            "handed_over_on": entry.handed_over_on,
            "usable": entry.usable,
            "key": entry.natural_key(),
            "batch_id": batch_id,
            "user": user,
        },
    ).scalar()
    if new_id is None:
        return None
    conn.execute(
        sa.text("INSERT INTO obs.video_requisition_camera (requisition_id, camera_id) VALUES (:r, :c)"),
        [{"r": new_id, "c": cameras[c]} for c in dict.fromkeys(entry.cameras)],
    )
    return int(new_id)


def record(
    engine: Engine,
    entry: RequisitionEntry,
    *,
    user: str,
    reference_check: Callable[[str | None], str | None] | None = None,
) -> int:
    """Check and record one requisition typed in the form; its hand-over, if any, goes to the access log.
    ``reference_check``: the personal-data guard's reading of the reference (it lives in ``ingest``)."""
    from observatoire import audit

    reason = reference_check(entry.procedure_ref) if reference_check else None
    if reason:
        raise InputFileError(
            f"Réquisition refusée, champ « {FIELD_LABELS['procedure_ref']} » : {reason}. Rien n'a été enregistré."
        )
    with engine.begin() as conn:
        cameras = camera_ids(conn)
        check(entry, cameras)
        new_id = insert(conn, entry, cameras, user=user)
        if new_id is None:
            raise InputFileError(
                "Cette réquisition est déjà au registre (même date, autorité, référence, "
                "période et caméras). Rien n'a été enregistré."
            )
        if entry.handed_over_on:
            for code in entry.cameras:
                log_access(
                    conn,
                    user=user,
                    action="remise",
                    reason="réquisition judiciaire",
                    recipient=labels.AUTHORITY_LABELS[entry.authority or ""],
                    camera_code=code,
                    requisition_id=new_id,
                )
        audit.record(
            conn,
            "video_saisie",
            user_login=user,
            target="obs.video_requisition",
            detail={"requisition": new_id},
        )
    return new_id


# --- Corrections ------------------------------------------------------------------------------------------

CORRECTABLE = (
    "requested_on",
    "authority",
    "procedure_ref",
    "images_from",
    "images_to",
    "category",
    "images_found",
    "handed_over_on",
    "usable",
)


def correct(engine: Engine, requisition_id: int, changes: dict[str, Any], *, reason: str, user: str) -> int:
    """Apply corrections to one requisition, the whole entry checked again; each changed field is written to
    the corrections history with its previous value. Returns the number of fields changed."""
    corrections.check_request(changes, CORRECTABLE, reason)
    with engine.begin() as conn:
        row = (
            conn.execute(
                sa.text("SELECT * FROM obs.video_requisition WHERE id = :i FOR UPDATE"), {"i": requisition_id}
            )
            .mappings()
            .first()
        )
        if row is None:
            raise InputFileError(f"Réquisition n° {requisition_id} introuvable.")
        codes = (
            conn.execute(
                sa.text(
                    "SELECT c.code FROM obs.video_requisition_camera rc JOIN obs.video_camera c ON c.id = rc.camera_id "
                    "WHERE rc.requisition_id = :i"
                ),
                {"i": requisition_id},
            )
            .scalars()
            .all()
        )
        current = {k: row[k] for k in CORRECTABLE}
        entry = RequisitionEntry(cameras=list(codes), **{**current, **changes})
        check(entry, camera_ids(conn))
        new = {k: getattr(entry, k) for k in CORRECTABLE}
        return corrections.apply(conn, "requisition", requisition_id, current, new, reason=reason, user=user)


# --- The access log -----------------------------------------------------------------------------------------


def log_access(
    conn: Connection,
    *,
    user: str,
    action: str,
    reason: str,
    recipient: str | None = None,
    camera_code: str | None = None,
    requisition_id: int | None = None,
) -> None:
    if action not in LOG_ACTIONS:
        raise InputFileError(f"Action inconnue « {action} » (possibles : {', '.join(LOG_ACTIONS)}).")
    if not reason or not reason.strip():
        raise InputFileError("Entrée du journal refusée, champ « motif » : le motif est obligatoire.")
    if action == "remise" and not (recipient or "").strip():
        raise InputFileError(
            "Entrée du journal refusée, champ « destinataire » : une remise a un destinataire."
        )
    if camera_code is not None and camera_code not in camera_ids(conn):
        raise InputFileError(
            f"Entrée du journal refusée, champ « caméra » : caméra inconnue « {camera_code} »."
        )
    conn.execute(
        sa.text(
            "INSERT INTO obs.video_access_log (user_login, action, reason, recipient, camera_code, requisition_id) "
            "VALUES (:u, :a, :r, :to, :c, :q)"
        ),
        {
            "u": user,
            "a": action,
            "r": reason.strip(),
            "to": (recipient or "").strip() or None,
            "c": camera_code,
            "q": requisition_id,
        },
    )


def record_access(engine: Engine, **kwargs: Any) -> None:
    with engine.begin() as conn:
        log_access(conn, **kwargs)


def access_log(engine: Engine, limit: int = 500) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql_query(
            sa.text(
                "SELECT at, user_login, action, reason, recipient, camera_code, requisition_id "
                "FROM obs.video_access_log ORDER BY id DESC LIMIT :n"
            ),
            conn,
            params={"n": limit},
        )


# --- Listing ---------------------------------------------------------------------------------------------------


@dataclass
class RegisterFilter:
    start: date | None = None
    end: date | None = None
    authority: str | None = None
    category: str | None = None
    camera: str | None = None
    flagged_only: bool = False


def listing(
    engine: Engine, f: RegisterFilter, retention_days: int, limit: int = 1000
) -> tuple[pd.DataFrame, int]:
    """The filtered register (most recent first, ``limit`` rows) and how many rows match. ``hors_delai`` flags
    a request for images older than the retention period on the day of the request."""
    cond = ["true"]
    params: dict[str, Any] = {"days": retention_days, "n": limit}
    if f.start:
        cond.append("r.requested_on >= :start")
        params["start"] = f.start
    if f.end:
        cond.append("r.requested_on <= :end")
        params["end"] = f.end
    if f.authority:
        cond.append("r.authority = :authority")
        params["authority"] = f.authority
    if f.category:
        cond.append("r.category = :category")
        params["category"] = f.category
    if f.camera:
        cond.append(
            "EXISTS (SELECT 1 FROM obs.video_requisition_camera x JOIN obs.video_camera c ON c.id = x.camera_id "
            "WHERE x.requisition_id = r.id AND c.code = :camera)"
        )
        params["camera"] = f.camera
    flag = "r.images_from::date < r.requested_on - :days"
    if f.flagged_only:
        cond.append(flag)
    where = " AND ".join(cond)
    with engine.connect() as conn:
        total = conn.execute(
            sa.text(f"SELECT count(*) FROM obs.video_requisition r WHERE {where}"), params
        ).scalar_one()
        frame = pd.read_sql_query(
            sa.text(f"""
            SELECT r.id, r.requested_on, r.authority, r.procedure_ref, r.images_from, r.images_to, r.category,
                   r.images_found, r.handed_over_on, r.usable, {flag} AS hors_delai,
                   (SELECT string_agg(c.code, ', ' ORDER BY c.code) FROM obs.video_requisition_camera x
                    JOIN obs.video_camera c ON c.id = x.camera_id WHERE x.requisition_id = r.id) AS cameras
            FROM (SELECT * FROM obs.video_requisition r WHERE {where}
                  ORDER BY r.requested_on DESC, r.id DESC LIMIT :n) r
            ORDER BY r.requested_on DESC, r.id DESC"""),
            conn,
            params=params,
        )
    return frame, int(total)


def as_datetime(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min)
