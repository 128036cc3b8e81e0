"""The categories of geolocated police nationale facts, and the wordings an analyst attaches to them.

A fact whose wording matched no category is kept unclassified and sensitive (never drawn as a point);
attaching its wording to a category reclassifies the stored facts that have no état 4001 index (the index,
the service's own classification, always wins) and gives them the category's sensitivity.
"""

from __future__ import annotations

import re

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import label_learning
from observatoire.label_learning import Classified, resolve_label
from observatoire.police_nationale.indicators import ETAT4001_LABELS, UNUSED_INDEXES
from observatoire.text import normalise_header

PERMISSION = "pn.nomenclature"
# The index as files write it: ``27``, ``Index 27``, ``27 - Cambriolages de locaux d'habitations principales``.
INDEX_PATTERN = re.compile(r"^\s*(?:index\s*)?(\d{1,3})(?!\d)", re.IGNORECASE)


def classify_labels(conn: Connection, labels: list[str]) -> dict[str, Classified]:
    """Category of each wording: its état 4001 index (number or official label), else a wording an analyst
    attached, else the category's own name, else its keywords (the longest one found wins), else unknown with
    the closest category suggested."""
    cats = conn.execute(
        sa.text("SELECT code, label, family_code, etat4001_indexes, keywords FROM obs.pn_fact_category")
    ).all()
    learnt = dict(conn.execute(sa.text("SELECT label_key, category_code FROM obs.pn_label_mapping")).all())
    family = {c.code: c.family_code for c in cats}
    by_index = {n: c.code for c in cats for n in c.etat4001_indexes or []}
    by_name: dict[str, str] = {
        normalise_header(lbl): by_index[n]
        for n, lbl in ETAT4001_LABELS.items()
        if n not in UNUSED_INDEXES and n in by_index
    }
    keywords: list[tuple[int, int, str, str]] = []
    for c in cats:
        by_name[normalise_header(c.label)] = c.code
        by_name[normalise_header(c.code.replace("_", " "))] = c.code
        for k in c.keywords or []:
            kk = normalise_header(k)
            keywords.append((len(kk.split()), len(kk), kk, c.code))
    keywords.sort(reverse=True)
    vocabulary = {normalise_header(c.label): c.label for c in cats}
    result: dict[str, Classified] = {}
    for label in labels:
        number = INDEX_PATTERN.match(label)
        code = by_index.get(int(number.group(1))) if number else None
        key = normalise_header(label)
        result[label] = resolve_label(
            key, code or learnt.get(key) or by_name.get(key), keywords, vocabulary, family
        )
    return result


def nomenclature() -> label_learning.Nomenclature:
    return label_learning.Nomenclature(
        permission=PERMISSION,
        catalogue="obs.pn_fact_category",
        mapping="obs.pn_label_mapping",
        rows="obs.pn_fact",
        code="category_code",
        copied=("family_code", "sensitive"),
        reclassifiable="etat4001_index IS NULL",
        classify=classify_labels,
        audit_target="libelle_pn",
    )


def list_categories(engine: Engine) -> pd.DataFrame:
    """Every category with its family, its sensitivity and the number of facts stored under it."""
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text("""
            SELECT c.code, c.label, c.family_code, f.label AS family_label, c.sensitive,
                   COALESCE(n.facts, 0) AS facts
            FROM obs.pn_fact_category c JOIN obs.pn_fact_family f ON f.code = c.family_code
            LEFT JOIN (SELECT category_code, count(*) AS facts FROM obs.pn_fact
                       WHERE category_code IS NOT NULL GROUP BY category_code) n ON n.category_code = c.code
            ORDER BY f.position, c.label"""),
            conn,
        )


def unknown_labels(engine: Engine) -> pd.DataFrame:
    """Wordings of stored facts outside the categories, most frequent first, with a suggestion."""
    return label_learning.unknown_labels(engine, nomenclature()).rename(columns={"n": "facts"})


def learn_label(
    engine: Engine, label: str, category_code: str, *, user: str | None = None, role: str | None = None
) -> int:
    """Attach a wording to a category; returns the number of stored facts reclassified."""
    return label_learning.learn_label(engine, nomenclature(), label, category_code, user=user, role=role)
