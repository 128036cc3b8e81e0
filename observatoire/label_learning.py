"""Attaching the wordings of files that no nomenclature entry matched to an entry, once and for all.

The police municipale interventions and the police nationale facts keep an unknown wording unclassified
(and a police nationale fact sensitive) rather than guess. An analyst attaches the wording to a type or
category: the mapping is used first by the next imports, and the rows already stored are reclassified,
taking the entry's family (and sensitivity) from the catalogue.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import audit
from observatoire.errors import NotFound, PermissionDenied
from observatoire.permissions import allowed
from observatoire.text import normalise_header


@dataclass(frozen=True)
class Classified:
    type_code: str | None
    family_code: str | None
    suggestion: str | None = None  # label of the closest type when unknown


def resolve_label(
    key: str, code: str | None, keywords: list[tuple], vocabulary: dict[str, str], family: dict[str, str]
) -> Classified:
    """The type already found (index, name, learnt label), else the first keyword contained in the
    normalised label, else unclassified with the closest known label as a suggestion."""
    if code is None:
        padded = f" {key} "
        code = next((c for *_, kk, c in keywords if f" {kk} " in padded), None)
    if code is not None:
        return Classified(code, family.get(code))
    # Below 0.6 the "closest" label shares little more than a word (« Feu de broussailles » → « feu rouge »):
    # no suggestion is better than a misleading one; typos score above 0.9.
    close = difflib.get_close_matches(key, list(vocabulary), n=1, cutoff=0.6)
    return Classified(None, None, vocabulary[close[0]] if close else None)


@dataclass(frozen=True)
class Nomenclature:
    """Where a source keeps its catalogue, its learnt wordings and its rows."""

    permission: str
    catalogue: str  # e.g. obs.pm_intervention_type (code, label, family_code…)
    mapping: str  # obs.<…>_label_mapping (label_key, <code>, created_by, created_at)
    rows: str  # the table of rows (label, label_key, <code>…)
    code: str  # the code column in ``mapping`` and ``rows``
    copied: tuple[str, ...]  # catalogue columns copied onto the rows (family_code, sensitive…)
    # Rows a wording may reclassify: a police nationale fact classified by its état 4001 index keeps it.
    reclassifiable: str
    classify: Callable[[Connection, list[str]], dict]  # the import's classification, for suggestions
    audit_target: str


def label_key(label: str) -> str:
    return normalise_header(label) or label.strip().lower()


def unknown_labels(engine: Engine, nom: Nomenclature) -> pd.DataFrame:
    """Wordings of stored rows left outside the nomenclature, most frequent first: label, n, suggestion (the
    label of the closest entry, or None)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT min(label) AS label, count(*) AS n FROM {nom.rows} WHERE {nom.code} IS NULL "
                f"AND {nom.reclassifiable} GROUP BY label_key ORDER BY n DESC, label"
            )
        ).all()
        found = nom.classify(conn, [r.label for r in rows])
    return pd.DataFrame(
        [{"label": r.label, "n": r.n, "suggestion": found[r.label].suggestion} for r in rows],
        columns=["label", "n", "suggestion"],
    )


def learn_label(
    engine: Engine,
    nom: Nomenclature,
    label: str,
    code: str,
    *,
    user: str | None = None,
    role: str | None = None,
) -> int:
    """Attach ``label`` to the entry ``code`` for the next imports and reclassify the stored rows with that
    wording. Returns the number of rows reclassified."""
    if role is not None and not allowed(role, nom.permission):
        raise PermissionDenied("Votre rôle ne permet pas de modifier la nomenclature.")
    key = label_key(label)
    with engine.begin() as conn:
        entry = (
            conn.execute(
                sa.text(f"SELECT {', '.join(nom.copied)} FROM {nom.catalogue} WHERE code = :c"), {"c": code}
            )
            .mappings()
            .first()
        )
        if entry is None:
            raise NotFound(f"Entrée de nomenclature inconnue : {code!r}.")
        conn.execute(
            sa.text(f"""
            INSERT INTO {nom.mapping} (label_key, {nom.code}, created_by) VALUES (:k, :c, :u)
            ON CONFLICT (label_key) DO UPDATE SET {nom.code} = EXCLUDED.{nom.code}, created_by = EXCLUDED.created_by,
                created_at = now()"""),
            {"k": key, "c": code, "u": user},
        )
        copied = "".join(f", {column} = :{column}" for column in nom.copied)
        moved = conn.execute(
            sa.text(
                f"UPDATE {nom.rows} SET {nom.code} = :c{copied} WHERE label_key = :k AND {nom.reclassifiable}"
            ),
            {"c": code, "k": key, **entry},
        ).rowcount
        audit.record(
            conn,
            "nomenclature_modifiee",
            user_login=user,
            role=role,
            target=nom.audit_target,
            detail={"libelle": label, "code": code, "reclassees": moved},
        )
        return moved
