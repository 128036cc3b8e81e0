"""Models of the strategy's action plan: strategies, fiches-actions, their follow-up indicators, the yearly
values (draft → validated, locked in the database once validated), their log, and the evaluations of
placed actions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from observatoire.models import Base

KINDS = ("nombre", "oui_non", "qualitatif")
PROGRESS = ("non_demarree", "en_cours", "realisee", "abandonnee")
STATES = ("brouillon", "valide")
SCALE = ("insuffisant", "partiel", "satisfaisant", "tres_satisfaisant")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Strategy(Base):
    """One strategy and its period (several coexist: 2024–2027, the next one…)."""

    __tablename__ = "strategy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(Text)
    first_year: Mapped[int] = mapped_column(SmallInteger)
    last_year: Mapped[int] = mapped_column(SmallInteger)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))


class ActionFiche(Base):
    __tablename__ = "action_fiche"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategy.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(SmallInteger)
    axis: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    pilot: Mapped[str | None] = mapped_column(Text)
    partners: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    __table_args__ = (
        UniqueConstraint("strategy_id", "number"),
        CheckConstraint("status IN ('nouvelle', 'reconduite')", name="status"),
    )


class ActionIndicator(Base):
    __tablename__ = "action_indicator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fiche_id: Mapped[int] = mapped_column(ForeignKey("action_fiche.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    label: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(12))
    # Key of an observed series (observatoire.strategy.links.SERIES) shown beside the indicator's progress.
    series: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))

    __table_args__ = (
        UniqueConstraint("fiche_id", "position"),
        CheckConstraint(_in("kind", KINDS), name="kind"),
    )


class ActionEntry(Base):
    """One indicator × year. A validated row can only go back to draft, values unchanged, through
    ``obs.action_entry_reopen`` (a trigger refuses everything else); every change is logged by a trigger."""

    __tablename__ = "action_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("action_indicator.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(SmallInteger)
    number_value: Mapped[Decimal | None] = mapped_column(Numeric)
    bool_value: Mapped[bool | None] = mapped_column(Boolean)
    quality: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(10), server_default="brouillon")
    entered_by: Mapped[str | None] = mapped_column(String(80))
    validated_by: Mapped[str | None] = mapped_column(String(80))
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    __table_args__ = (
        UniqueConstraint("indicator_id", "year"),
        CheckConstraint(_in("progress", PROGRESS), name="progress"),
        CheckConstraint(_in("state", STATES), name="state"),
        CheckConstraint("quality IS NULL OR " + _in("quality", SCALE), name="quality"),
        CheckConstraint("num_nonnulls(number_value, bool_value, quality) <= 1", name="one_value"),
    )


class ActionEntryLog(Base):
    """Written by the triggers of ``action_entry`` only: the application role may not change it."""

    __tablename__ = "action_entry_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Integer)
    indicator_id: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(SmallInteger)
    action: Mapped[str] = mapped_column(String(20))
    user_login: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ActionEvaluation(Base):
    """A placed action to evaluate: its area, its start, the events it should change."""

    __tablename__ = "action_evaluation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fiche_id: Mapped[int | None] = mapped_column(ForeignKey("action_fiche.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(
        Text
    )  # how the area was given (IRIS/QPV code, streets, point + radius)
    geom_l93: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", 2154, spatial_index=False))
    start_date: Mapped[date] = mapped_column(Date)
    event_source: Mapped[str] = mapped_column(String(20))
    family: Mapped[str | None] = mapped_column(String(40))
    buffer_m: Mapped[int] = mapped_column(Integer, server_default="300")
    created_by: Mapped[str | None] = mapped_column(String(80))
