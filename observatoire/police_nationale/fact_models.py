"""Models of the geolocated police nationale facts and their category catalogue.

The ``obs.event`` and ``obs.event_category`` views (migration ``0400_events``) are not mapped here: the
no-diff test compares tables only, and the query modules read the views in SQL.
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
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from observatoire.models import Base

GEOCODING_STATUSES = ("coordonnees", "geocode", "non_geolocalise")


class PnFactFamily(Base):
    """Family of fact categories (AVIP, atteintes aux biens…). Seeded catalogue."""

    __tablename__ = "pn_fact_family"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, server_default="0")

    # "catalogue" in the comment keeps the seeded rows when tests empty the database.
    __table_args__ = {"comment": "catalogue des familles de faits de police nationale"}


class PnFactCategory(Base):
    """A category of facts: the état 4001 index it gathers, the wordings that name it, its sensitivity."""

    __tablename__ = "pn_fact_category"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    family_code: Mapped[str] = mapped_column(ForeignKey("pn_fact_family.code", onupdate="CASCADE"))
    # Intra-family and sexual violence: never drawn or exported as points (BRIEF §6).
    sensitive: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    etat4001_indexes: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), server_default=text("'{}'::integer[]")
    )
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))

    __table_args__ = {
        "comment": "catalogue des catégories de faits de police nationale (index de l'état 4001, sensibilité)"
    }


class PnLabelMapping(Base):
    """A file wording an analyst attached to a category; used after the état 4001 index on the next imports."""

    __tablename__ = "pn_label_mapping"

    label_key: Mapped[str] = mapped_column(Text, primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("pn_fact_category.code", onupdate="CASCADE"))
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PnFact(Base):
    """One recorded offence placed on the map. No person is described: date, category, place only."""

    __tablename__ = "pn_fact"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    time_known: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    label: Mapped[str] = mapped_column(Text)
    label_key: Mapped[str] = mapped_column(Text, index=True)
    etat4001_index: Mapped[int | None] = mapped_column(SmallInteger)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("pn_fact_category.code", onupdate="CASCADE"))
    family_code: Mapped[str | None] = mapped_column(ForeignKey("pn_fact_family.code", onupdate="CASCADE"))
    # Copied from the catalogue at import; unclassified facts are sensitive until an analyst classifies them.
    sensitive: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    place: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=False), nullable=True)
    geom_l93: Mapped[Any] = mapped_column(
        Geometry("POINT", 2154, spatial_index=False),
        Computed("ST_Transform(geom, 2154)", persisted=True),
        nullable=True,
    )
    geocoding_status: Mapped[str] = mapped_column(String(20))
    geocoding_score: Mapped[float | None] = mapped_column(Float)
    source_record_id: Mapped[str | None] = mapped_column(Text)
    natural_key: Mapped[str] = mapped_column(Text(collation="C"), unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)

    __table_args__ = (
        CheckConstraint("geocoding_status IN " + str(GEOCODING_STATUSES), name="geocoding_status"),
        CheckConstraint("etat4001_index BETWEEN 1 AND 107", name="etat4001_index"),
        Index("ix_pn_fact_occurred_at", "occurred_at"),
        Index("ix_pn_fact_category_code_occurred_at", "category_code", "occurred_at"),
        Index("idx_pn_fact_geom_l93", "geom_l93", postgresql_using="gist"),
    )
