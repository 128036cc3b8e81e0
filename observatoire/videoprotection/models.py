"""Models of video-protection: cameras, requisitions and their cameras, the corrections history and the
consultation / extraction / hand-over log (append-only, migration 1600)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from observatoire.models import Base

KINDS = ("fixe", "dome", "lapi")
AUTHORITIES = ("police_nationale", "gendarmerie", "parquet_juge", "douanes", "police_municipale")
USABLE = ("oui", "non", "inconnu")
CATEGORIES = (
    "atteintes_personnes",
    "vols_violents",
    "cambriolages",
    "vols_vehicules",
    "vols_simples",
    "degradations",
    "stupefiants",
    "circulation",
    "autres",
)
LOG_ACTIONS = ("consultation", "extraction", "remise")


class VideoCamera(Base):
    """One camera of the town's system: where it stands, what it is, when it served."""

    __tablename__ = "video_camera"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(Text)
    commissioned_on: Mapped[date | None] = mapped_column(Date)
    removed_on: Mapped[date | None] = mapped_column(Date)
    direction_deg: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=False))
    geom_l93: Mapped[Any] = mapped_column(
        Geometry("POINT", 2154, spatial_index=False),
        Computed("ST_Transform(geom, 2154)", persisted=True),
    )
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("kind IN " + str(KINDS), name="kind"),
        CheckConstraint(
            "removed_on IS NULL OR commissioned_on IS NULL OR removed_on >= commissioned_on", name="dates"
        ),
        CheckConstraint(
            "direction_deg IS NULL OR (direction_deg >= 0 AND direction_deg < 360)", name="direction"
        ),
        CheckConstraint("range_m IS NULL OR (range_m > 0 AND range_m <= 1000)", name="range"),
    )


class VideoRequisition(Base):
    """One judicial requisition of images. No name, ever: the procedure reference is checked on entry."""

    __tablename__ = "video_requisition"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    requested_on: Mapped[date] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(String(20))
    procedure_ref: Mapped[str | None] = mapped_column(Text)
    images_from: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    images_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    category: Mapped[str] = mapped_column(String(40))
    images_found: Mapped[bool | None] = mapped_column(Boolean)
    handed_over_on: Mapped[date | None] = mapped_column(Date)
    usable: Mapped[str] = mapped_column(String(8), server_default="inconnu")
    natural_key: Mapped[str] = mapped_column(Text, unique=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("authority IN " + str(AUTHORITIES), name="authority"),
        CheckConstraint("category IN " + str(CATEGORIES), name="category"),
        CheckConstraint("usable IN " + str(USABLE), name="usable"),
        CheckConstraint("images_to IS NULL OR images_to >= images_from", name="period"),
        Index("ix_video_requisition_requested_on", "requested_on"),
    )


class VideoRequisitionCamera(Base):
    __tablename__ = "video_requisition_camera"

    requisition_id: Mapped[int] = mapped_column(
        ForeignKey("video_requisition.id", ondelete="CASCADE"), primary_key=True
    )
    camera_id: Mapped[int] = mapped_column(ForeignKey("video_camera.id"), primary_key=True, index=True)


class VideoCorrection(Base):
    """A field changed after entry: the previous value kept, who and why (append-only)."""

    __tablename__ = "video_correction"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    user_login: Mapped[str] = mapped_column(String(80))

    __table_args__ = (
        CheckConstraint("entity IN ('camera', 'requisition')", name="entity"),
        Index("ix_video_correction_entity", "entity", "entity_id"),
    )


class VideoAccessLog(Base):
    """Who consulted, extracted or handed over images, when, why, to whom, of which camera. A trigger refuses
    every UPDATE, and every DELETE but of entries past the three years the purge removes."""

    __tablename__ = "video_access_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    user_login: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str | None] = mapped_column(Text)
    camera_code: Mapped[str | None] = mapped_column(String(40))
    requisition_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("action IN " + str(LOG_ACTIONS), name="action"),
        Index("ix_video_access_log_at", "at"),
    )
