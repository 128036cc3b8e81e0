"""Writing a survey wave (codebook and coded answers) in the import's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection


@dataclass
class Variable:
    code: str
    label: str
    kind: str  # "profil" or "question"
    answers: list[tuple[str, str]] = field(default_factory=list)  # (code, label) in the codebook's order


def survey_exists(conn: Connection, code: str) -> bool:
    return conn.execute(sa.text("SELECT 1 FROM obs.survey WHERE code = :c"), {"c": code}).scalar() is not None


def insert(
    conn: Connection,
    code: str,
    label: str,
    fielded_on: date | None,
    variables: list[Variable],
    answers: list[tuple[int, str, str]],
    batch_id: int,
) -> int:
    sid = conn.execute(
        sa.text(
            "INSERT INTO obs.survey (code, label, fielded_on, batch_id) VALUES (:c, :l, :d, :b) RETURNING id"
        ),
        {"c": code, "l": label, "d": fielded_on, "b": batch_id},
    ).scalar_one()
    ids = {}
    for position, var in enumerate(variables, start=1):
        ids[var.code] = conn.execute(
            sa.text(
                "INSERT INTO obs.survey_variable (survey_id, code, label, kind, position, answers) "
                "VALUES (:s, :c, :l, :k, :p, CAST(:a AS jsonb)) RETURNING id"
            ),
            {
                "s": sid,
                "c": var.code,
                "l": var.label,
                "k": var.kind,
                "p": position,
                "a": json.dumps([list(a) for a in var.answers], ensure_ascii=False),
            },
        ).scalar_one()
    conn.execute(
        sa.text(
            "INSERT INTO obs.survey_answer (survey_id, respondent, variable_id, code, batch_id) "
            "SELECT :s, r, v, c, :b FROM unnest(CAST(:r AS int[]), CAST(:v AS int[]), CAST(:c AS text[])) AS u(r, v, c)"
        ),
        {
            "s": sid,
            "b": batch_id,
            "r": [a[0] for a in answers],
            "v": [ids[a[1]] for a in answers],
            "c": [a[2] for a in answers],
        },
    )
    return sid
