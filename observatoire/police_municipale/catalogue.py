"""The police municipale nomenclature, editable by an analyst: families, types, labels learnt from files.

Editing a type's family, or attaching a file label to a type, reclassifies the interventions already
stored, so the activity figures always follow the current nomenclature.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from observatoire import audit, label_learning
from observatoire.errors import NotFound, ObservatoireError, PermissionDenied
from observatoire.label_learning import Classified, resolve_label
from observatoire.permissions import allowed
from observatoire.text import normalise_header

PERMISSION = "pm.nomenclature"  # analysts and administrators curate the nomenclature


def _check(role: str | None) -> None:
    if role is not None and not allowed(role, PERMISSION):
        raise PermissionDenied("Votre rôle ne permet pas de modifier la nomenclature.")


def list_families(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text("SELECT code, label, position FROM obs.pm_family ORDER BY position, code"), conn
        )


def list_types(engine: Engine) -> pd.DataFrame:
    """Every type with its family and the number of interventions stored under it."""
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text("""
            SELECT t.code, t.label, t.family_code, f.label AS family_label, t.keywords, t.sensitive, t.active,
                   COALESCE(n.interventions, 0) AS interventions
            FROM obs.pm_intervention_type t JOIN obs.pm_family f ON f.code = t.family_code
            LEFT JOIN (SELECT type_code, count(*) AS interventions FROM obs.pm_intervention
                       WHERE type_code IS NOT NULL GROUP BY type_code) n ON n.type_code = t.code
            ORDER BY f.position, t.label"""),
            conn,
        )


def _audit(conn, what: str, user: str | None, role: str | None, detail: dict) -> None:
    audit.record(conn, "nomenclature_modifiee", user_login=user, role=role, target=what, detail=detail)


def save_family(
    engine: Engine,
    code: str,
    label: str,
    position: int = 50,
    *,
    role: str | None = None,
    user: str | None = None,
) -> None:
    _check(role)
    with engine.begin() as conn:
        conn.execute(
            sa.text("""
            INSERT INTO obs.pm_family (code, label, position) VALUES (:c, :l, :p)
            ON CONFLICT (code) DO UPDATE SET label = EXCLUDED.label, position = EXCLUDED.position"""),
            {"c": code.strip(), "l": label.strip(), "p": position},
        )
        _audit(conn, "famille", user, role, {"code": code.strip(), "libelle": label.strip()})


def save_type(
    engine: Engine,
    code: str,
    label: str,
    family_code: str,
    keywords: list[str] | None = None,
    *,
    sensitive: bool = False,
    active: bool = True,
    role: str | None = None,
    user: str | None = None,
) -> None:
    """Create or update a type; interventions of the type follow a change of family."""
    _check(role)
    with engine.begin() as conn:
        if not conn.execute(
            sa.text("SELECT 1 FROM obs.pm_family WHERE code = :f"), {"f": family_code}
        ).scalar():
            families = (
                conn.execute(sa.text("SELECT code FROM obs.pm_family ORDER BY position")).scalars().all()
            )
            raise NotFound(f"Famille inconnue : {family_code!r} (familles : {', '.join(families)}).")
        conn.execute(
            sa.text("""
            INSERT INTO obs.pm_intervention_type (code, label, family_code, keywords, sensitive, active)
            VALUES (:c, :l, :f, :k, :s, :a)
            ON CONFLICT (code) DO UPDATE SET label = EXCLUDED.label, family_code = EXCLUDED.family_code,
                keywords = EXCLUDED.keywords, sensitive = EXCLUDED.sensitive, active = EXCLUDED.active"""),
            {
                "c": code.strip(),
                "l": label.strip(),
                "f": family_code,
                "k": [k.strip() for k in keywords or []],
                "s": sensitive,
                "a": active,
            },
        )
        conn.execute(
            sa.text(
                "UPDATE obs.pm_intervention SET family_code = :f WHERE type_code = :c "
                "AND family_code IS DISTINCT FROM :f"
            ),
            {"c": code, "f": family_code},
        )
        _audit(conn, "type", user, role, {"code": code.strip(), "famille": family_code, "actif": active})


def delete_type(engine: Engine, code: str, *, role: str | None = None, user: str | None = None) -> None:
    """Only a type nothing refers to can go; otherwise deactivate it (``save_type(active=False)``)."""
    _check(role)
    with engine.begin() as conn:
        # The message gives the count: one scan of the interventions, for an occasional edit.
        used = conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM obs.pm_intervention WHERE type_code = :c) + "
                "(SELECT count(*) FROM obs.pm_label_mapping WHERE type_code = :c)"
            ),
            {"c": code},
        ).scalar()
        if used:
            raise ObservatoireError(
                f"Le type {code!r} est utilisé ({used} intervention(s) ou libellé(s)) : "
                "désactivez-le plutôt que de le supprimer."
            )
        conn.execute(sa.text("DELETE FROM obs.pm_intervention_type WHERE code = :c"), {"c": code})
        _audit(conn, "type_supprime", user, role, {"code": code})


def classify_labels(conn: Connection, labels: list[str]) -> dict[str, Classified]:
    """Type of each free label: a label an analyst attached, else the type's own name, else its keywords
    (the longest one found wins), else unknown with the closest type as a suggestion."""
    types = conn.execute(
        sa.text("SELECT code, label, family_code, keywords FROM obs.pm_intervention_type WHERE active")
    ).all()
    learnt = dict(conn.execute(sa.text("SELECT m.label_key, m.type_code FROM obs.pm_label_mapping m")).all())
    family = {t.code: t.family_code for t in types}
    by_name: dict[str, str] = {}
    keywords: list[tuple[int, int, str, str]] = []
    for t in types:
        by_name[normalise_header(t.label)] = t.code
        by_name[normalise_header(t.code.replace("_", " "))] = t.code
        for k in t.keywords or []:
            kk = normalise_header(k)
            keywords.append((len(kk.split()), len(kk), kk, t.code))
    keywords.sort(reverse=True)
    vocabulary = {normalise_header(t.label): t.label for t in types}
    vocabulary.update({kk: next(t.label for t in types if t.code == code) for _, _, kk, code in keywords})
    result: dict[str, Classified] = {}
    for label in labels:
        key = normalise_header(label)
        result[label] = resolve_label(key, learnt.get(key) or by_name.get(key), keywords, vocabulary, family)
    return result


def nomenclature():
    return label_learning.Nomenclature(
        permission=PERMISSION,
        catalogue="obs.pm_intervention_type",
        mapping="obs.pm_label_mapping",
        rows="obs.pm_intervention",
        code="type_code",
        copied=("family_code",),
        reclassifiable="true",
        classify=classify_labels,
        audit_target="libelle",
    )


def learn_label(
    engine: Engine, label: str, type_code: str, *, user: str | None = None, role: str | None = None
) -> int:
    """Attach a file label to a type for the next imports and reclassify the stored interventions.

    Returns the number of interventions reclassified.
    """
    return label_learning.learn_label(engine, nomenclature(), label, type_code, user=user, role=role)


def list_learnt_labels(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(
            sa.text(
                "SELECT label_key, type_code, created_by, created_at FROM obs.pm_label_mapping "
                "ORDER BY label_key"
            ),
            conn,
        )


def unknown_labels(engine: Engine) -> pd.DataFrame:
    """Labels of stored interventions outside the nomenclature, most frequent first, with a suggestion."""
    return label_learning.unknown_labels(engine, nomenclature()).rename(columns={"n": "interventions"})
