"""The camera inventory: checking and recording a camera, correcting it (history kept), listing it, and
the area each camera covers (a disc of its range, or a sector when its direction is known)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire.errors import InputFileError
from observatoire.text import normalise_header
from observatoire.videoprotection import corrections, labels

# Range by kind when the inventory gives none (metres): what a camera identifies a person or a plate at.
DEFAULT_RANGE = {"fixe": 40.0, "dome": 80.0, "lapi": 30.0}
SECTOR_ANGLE = 90.0  # degrees of the field of view of a camera whose direction is known
# Metropolitan France and overseas, loosely: a point outside is a typing error (inverted coordinates…).
_LON, _LAT = (-62.0, 56.0), (-22.0, 52.0)

FIELD_LABELS = {
    "code": "identifiant",
    "name": "nom",
    "kind": "type",
    "position": "position (longitude, latitude)",
    "commissioned_on": "mise en service",
    "removed_on": "dépose",
    "direction_deg": "direction",
    "range_m": "portée",
    "address": "adresse",
}


@dataclass
class CameraEntry:
    code: str | None
    name: str | None
    kind: str | None
    lon: float | None
    lat: float | None
    commissioned_on: date | None = None
    removed_on: date | None = None
    direction_deg: float | None = None
    range_m: float | None = None
    address: str | None = None


def kind_code(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    key = normalise_header(value)
    words = {
        "fixe": ("fixe", "fixed", "fix"),
        "dome": ("dome", "ptz", "dome ptz", "mobile", "tourelle"),
        "lapi": ("lapi", "lecture de plaques", "lecture de plaques lapi", "anpr", "plaques"),
    }
    for code, forms in words.items():
        if key in forms or key == normalise_header(labels.KIND_LABELS[code]):
            return code
    raise ValueError(value)


def problems(entry: CameraEntry) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if not (entry.code or "").strip():
        found.append(("code", "l'identifiant de la caméra est obligatoire"))
    elif len(entry.code.strip()) > 40:  # type: ignore[union-attr]
        found.append(("code", "40 caractères au plus"))
    if not (entry.name or "").strip():
        found.append(("name", "le nom (emplacement) est obligatoire"))
    try:
        entry.kind = kind_code(entry.kind)
        if entry.kind is None:
            found.append(("kind", "le type est obligatoire (fixe, dôme/PTZ ou LAPI)"))
    except ValueError:
        found.append(("kind", f"type inconnu « {entry.kind} » (fixe, dôme/PTZ ou LAPI)"))
    if entry.lon is None or entry.lat is None:
        found.append(("position", "coordonnées ou adresse localisable obligatoires"))
    elif not (_LON[0] <= entry.lon <= _LON[1] and _LAT[0] <= entry.lat <= _LAT[1]):
        found.append(
            (
                "position",
                f"point hors de France ({entry.lon:g}, {entry.lat:g}) : longitude et latitude inversées ?",
            )
        )
    if entry.commissioned_on and entry.removed_on and entry.removed_on < entry.commissioned_on:
        found.append(("removed_on", "la dépose précède la mise en service"))
    if entry.direction_deg is not None and not 0 <= entry.direction_deg < 360:
        found.append(
            (
                "direction_deg",
                "direction en degrés de 0 (nord) à 359, dans le sens des aiguilles d'une montre",
            )
        )
    if entry.range_m is not None and not 0 < entry.range_m <= 1000:
        found.append(("range_m", "portée en mètres, de 1 à 1 000"))
    return found


def check(entry: CameraEntry) -> None:
    found = problems(entry)
    if found:
        name, message = found[0]
        raise InputFileError(
            f"Caméra refusée, champ « {FIELD_LABELS[name]} » : {message}. Rien n'a été enregistré."
        )


_INSERT = sa.text("""
    INSERT INTO obs.video_camera (code, name, kind, address, commissioned_on, removed_on, direction_deg, range_m,
        geom, batch_id, created_by)
    VALUES (:code, :name, :kind, :address, :commissioned_on, :removed_on, :direction_deg, :range_m,
        ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :batch_id, :user)
    ON CONFLICT (code) DO NOTHING RETURNING id""")


def insert(
    conn: Connection, entry: CameraEntry, *, user: str | None, batch_id: int | None = None
) -> int | None:
    return conn.execute(
        _INSERT,
        {
            "code": entry.code.strip(),  # type: ignore[union-attr]
            "name": entry.name.strip(),  # type: ignore[union-attr]
            "kind": entry.kind,
            "address": (entry.address or "").strip() or None,
            "commissioned_on": entry.commissioned_on,
            "removed_on": entry.removed_on,
            "direction_deg": entry.direction_deg,
            "range_m": entry.range_m,
            "lon": entry.lon,
            "lat": entry.lat,
            "batch_id": batch_id,
            "user": user,
        },
    ).scalar()


def record(engine: Engine, entry: CameraEntry, *, user: str) -> int:
    from observatoire import audit

    check(entry)
    with engine.begin() as conn:
        new_id = insert(conn, entry, user=user)
        if new_id is None:
            raise InputFileError(f"Caméra refusée, champ « identifiant » : « {entry.code} » existe déjà.")
        audit.record(
            conn, "video_saisie", user_login=user, target="obs.video_camera", detail={"camera": entry.code}
        )
    return int(new_id)


CORRECTABLE = ("name", "kind", "commissioned_on", "removed_on", "direction_deg", "range_m", "address")


def correct(engine: Engine, code: str, changes: dict[str, Any], *, reason: str, user: str) -> int:
    """Correct fields of a camera; each change goes to the corrections history with its previous value."""
    corrections.check_request(changes, CORRECTABLE, reason)
    with engine.begin() as conn:
        row = (
            conn.execute(
                sa.text(
                    "SELECT id, code, name, kind, address, commissioned_on, removed_on, direction_deg, range_m, "
                    "ST_X(geom) AS lon, ST_Y(geom) AS lat FROM obs.video_camera WHERE code = :c FOR UPDATE"
                ),
                {"c": code},
            )
            .mappings()
            .first()
        )
        if row is None:
            raise InputFileError(f"Correction refusée, champ « identifiant » : caméra inconnue « {code} ».")
        current = {k: row[k] for k in CORRECTABLE}
        entry = CameraEntry(code=row["code"], lon=row["lon"], lat=row["lat"], **{**current, **changes})
        check(entry)
        new = {k: getattr(entry, k) for k in CORRECTABLE}
        return corrections.apply(conn, "camera", row["id"], current, new, reason=reason, user=user)


def cameras(engine: Engine, on: date | None = None) -> pd.DataFrame:
    """Every camera with its position (WGS84 and Lambert-93), effective range, requisitions and quartier (IRIS
    name, QPV when inside one). ``on``: only the cameras in service that day."""
    cond, params = "true", {}
    if on is not None:
        cond = "(c.commissioned_on IS NULL OR c.commissioned_on <= :on) AND (c.removed_on IS NULL OR c.removed_on > :on)"
        params = {"on": on}
    with engine.connect() as conn:
        frame = pd.read_sql_query(
            sa.text(f"""
            SELECT c.id, c.code, c.name, c.kind, c.address, c.commissioned_on, c.removed_on, c.direction_deg,
                   c.range_m, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, ST_X(c.geom_l93) AS x, ST_Y(c.geom_l93) AS y,
                   (SELECT count(*) FROM obs.video_requisition_camera rc WHERE rc.camera_id = c.id)::int AS requisitions,
                   (SELECT t.name FROM obs.territory t WHERE t.level = 'iris' AND ST_Contains(t.geom, c.geom) LIMIT 1)
                       AS iris,
                   (SELECT t.name FROM obs.territory t WHERE t.level = 'qpv' AND ST_Contains(t.geom, c.geom) LIMIT 1)
                       AS qpv
            FROM obs.video_camera c WHERE {cond} ORDER BY c.code"""),
            conn,
            params=params,
        )
    frame["reach_m"] = effective_range(frame)
    return frame


def effective_range(frame: pd.DataFrame) -> np.ndarray:
    default = frame["kind"].map(DEFAULT_RANGE).fillna(40.0).to_numpy(dtype=float)
    given = pd.to_numeric(frame["range_m"], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isnan(given), default, given)


def coverage_areas(
    x: np.ndarray, y: np.ndarray, reach: np.ndarray, direction: np.ndarray, arc_points: int = 16
):
    """Shapely polygons (Lambert-93) of what each camera sees: a disc of its range, or a sector of
    :data:`SECTOR_ANGLE` degrees centred on its direction (degrees clockwise from north) when known."""
    import shapely

    x, y, reach = np.asarray(x, float), np.asarray(y, float), np.asarray(reach, float)
    direction = np.asarray(direction, float)
    areas = np.asarray(shapely.buffer(shapely.points(x, y), reach, quad_segs=8), dtype=object)
    aimed = np.flatnonzero(~np.isnan(direction))
    if len(aimed):
        half = math.radians(SECTOR_ANGLE / 2)
        steps = np.linspace(-half, half, arc_points)
        theta = np.radians(direction[aimed])[:, None] + steps[None, :]  # from north, clockwise
        arc_x = x[aimed, None] + reach[aimed, None] * np.sin(theta)
        arc_y = y[aimed, None] + reach[aimed, None] * np.cos(theta)
        ring_x = np.hstack([x[aimed, None], arc_x, x[aimed, None]])
        ring_y = np.hstack([y[aimed, None], arc_y, y[aimed, None]])
        rings = np.stack([ring_x, ring_y], axis=-1)
        areas[aimed] = shapely.polygons(rings)
    return areas


def positions_visible(role: str | None, public: bool) -> bool:
    """Whether ``role`` sees where the cameras stand: the video-protection readers always; the council only
    when the administrator has said the positions are public (``video_cameras_public``: often signposted,
    not always)."""
    from observatoire.permissions import AGGREGATE_ONLY, allowed

    if allowed(role, "video.voir"):
        return True
    return public and role in AGGREGATE_ONLY and allowed(role, "video.synthese")


def undo_problem(conn: Connection, batch_id: int) -> str | None:
    """Why the cameras of import ``batch_id`` cannot be removed (requisitions of the register name them), as a
    French message saying what to do; None when nothing refers to them."""
    # Locked until the undo ends: a requisition typed meanwhile waits, instead of slipping in between.
    conn.execute(sa.text("SELECT id FROM obs.video_camera WHERE batch_id = :b FOR UPDATE"), {"b": batch_id})
    rows = conn.execute(
        sa.text("""
        SELECT r.id, r.batch_id, c.code
        FROM obs.video_camera c
        JOIN obs.video_requisition_camera rc ON rc.camera_id = c.id
        JOIN obs.video_requisition r ON r.id = rc.requisition_id
        WHERE c.batch_id = :b"""),
        {"b": batch_id},
    ).all()
    if not rows:
        return None
    requisitions = {r.id: r.batch_id for r in rows}
    codes = sorted({r.code for r in rows})
    by_batch: dict[int, int] = {}
    typed = 0
    for batch in requisitions.values():
        if batch is None:
            typed += 1
        else:
            by_batch[batch] = by_batch.get(batch, 0) + 1
    named = ", ".join(codes[:10]) + (f" et {len(codes) - 10} autre(s)" if len(codes) > 10 else "")
    message = (
        f"L'import n° {batch_id} ne peut pas être annulé : {len(requisitions)} réquisition(s) du registre "
        f"désignent {len(codes)} de ses caméras ({named}). Rien n'a été annulé."
    )
    if by_batch:
        listed = ", ".join(f"n° {b} ({n} réquisition(s))" for b, n in sorted(by_batch.items()))
        message += (
            f" Annulez d'abord le ou les imports de réquisitions qui les désignent — {listed} —, "
            "puis celui des caméras."
        )
    if typed:
        message += (
            f" {typed} réquisition(s) saisie(s) dans le formulaire les désignent et restent au registre : "
            "ces caméras ne peuvent pas en être retirées (une caméra qui n'est plus en service se signale par "
            "sa date de dépose, pas par l'annulation de son import)."
        )
    return message
