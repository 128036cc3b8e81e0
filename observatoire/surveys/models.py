"""Models of perceived-insecurity surveys: a wave, its codebook (questions and profile variables with their
answer labels), its anonymous respondents and their coded answers. No free text is ever stored."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from observatoire.models import Base

PROFILE = ("age", "sexe", "resident", "csp", "quartier")


class Survey(Base):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(Text)
    fielded_on: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))


class SurveyVariable(Base):
    """A question or a profile variable, with its answers as ``[[code, label], …]`` in the codebook's order."""

    __tablename__ = "survey_variable"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(SmallInteger)
    answers: Mapped[list[Any]] = mapped_column(JSONB)

    __table_args__ = (
        UniqueConstraint("survey_id", "code"),
        CheckConstraint("kind IN ('question', 'profil')", name="kind"),
    )


class SurveyAnswer(Base):
    """One coded answer of one anonymous respondent (numbered within the wave, never identified)."""

    __tablename__ = "survey_answer"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    respondent: Mapped[int] = mapped_column(Integer)
    variable_id: Mapped[int] = mapped_column(ForeignKey("survey_variable.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"))

    __table_args__ = (UniqueConstraint("survey_id", "respondent", "variable_id"),)
