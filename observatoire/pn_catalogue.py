"""The categories of geolocated police nationale facts, and the wordings an analyst attaches to them.

A fact whose wording matched no category is kept unclassified and sensitive (never drawn as a point);
attaching its wording to a category reclassifies the stored facts that have no état 4001 index (the index,
the service's own classification, always wins) and gives them the category's sensitivity.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire import label_learning

PERMISSION = "pn.nomenclature"


def nomenclature() -> label_learning.Nomenclature:
    from ingest.pn_faits import classify_labels

    return label_learning.Nomenclature(
        permission=PERMISSION, catalogue="obs.pn_fact_category", mapping="obs.pn_label_mapping",
        rows="obs.pn_fact", code="category_code", copied=("family_code", "sensitive"),
        reclassifiable="etat4001_index IS NULL", classify=classify_labels, audit_target="libelle_pn")


def list_categories(engine: Engine) -> pd.DataFrame:
    """Every category with its family, its sensitivity and the number of facts stored under it."""
    with engine.connect() as conn:
        return pd.read_sql(sa.text("""
            SELECT c.code, c.label, c.family_code, f.label AS family_label, c.sensitive,
                   COALESCE(n.facts, 0) AS facts
            FROM obs.pn_fact_category c JOIN obs.pn_fact_family f ON f.code = c.family_code
            LEFT JOIN (SELECT category_code, count(*) AS facts FROM obs.pn_fact
                       WHERE category_code IS NOT NULL GROUP BY category_code) n ON n.category_code = c.code
            ORDER BY f.position, c.label"""), conn)


def unknown_labels(engine: Engine) -> pd.DataFrame:
    """Wordings of stored facts outside the categories, most frequent first, with a suggestion."""
    return label_learning.unknown_labels(engine, nomenclature()).rename(columns={"n": "facts"})


def learn_label(engine: Engine, label: str, category_code: str, *, user: str | None = None,
                role: str | None = None) -> int:
    """Attach a wording to a category; returns the number of stored facts reclassified."""
    return label_learning.learn_label(engine, nomenclature(), label, category_code, user=user, role=role)
