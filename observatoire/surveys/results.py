"""Results of a survey wave: the answers to a question, overall or per profile, with the number of respondents;
the comparison of two waves. A sample that is not representative cannot be extrapolated: every result says so."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from observatoire.errors import NotFound

WARNING = (
    "Échantillon non représentatif : ces résultats décrivent les seules personnes qui ont répondu et ne peuvent "
    "pas être étendus à l'ensemble de la population."
)
PROFILE_LABELS = {
    "age": "Tranche d'âge",
    "sexe": "Sexe",
    "resident": "Résident ou non",
    "csp": "Catégorie socio-professionnelle",
    "quartier": "Quartier",
}
SMALL = 5  # a group smaller than this is not broken down for the roles that see aggregates only


def waves(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT s.code, s.label, s.fielded_on, (SELECT count(DISTINCT respondent) FROM obs.survey_answer a "
                "WHERE a.survey_id = s.id) AS respondents FROM obs.survey s ORDER BY s.fielded_on NULLS LAST, s.code"
            )
        )
        return [dict(r._mapping) for r in rows]


def variables(engine: Engine, wave: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT v.code, v.label, v.kind, v.answers FROM obs.survey_variable v JOIN obs.survey s "
                "ON s.id = v.survey_id WHERE s.code = :w ORDER BY v.position"
            ),
            {"w": wave},
        )
        found = [dict(r._mapping) for r in rows]
    if not found:
        raise NotFound(f"Vague d'enquête inconnue : {wave}.")
    return found


def results(
    engine: Engine, wave: str, question: str, by: str | None = None, *, mask_small: bool = False
) -> pd.DataFrame:
    """One row per (profile group,) answer: ``groupe``, ``reponse``, ``n``, ``effectif`` (respondents of the group
    who answered), ``part`` (%). Every answer of the codebook appears, answered or not."""
    described = {v["code"]: v for v in variables(engine, wave)}
    if question not in described or described[question]["kind"] != "question":
        raise NotFound(f"Question inconnue dans la vague {wave} : {question}.")
    if by is not None and by not in PROFILE_LABELS:
        raise NotFound(f"Profil inconnu : {by}. Profils : {', '.join(PROFILE_LABELS)}.")
    with engine.connect() as conn:
        frame = pd.read_sql_query(
            sa.text(
                """
                SELECT q.code AS answer, COALESCE(p.code, '') AS grp, count(*) AS n
                FROM obs.survey s
                JOIN obs.survey_variable qv ON qv.survey_id = s.id AND qv.code = :q
                JOIN obs.survey_answer q ON q.variable_id = qv.id
                LEFT JOIN obs.survey_variable pv ON pv.survey_id = s.id AND pv.code = :by
                LEFT JOIN obs.survey_answer p ON p.variable_id = pv.id AND p.respondent = q.respondent
                WHERE s.code = :w GROUP BY 1, 2"""
            ),
            conn,
            params={"w": wave, "q": question, "by": by or ""},
        )
    answers = described[question]["answers"]
    groups = [("", "Ensemble")] if by is None else [(c, label) for c, label in described[by]["answers"]]
    if by is not None and (frame["grp"] == "").any():
        groups.append(("", "Non renseigné"))
    counts = {(r.grp, r.answer): int(r.n) for r in frame.itertuples()}
    rows = []
    for gcode, glabel in groups:
        total = sum(counts.get((gcode, a), 0) for a, _ in answers)
        for acode, alabel in answers:
            n = counts.get((gcode, acode), 0)
            hidden = mask_small and total < SMALL
            rows.append(
                {
                    "groupe": glabel,
                    "reponse": alabel,
                    "n": None if hidden else n,
                    "effectif": total,
                    "part": None if hidden or total == 0 else 100 * n / total,
                }
            )
    return pd.DataFrame(rows, columns=["groupe", "reponse", "n", "effectif", "part"])


def compare(engine: Engine, first: str, second: str, question: str) -> pd.DataFrame:
    """The answers' shares in two waves, their difference in points and whether it exceeds chance (two
    proportions, 5 %). The question is matched by its code; answers by their label."""
    a = results(engine, first, question)
    b = results(engine, second, question)
    merged = a.merge(b, on="reponse", how="outer", suffixes=("_1", "_2"), sort=False)
    order = list(
        dict.fromkeys(list(b["reponse"]) + list(a["reponse"]))
    )  # the codebook's order, not the alphabet
    merged = merged.set_index("reponse").loc[order].reset_index()
    out = []
    for r in merged.itertuples():
        p1, p2 = (r.part_1 or 0) / 100, (r.part_2 or 0) / 100
        n1, n2 = r.effectif_1 or 0, r.effectif_2 or 0
        pooled = ((r.n_1 or 0) + (r.n_2 or 0)) / (n1 + n2) if n1 + n2 else 0
        se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)) if n1 and n2 and 0 < pooled < 1 else 0
        z = (p2 - p1) / se if se else 0
        out.append(
            {
                "reponse": r.reponse,
                "part_1": r.part_1,
                "part_2": r.part_2,
                "ecart": (p2 - p1) * 100,
                "significatif": abs(z) > 1.959964,
                "effectif_1": n1,
                "effectif_2": n2,
            }
        )
    return pd.DataFrame(out)
