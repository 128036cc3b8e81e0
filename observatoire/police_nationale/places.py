"""Territories chosen by a person: by name (communes, départements, régions) with completion, codes still
accepted, and a French message with suggestions for anything else."""

from __future__ import annotations

import difflib
import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire.errors import NotFound
from observatoire.police_nationale import rates
from observatoire.text import normalise_header

LEVELS = ("commune", "departement", "region", "pays")
_CODE_IN_LABEL = re.compile(r"\(([^()]+)\)\s*$")
LEVEL_WORDS = {"commune": "commune", "departement": "département", "region": "région", "pays": ""}


def label(code: str, name: str, level: str) -> str:
    """What the completion list shows and gives back: ``Manosque (04112)``, ``Var (DEP:83)``."""
    shown = code[4:] if code.startswith("COM:") else code
    return f"{name} ({shown})" if name and name != shown and name != code else shown


def _candidates(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT code, name, level FROM obs.territory WHERE level = ANY(:l) "
                    "ORDER BY (level = 'commune'), name"
                ),
                {"l": list(LEVELS)},
            ).all()
        ]


def complete(engine: Engine, typed: str | None, limit: int = 20) -> list[str]:
    """Labels of the territories whose name or code starts with (else contains) what was typed."""
    key = normalise_header(typed or "")
    if len(key) < 2:
        return []
    starts, contains = [], []
    for code, name, level in _candidates(engine):
        name_key = normalise_header(name or "")
        code_key = normalise_header(code)
        if name_key.startswith(key) or code_key.startswith(key) or code_key.endswith(" " + key):
            starts.append(label(code, name, level))
        elif key in name_key:
            contains.append(label(code, name, level))
        if len(starts) >= limit:
            break
    return (starts + contains)[:limit]


def resolve(engine: Engine, typed: str | None) -> str:
    """The territory code of a name, a completion label or a code; NotFound in French with suggestions."""
    text = (typed or "").strip()
    if not text:
        raise NotFound("Saisissez une commune, un département ou une région (nom ou code INSEE).")
    inner = _CODE_IN_LABEL.search(text)
    for attempt in ([inner.group(1)] if inner else []) + [text]:
        try:
            return rates.parse_territory(attempt)
        except NotFound:
            pass
    key = normalise_header(text)
    rows = _candidates(engine)
    exact = [(c, n, lv) for c, n, lv in rows if normalise_header(n or "") == key]
    if len(exact) == 1:
        return exact[0][0]
    if len(exact) > 1:
        raise NotFound(
            f"Plusieurs territoires s'appellent « {text} » : "
            + ", ".join(f"{label(c, n, lv)} ({LEVEL_WORDS[lv] or 'pays'})" for c, n, lv in exact[:10])
            + ". Choisissez-en un dans la liste ou saisissez son code."
        )
    names = {normalise_header(n or ""): label(c, n, lv) for c, n, lv in rows}
    close = difflib.get_close_matches(key, list(names), n=5, cutoff=0.6)
    hint = (
        " Vouliez-vous dire : " + ", ".join(names[k] for k in close) + " ?"
        if close
        else " Saisissez le nom d'une commune, d'un département ou d'une région, ou son code INSEE "
        "(04112, DEP:04, REG:93)."
    )
    raise NotFound(f"Territoire inconnu : « {text} ».{hint}")


def name_of(engine: Engine, code: str) -> str:
    """A territory's name for titles, its code when the name is unknown."""
    with engine.connect() as conn:
        name = conn.execute(sa.text("SELECT name FROM obs.territory WHERE code = :c"), {"c": code}).scalar()
    return name or code
