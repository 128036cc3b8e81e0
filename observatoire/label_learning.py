"""Attaching the wordings of files that no nomenclature entry matched to an entry, once and for all.

The police municipale interventions and the police nationale facts keep an unknown wording unclassified
(and a police nationale fact sensitive) rather than guess. An analyst attaches the wording to a type or
category: the mapping is used first by the next imports, and the rows already stored are reclassified,
taking the entry's family (and sensitivity) from the catalogue.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

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


class Vocabulary:
    """What a nomenclature knows of wordings: the entries' names and codes, their keywords (longest first),
    the wordings an analyst attached, and the known wordings a suggestion is taken from.

    ``entries`` are catalogue rows with ``code``, ``label``, ``family_code`` and ``keywords``; ``names`` are
    further wordings of entries (e.g. official index labels), which an entry's own name overrides;
    ``keyword_suggestions`` lets a keyword be suggested too (as its entry's label).
    """

    def __init__(
        self,
        entries: Iterable[Any],
        learnt: dict[str, str],
        names: dict[str, str] | None = None,
        keyword_suggestions: bool = False,
    ) -> None:
        entries = list(entries)
        self.learnt = learnt
        self.family = {e.code: e.family_code for e in entries}
        self.by_name = dict(names or {})
        self.keywords: list[tuple[int, int, str, str]] = []
        for e in entries:
            self.by_name[normalise_header(e.label)] = e.code
            self.by_name[normalise_header(e.code.replace("_", " "))] = e.code
            for k in e.keywords or []:
                kk = normalise_header(k)
                self.keywords.append((len(kk.split()), len(kk), kk, e.code))
        self.keywords.sort(reverse=True)
        self.suggestions = {normalise_header(e.label): e.label for e in entries}
        if keyword_suggestions:
            labels = {e.code: e.label for e in entries}
            self.suggestions.update({kk: labels[code] for *_, kk, code in self.keywords})

    def classify(self, label: str, code: str | None = None) -> Classified:
        """The entry already found (``code``, e.g. by an index), else an attached wording, else the entry's
        name, else the first keyword contained in the normalised label (the longest wins), else unclassified
        with the closest known wording as a suggestion."""
        key = normalise_header(label)
        code = code or self.learnt.get(key) or self.by_name.get(key)
        if code is None:
            padded = f" {key} "
            code = next((c for *_, kk, c in self.keywords if f" {kk} " in padded), None)
        if code is not None:
            return Classified(code, self.family.get(code))
        # Below 0.6 the "closest" label shares little more than a word (« Feu de broussailles » → « feu rouge »):
        # no suggestion is better than a misleading one; typos score above 0.9.
        close = difflib.get_close_matches(key, list(self.suggestions), n=1, cutoff=0.6)
        return Classified(None, None, self.suggestions[close[0]] if close else None)


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
