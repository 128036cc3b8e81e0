"""Yearly values of the indicators: entered as drafts, validated by the statutory members, then locked.

The lock and the log live in the database (migration 1800): a trigger refuses any change to a validated value
except an explicit reopening, and another writes every change into ``obs.action_entry_log``. This module names
the user of each change for those triggers (``obs.user_login``) and turns their refusals into French.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from observatoire.errors import NotFound, ObservatoireError, PermissionDenied
from observatoire.permissions import allowed
from observatoire.strategy import plan
from observatoire.strategy.models import PROGRESS, SCALE

SCALE_LABELS = {
    "insuffisant": "Insuffisant",
    "partiel": "Partiel",
    "satisfaisant": "Satisfaisant",
    "tres_satisfaisant": "Très satisfaisant",
}
_YES = {"oui", "o", "1", "vrai", "yes"}
_NO = {"non", "n", "0", "faux", "no"}


class EntryLocked(ObservatoireError):
    """A validated value: it changes only through an explicit, logged reopening."""


@dataclass(frozen=True)
class Value:
    number: Decimal | None = None
    flag: bool | None = None
    quality: str | None = None

    def shown(self) -> str:
        from observatoire import french

        if self.number is not None:
            whole = self.number == int(self.number)
            return french.number(int(self.number)) if whole else french.number(float(self.number), 1)
        if self.flag is not None:
            return "Oui" if self.flag else "Non"
        if self.quality is not None:
            return SCALE_LABELS[self.quality]
        return "—"


def _key(raw: str) -> str:
    from observatoire.text import normalise_header

    return normalise_header(raw).replace(" ", "_")


def parse_value(kind: str, raw: str | None) -> Value:
    """The value of an indicator of ``kind``; ValueError (French) when it is not of that kind."""
    text = (raw or "").strip()
    if not text:
        return Value()
    if kind == "nombre":
        try:
            number = Decimal(
                text.replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
            )
        except InvalidOperation:
            raise ValueError(f"nombre attendu pour cet indicateur, lu « {text[:40]} »") from None
        if not number.is_finite() or number < 0:
            raise ValueError(f"nombre positif attendu pour cet indicateur, lu « {text[:40]} »")
        return Value(number=number)
    if kind == "oui_non":
        low = text.lower()
        if low in _YES:
            return Value(flag=True)
        if low in _NO:
            return Value(flag=False)
        raise ValueError(f"oui ou non attendu pour cet indicateur, lu « {text[:40]} »")
    key = _key(text)
    if key not in SCALE:
        raise ValueError(
            f"appréciation attendue pour cet indicateur ({', '.join(SCALE_LABELS.values())}), lu « {text[:40]} »"
        )
    return Value(quality=key)


def parse_progress(raw: str | None) -> str:
    key = _key(raw or "")
    if key not in PROGRESS:
        raise ValueError(
            f"avancement attendu : {', '.join(plan.PROGRESS_LABELS.values())} ; lu « {(raw or '')[:40]} »"
        )
    return key


def _as_user(conn: Connection, user: str | None) -> None:
    conn.execute(sa.text("SELECT set_config('obs.user_login', :u, true)"), {"u": user or ""})


def _locked_message(exc: sa_exc.DBAPIError) -> bool:
    return "obs:valeur_validee" in str(exc.orig)


def save(
    conn: Connection,
    indicator_id: int,
    year: int,
    value: Value,
    source: str | None,
    progress: str,
    *,
    user: str | None,
    batch_id: int | None = None,
) -> int:
    """Enter or change a draft value (in the caller's transaction)."""
    _as_user(conn, user)
    state = conn.execute(
        sa.text("SELECT state FROM obs.action_entry WHERE indicator_id = :i AND year = :y"),
        {"i": indicator_id, "y": year},
    ).scalar()
    if state == "valide":
        raise EntryLocked(
            f"La valeur {year} de cet indicateur est validée : elle ne peut être modifiée qu'après une réouverture "
            "explicite (motif obligatoire, journalisée)."
        )
    try:
        with conn.begin_nested():
            return (
                conn.execute(
                    sa.text(
                        "INSERT INTO obs.action_entry (indicator_id, year, number_value, bool_value, quality, source, "
                        "progress, entered_by, batch_id) VALUES (:i, :y, :n, :b, :q, :s, :p, :u, :batch) "
                        "ON CONFLICT (indicator_id, year) DO UPDATE SET number_value = excluded.number_value, "
                        "bool_value = excluded.bool_value, quality = excluded.quality, source = excluded.source, "
                        "progress = excluded.progress, entered_by = excluded.entered_by "
                        "WHERE (obs.action_entry.number_value, obs.action_entry.bool_value, obs.action_entry.quality, "
                        "obs.action_entry.source, obs.action_entry.progress) IS DISTINCT FROM "
                        "(excluded.number_value, excluded.bool_value, excluded.quality, excluded.source, "
                        "excluded.progress) RETURNING id"
                    ),
                    {
                        "i": indicator_id,
                        "y": year,
                        "n": value.number,
                        "b": value.flag,
                        "q": value.quality,
                        "s": source,
                        "p": progress,
                        "u": user,
                        "batch": batch_id,
                    },
                ).scalar()
                or 0
            )
    except sa_exc.DBAPIError as exc:
        if _locked_message(exc):
            raise EntryLocked(
                f"La valeur {year} de cet indicateur est validée : réouverture nécessaire."
            ) from None
        raise


def enter(
    engine: Engine,
    fiche: str,
    position: int,
    year: int,
    raw_value: str,
    progress: str,
    *,
    source: str | None = None,
    user: str | None,
    code: str | None = None,
) -> None:
    """The coordinator's entry of one value (CLI and page)."""
    with engine.begin() as conn:
        sid, _, first, last = plan.resolve(conn, code)
        if not first - 1 <= year <= last + 1:
            raise ObservatoireError(f"Année {year} hors de la période de la stratégie ({first}–{last}).")
        ref = plan.find_indicator(conn, sid, fiche, position)
        try:
            value = parse_value(ref.kind, raw_value)
            prog = parse_progress(progress)
        except ValueError as exc:
            raise ObservatoireError(f"Fiche {fiche}, indicateur n° {position}, {year} : {exc}.") from None
        save(conn, ref.id, year, value, source or None, prog, user=user)


def _require(role: str | None, permission: str) -> None:
    if role is not None and not allowed(role, permission):
        raise PermissionDenied(
            "Votre rôle ne permet pas de valider ou de rouvrir les valeurs du plan d'actions."
        )


def validate_year(engine: Engine, year: int, *, user: str, role: str | None, code: str | None = None) -> int:
    """Validate every draft value of ``year``; returns how many. ``role`` None: the CLI operator (admin)."""
    _require(role, "actions.valider")
    with engine.begin() as conn:
        sid, *_ = plan.resolve(conn, code)
        _as_user(conn, user)
        return conn.execute(
            sa.text(
                "UPDATE obs.action_entry e SET state = 'valide', validated_by = :u, validated_at = now() "
                "FROM obs.action_indicator i JOIN obs.action_fiche f ON f.id = i.fiche_id "
                "WHERE e.indicator_id = i.id AND f.strategy_id = :s AND e.year = :y AND e.state = 'brouillon'"
            ),
            {"u": user, "s": sid, "y": year},
        ).rowcount


def reopen(
    engine: Engine,
    fiche: str,
    position: int,
    year: int,
    reason: str,
    *,
    user: str,
    role: str | None,
    code: str | None = None,
) -> None:
    """Put a validated value back to draft: explicit, with its reason, logged by the database."""
    _require(role, "actions.valider")
    if len(reason.strip()) < 5:
        raise ObservatoireError("Une réouverture doit être motivée (quelques mots au moins).")
    with engine.begin() as conn:
        sid, *_ = plan.resolve(conn, code)
        ref = plan.find_indicator(conn, sid, fiche, position)
        _as_user(conn, user)
        conn.execute(sa.text("SELECT set_config('obs.reopen_reason', :r, true)"), {"r": reason.strip()[:500]})
        done = conn.execute(
            sa.text(
                "UPDATE obs.action_entry SET state = 'brouillon', validated_by = NULL, validated_at = NULL "
                "WHERE indicator_id = :i AND year = :y AND state = 'valide'"
            ),
            {"i": ref.id, "y": year},
        ).rowcount
        if not done:
            raise NotFound(f"Aucune valeur validée pour la fiche {fiche}, indicateur n° {position}, {year}.")


def values(engine: Engine, code: str | None = None) -> pd.DataFrame:
    """Every entered value of the strategy, with its indicator."""
    with engine.connect() as conn:
        sid, *_ = plan.resolve(conn, code)
        frame = pd.read_sql_query(
            sa.text(
                "SELECT e.id, f.number AS fiche, f.axis, i.position, i.label, i.kind, e.year, e.number_value, "
                "e.bool_value, e.quality, e.source, e.progress, e.state, e.validated_by "
                "FROM obs.action_entry e JOIN obs.action_indicator i ON i.id = e.indicator_id "
                "JOIN obs.action_fiche f ON f.id = i.fiche_id WHERE f.strategy_id = :s "
                "ORDER BY f.position, i.position, e.year"
            ),
            conn,
            params={"s": sid},
        )
    frame["valeur"] = [
        Value(
            None if pd.isna(n) else Decimal(str(n)),
            None if b is None or pd.isna(b) else bool(b),
            q if isinstance(q, str) else None,
        ).shown()
        for n, b, q in zip(frame["number_value"], frame["bool_value"], frame["quality"], strict=True)
    ]
    return frame


def log(engine: Engine, code: str | None = None, limit: int = 200) -> pd.DataFrame:
    with engine.connect() as conn:
        sid, *_ = plan.resolve(conn, code)
        return pd.read_sql_query(
            sa.text(
                "SELECT l.at, l.action, l.user_login, f.number AS fiche, i.position, l.year, l.reason, "
                "l.before, l.after FROM obs.action_entry_log l JOIN obs.action_indicator i ON i.id = l.indicator_id "
                "JOIN obs.action_fiche f ON f.id = i.fiche_id WHERE f.strategy_id = :s ORDER BY l.id DESC LIMIT :n"
            ),
            conn,
            params={"s": sid, "n": limit},
        )


def progress_by_axis(frame: pd.DataFrame, indicators: pd.DataFrame, year: int) -> list[dict[str, Any]]:
    """Per axis: indicators, values entered for ``year``, validated, and the fiches' progress counts."""
    rows = []
    this_year = frame[frame["year"] == year]
    for axis, group in indicators.groupby("axis"):
        entered = this_year[this_year["axis"] == axis]
        rows.append(
            {
                "axe": plan.axis_label(int(axis)),
                "fiches": int(group["fiche"].nunique()),
                "indicateurs": len(group),
                "renseignes": len(entered),
                "valides": int((entered["state"] == "valide").sum()),
                "realisees": int((entered["progress"] == "realisee").sum()),
                "en_cours": int((entered["progress"] == "en_cours").sum()),
            }
        )
    return rows


def progress_by_fiche(frame: pd.DataFrame, indicators: pd.DataFrame, year: int) -> pd.DataFrame:
    """Per fiche: its indicators, how many are entered for ``year``, done, in progress, validated."""
    this_year = frame[frame["year"] == year]
    rows = []
    for fiche, group in indicators.groupby("fiche", sort=False):
        entered = this_year[this_year["fiche"] == fiche]
        rows.append(
            {
                "Fiche": fiche,
                "Action": group["title"].iloc[0],
                "Indicateurs": len(group),
                f"Renseignés {year}": len(entered),
                "Réalisés": int((entered["progress"] == "realisee").sum()),
                "En cours": int((entered["progress"] == "en_cours").sum()),
                "Validés": int((entered["state"] == "valide").sum()),
            }
        )
    return pd.DataFrame(rows)
