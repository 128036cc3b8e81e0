"""Strategies, their fiches-actions and indicators: writing a loaded plan, reading the tracker."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire.errors import NotFound

AXES = {
    1: "Mineurs, jeunes et familles",
    2: "Personnes vulnérables, violences intrafamiliales et aide aux victimes",
    3: "Insécurité routière et tranquillité publique",
    4: "Radicalités et extrémismes",
    5: "Santé mentale",
}
KIND_LABELS = {"nombre": "Nombre", "oui_non": "Oui / non", "qualitatif": "Appréciation"}
PROGRESS_LABELS = {
    "non_demarree": "Non démarrée",
    "en_cours": "En cours",
    "realisee": "Réalisée",
    "abandonnee": "Abandonnée",
}
STATE_LABELS = {"brouillon": "Brouillon", "valide": "Validée"}


@dataclass(frozen=True)
class Fiche:
    number: str
    axis: int
    title: str
    status: str
    pilot: str | None
    partners: str | None
    indicators: list[str]


@dataclass(frozen=True)
class IndicatorRef:
    id: int
    kind: str


def axis_label(axis: int) -> str:
    return f"Axe {axis} – {AXES[axis]}" if axis in AXES else f"Axe {axis}"


def kind_of(label: str) -> str:
    """A count when the indicator says so, yes/no for a set-up, an assessment on the scale otherwise."""
    text = label.strip().lower()
    if re.match(r"^(nombre|fréquentation|frequentation|evolution de la fréquentation)", text):
        return "nombre"
    if text.startswith(("mise en place", "création", "creation")):
        return "oui_non"
    return "qualitatif"


def _sort_key(number: str) -> tuple[int, str]:
    m = re.match(r"(\d+)(.*)", number)
    return (int(m.group(1)), m.group(2)) if m else (10_000, number)


def strategy_id(conn: Connection, code: str) -> int | None:
    return conn.execute(sa.text("SELECT id FROM obs.strategy WHERE code = :c"), {"c": code}).scalar()


def insert_strategy(
    conn: Connection, code: str, label: str, first: int, last: int, fiches: list[Fiche], batch_id: int | None
) -> int:
    sid = conn.execute(
        sa.text(
            "INSERT INTO obs.strategy (code, label, first_year, last_year, batch_id) "
            "VALUES (:c, :l, :f, :t, :b) RETURNING id"
        ),
        {"c": code, "l": label, "f": first, "t": last, "b": batch_id},
    ).scalar_one()
    for position, fiche in enumerate(sorted(fiches, key=lambda f: _sort_key(f.number)), start=1):
        fid = conn.execute(
            sa.text(
                "INSERT INTO obs.action_fiche (strategy_id, number, position, axis, title, status, pilot, partners, "
                "batch_id) VALUES (:s, :n, :p, :a, :t, :st, :pi, :pa, :b) RETURNING id"
            ),
            {
                "s": sid,
                "n": fiche.number,
                "p": position,
                "a": fiche.axis,
                "t": fiche.title,
                "st": fiche.status,
                "pi": fiche.pilot,
                "pa": fiche.partners,
                "b": batch_id,
            },
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO obs.action_indicator (fiche_id, position, label, kind) VALUES (:f, :p, :l, :k)"
            ),
            [
                {"f": fid, "p": i, "l": label, "k": kind_of(label)}
                for i, label in enumerate(fiche.indicators, start=1)
            ],
        )
    return sid


def indicator_index(conn: Connection, sid: int) -> dict[tuple[str, int], IndicatorRef]:
    rows = conn.execute(
        sa.text(
            "SELECT f.number, i.position, i.id, i.kind FROM obs.action_indicator i "
            "JOIN obs.action_fiche f ON f.id = i.fiche_id WHERE f.strategy_id = :s"
        ),
        {"s": sid},
    )
    return {(r.number, r.position): IndicatorRef(r.id, r.kind) for r in rows}


def strategies(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT code, label, first_year, last_year FROM obs.strategy ORDER BY first_year DESC, code"
            )
        )
        return [dict(r._mapping) for r in rows]


def resolve(conn: Connection, code: str | None) -> tuple[int, str, int, int]:
    """The strategy named, or the latest one."""
    row = conn.execute(
        sa.text(
            "SELECT id, code, first_year, last_year FROM obs.strategy WHERE CAST(:c AS text) IS NULL OR code = :c "
            "ORDER BY first_year DESC LIMIT 1"
        ),
        {"c": code},
    ).first()
    if row is None:
        raise NotFound(
            f"Stratégie inconnue : {code}."
            if code
            else "Aucun plan d'actions n'est chargé (observatoire import plan-actions FICHIER)."
        )
    return row.id, row.code, row.first_year, row.last_year


def indicators(engine: Engine, code: str | None = None) -> pd.DataFrame:
    """One row per indicator of the strategy, in the plan's order."""
    with engine.connect() as conn:
        sid, *_ = resolve(conn, code)
        return pd.read_sql_query(
            sa.text(
                "SELECT i.id AS indicator_id, f.number AS fiche, f.axis, f.title, f.status, f.pilot, "
                "i.position, i.label, i.kind, i.series FROM obs.action_indicator i "
                "JOIN obs.action_fiche f ON f.id = i.fiche_id WHERE f.strategy_id = :s "
                "ORDER BY f.position, i.position"
            ),
            conn,
            params={"s": sid},
        )


def find_indicator(conn: Connection, sid: int, fiche: str, position: int) -> IndicatorRef:
    found = indicator_index(conn, sid).get((fiche.lower(), position))
    if found is None:
        raise NotFound(f"Indicateur introuvable : fiche {fiche}, indicateur n° {position}.")
    return found


def link_series(
    engine: Engine, fiche: str, position: int, series: list[str], *, code: str | None = None
) -> None:
    """Tie an indicator to observed series (keys of :data:`observatoire.strategy.links.SERIES`)."""
    from observatoire.strategy.links import SERIES

    unknown = [s for s in series if s not in SERIES]
    if unknown:
        raise NotFound(
            "Série observée inconnue : "
            + ", ".join(unknown)
            + ". Séries possibles : "
            + ", ".join(SERIES)
            + "."
        )
    with engine.begin() as conn:
        sid, *_ = resolve(conn, code)
        ref = find_indicator(conn, sid, fiche, position)
        conn.execute(
            sa.text("UPDATE obs.action_indicator SET series = :s WHERE id = :i"),
            {"s": list(series), "i": ref.id},
        )
