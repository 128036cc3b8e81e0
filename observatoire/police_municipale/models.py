"""Models of the police municipale source: interventions, their families and types, the labels learnt.

The address base (BAN) and the mapping profiles, which every event source uses, are in :mod:`observatoire.models`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from observatoire.models import Base

GEOCODING_STATUSES = ("coordonnees", "geocode", "non_geolocalise")
ORIGINS = ("initiative", "appel", "demande", "autre")


class PmFamily(Base):
    """Family of intervention types (tranquillité publique, circulation…). Seeded catalogue."""

    __tablename__ = "pm_family"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, server_default="0")

    # "catalogue" in the comment keeps the seeded rows when tests empty the database.
    __table_args__ = {"comment": "catalogue des familles d'interventions de police municipale"}


class PmInterventionType(Base):
    """One type of the nomenclature; ``keywords`` recognise the free labels of the logbook exports."""

    __tablename__ = "pm_intervention_type"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    family_code: Mapped[str] = mapped_column(ForeignKey("pm_family.code", onupdate="CASCADE"), index=True)
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    sensitive: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = {"comment": "catalogue des types d'interventions de police municipale"}


class PmLabelMapping(Base):
    """A file label an analyst attached to a type; used before the keywords on the next imports."""

    __tablename__ = "pm_label_mapping"

    label_key: Mapped[str] = mapped_column(Text, primary_key=True)
    type_code: Mapped[str] = mapped_column(ForeignKey("pm_intervention_type.code", onupdate="CASCADE"))
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PmIntervention(Base):
    """One police municipale intervention. No person is described: date, type, place, outcome only."""

    __tablename__ = "pm_intervention"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    time_known: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    label: Mapped[str] = mapped_column(Text)
    # Indexed only where unclassified: the labels left outside the nomenclature (migrations 0700, 0800).
    label_key: Mapped[str] = mapped_column(Text)
    type_code: Mapped[str | None] = mapped_column(ForeignKey("pm_intervention_type.code", onupdate="CASCADE"))
    family_code: Mapped[str | None] = mapped_column(ForeignKey("pm_family.code", onupdate="CASCADE"))
    place: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=False), nullable=True)
    geom_l93: Mapped[Any] = mapped_column(
        Geometry("POINT", 2154, spatial_index=False),
        Computed("ST_Transform(geom, 2154)", persisted=True),
        nullable=True,
    )
    geocoding_status: Mapped[str] = mapped_column(String(20))
    geocoding_score: Mapped[float | None] = mapped_column(Float)
    sector: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(Text)
    source_record_id: Mapped[str | None] = mapped_column(Text)
    natural_key: Mapped[str] = mapped_column(Text(collation="C"), unique=True)
    # Reference to import_batch checked once per statement by a trigger (migration 0200), not per row.
    batch_id: Mapped[int] = mapped_column(Integer, index=True)

    __table_args__ = (
        CheckConstraint("geocoding_status IN " + str(GEOCODING_STATUSES), name="geocoding_status"),
        CheckConstraint("origin IN " + str(ORIGINS), name="origin"),
        Index("ix_pm_intervention_occurred_at", "occurred_at"),
        Index("idx_pm_intervention_geom_l93", "geom_l93", postgresql_using="gist"),
        Index("ix_pm_intervention_unclassified", "label_key", postgresql_where=text("type_code IS NULL")),
    )
