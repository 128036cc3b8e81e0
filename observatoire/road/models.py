"""ORM models of road injury accidents (ONISR BAAC): accidents, places, vehicles, road users.

Migration ``0300_road_safety`` must produce exactly this. ONISR codes are kept as published (``-1``
« non renseigné » becomes NULL); their labels live in the ``road_code`` catalogue.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from observatoire.models import Base

CODE_CATALOGUE_COMMENT = "catalogue des codes ONISR (BAAC) et de leurs libellés"

_BATCH_FK = "import_batch.id"
_ACCIDENT_FK = "road_accident.id"


class RoadAccident(Base):
    """One injury accident (``caracteristiques``); ``id`` is the ONISR ``Num_Acc`` / ``Accident_Id``."""

    __tablename__ = "road_accident"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    year: Mapped[int] = mapped_column(SmallInteger)
    accident_date: Mapped[date] = mapped_column(Date)
    accident_time: Mapped[time | None] = mapped_column(Time)
    lighting: Mapped[int | None] = mapped_column(SmallInteger)
    built_up: Mapped[int | None] = mapped_column(SmallInteger)
    intersection: Mapped[int | None] = mapped_column(SmallInteger)
    weather: Mapped[int | None] = mapped_column(SmallInteger)
    collision: Mapped[int | None] = mapped_column(SmallInteger)
    commune_insee: Mapped[str] = mapped_column(String(5))
    departement: Mapped[str] = mapped_column(String(3))
    region: Mapped[str | None] = mapped_column(String(2))
    address: Mapped[str | None] = mapped_column(Text)
    # NULL when the file gives no usable coordinates: the accident still counts for its commune.
    geom: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=False), nullable=True)
    geom_l93: Mapped[Any] = mapped_column(
        Geometry("POINT", 2154, spatial_index=False),
        Computed("st_transform(geom, 2154)", persisted=True),
        nullable=True,
    )
    batch_id: Mapped[int] = mapped_column(ForeignKey(_BATCH_FK))

    __table_args__ = (
        Index("ix_road_accident_commune_year", "commune_insee", "year"),
        Index("ix_road_accident_departement_year", "departement", "year"),
        Index("ix_road_accident_region_year", "region", "year"),
        Index("ix_road_accident_batch_id", "batch_id"),
        Index("idx_road_accident_geom_l93", "geom_l93", postgresql_using="gist"),
    )


class RoadPlace(Base):
    """The road where an accident happened (``lieux``): one row per accident."""

    __tablename__ = "road_place"

    accident_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey(_ACCIDENT_FK, ondelete="CASCADE"), primary_key=True
    )
    road_category: Mapped[int | None] = mapped_column(SmallInteger)
    road_number: Mapped[str | None] = mapped_column(String(20))
    traffic_regime: Mapped[int | None] = mapped_column(SmallInteger)
    lanes: Mapped[int | None] = mapped_column(SmallInteger)
    reserved_lane: Mapped[int | None] = mapped_column(SmallInteger)
    profile: Mapped[int | None] = mapped_column(SmallInteger)
    layout: Mapped[int | None] = mapped_column(SmallInteger)
    surface: Mapped[int | None] = mapped_column(SmallInteger)
    infrastructure: Mapped[int | None] = mapped_column(SmallInteger)
    situation: Mapped[int | None] = mapped_column(SmallInteger)
    speed_limit: Mapped[int | None] = mapped_column(SmallInteger)
    batch_id: Mapped[int] = mapped_column(ForeignKey(_BATCH_FK), index=True)


class RoadVehicle(Base):
    """A vehicle involved (``vehicules``), keyed by its letter in the accident (``A01``…)."""

    __tablename__ = "road_vehicle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accident_id: Mapped[int] = mapped_column(BigInteger, ForeignKey(_ACCIDENT_FK, ondelete="CASCADE"))
    vehicle_letter: Mapped[str] = mapped_column(String(5))
    vehicle_ref: Mapped[str | None] = mapped_column(String(20))
    direction: Mapped[int | None] = mapped_column(SmallInteger)
    category: Mapped[int | None] = mapped_column(SmallInteger)
    fixed_obstacle: Mapped[int | None] = mapped_column(SmallInteger)
    mobile_obstacle: Mapped[int | None] = mapped_column(SmallInteger)
    impact: Mapped[int | None] = mapped_column(SmallInteger)
    manoeuvre: Mapped[int | None] = mapped_column(SmallInteger)
    motor: Mapped[int | None] = mapped_column(SmallInteger)
    batch_id: Mapped[int] = mapped_column(ForeignKey(_BATCH_FK), index=True)

    __table_args__ = (UniqueConstraint("accident_id", "vehicle_letter"),)


class RoadUser(Base):
    """A person involved (``usagers``): category, gravity, birth year. No sex, nothing nominative.

    Files before 2022 have no user id, so the natural key is the user's rank inside its accident in
    file order: re-importing the same file finds the same keys.
    """

    __tablename__ = "road_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accident_id: Mapped[int] = mapped_column(BigInteger, ForeignKey(_ACCIDENT_FK, ondelete="CASCADE"))
    rank_in_accident: Mapped[int] = mapped_column(SmallInteger)
    vehicle_letter: Mapped[str | None] = mapped_column(String(5))
    vehicle_ref: Mapped[str | None] = mapped_column(String(20))
    user_ref: Mapped[str | None] = mapped_column(String(20))
    seat: Mapped[int | None] = mapped_column(SmallInteger)
    category: Mapped[int | None] = mapped_column(SmallInteger)
    gravity: Mapped[int | None] = mapped_column(SmallInteger)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    trip_purpose: Mapped[int | None] = mapped_column(SmallInteger)
    batch_id: Mapped[int] = mapped_column(ForeignKey(_BATCH_FK), index=True)

    __table_args__ = (UniqueConstraint("accident_id", "rank_in_accident"),)


class RoadFile(Base):
    """Which table of which year was imported, for which territory (``FRA`` = everything).

    This is how a year without ``usagers`` is told apart from a year without victims.
    """

    __tablename__ = "road_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    table_name: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(40))
    rows: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int] = mapped_column(ForeignKey(_BATCH_FK), index=True)

    __table_args__ = (Index("ix_road_file_year_table_name", "year", "table_name"),)


class RoadCode(Base):
    """ONISR code lists (``lum``, ``atm``, ``col``, ``catr``, ``catu``, ``grav``, ``catv``…) with labels.

    ``grouping`` folds vehicle categories into the user types the diagnostic shows (cyclist, car…).
    """

    __tablename__ = "road_code"

    list_name: Mapped[str] = mapped_column(String(20), primary_key=True)
    code: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    grouping: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = {"comment": CODE_CATALOGUE_COMMENT}
