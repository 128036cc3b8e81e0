"""Tables of the police nationale statistics: SSMSI editions, values and denominators, état 4001 counts.

Denominators live in ``pn_denominator`` rather than ``obs.population``: each SSMSI edition carries its
own populations and dwellings (revised between editions), dwellings are fractional in the files
(``LOG`` = 308491,1601) and the published rates are computed from those exact values.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from observatoire.models import Base


class PnEdition(Base):
    """One SSMSI edition (production date of the file), so that no series mixes two of them."""

    __tablename__ = "pn_edition"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    produced_on: Mapped[date | None] = mapped_column(Date)
    label: Mapped[str] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))


class PnIndicator(Base):
    """Catalogue of SSMSI indicators, seeded by the migration from ``observatoire.police_nationale.indicators``."""

    __tablename__ = "pn_indicator"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(40))
    denominator: Mapped[str] = mapped_column(String(20))
    sensitive: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    __table_args__ = (
        CheckConstraint("denominator IN ('habitants', 'logements')", name="denominator"),
        {"comment": "catalogue des indicateurs SSMSI"},
    )


class PnStat(Base):
    """One published (or unpublished) value: edition × territory × indicator × year."""

    __tablename__ = "pn_stat"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No per-row foreign keys (a lookup and a lock per row on millions of rows): edition and indicator are
    # checked by the loader, territory and batch by statement-level triggers (migration 0100).
    edition: Mapped[str] = mapped_column(String(40))
    territory_code: Mapped[str] = mapped_column(String(40))
    indicator_id: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    # NULL when the SSMSI did not publish the value (ndiff) or the file only gives a rate: never 0.
    count: Mapped[int | None] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(Boolean)
    published_rate: Mapped[float | None] = mapped_column(Float)
    # complementinfoval/complementinfotaux: the SSMSI's substitute for unpublished communes, kept
    # for the record and never used as a count.
    complement_value: Mapped[float | None] = mapped_column(Float)
    complement_rate: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(40))
    batch_id: Mapped[int | None] = mapped_column(Integer)
    # Why the value was not published (secret statistique), in French; NULL for a published value.
    withheld: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Also the index of every query (edition and indicator first, then territories and/or years).
        UniqueConstraint("edition", "indicator_id", "territory_code", "year", name="uq_pn_stat_key"),
        CheckConstraint("count IS NULL OR count >= 0", name="count"),
    )


class PnSeriesBreak(Base):
    """Two editions whose common years differ beyond the tolerance for one indicator: a definition change."""

    __tablename__ = "pn_series_break"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(ForeignKey("pn_indicator.id"))
    edition_before: Mapped[str] = mapped_column(ForeignKey("pn_edition.code", ondelete="CASCADE"))
    edition_after: Mapped[str] = mapped_column(ForeignKey("pn_edition.code", ondelete="CASCADE"))
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    territories: Mapped[int] = mapped_column(Integer)
    # Relative change of the summed counts (after ÷ before − 1), smallest and largest over the common years.
    min_change: Mapped[float] = mapped_column(Float)
    max_change: Mapped[float] = mapped_column(Float)
    tolerance: Mapped[float] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    __table_args__ = (
        UniqueConstraint("indicator_id", "edition_before", "edition_after", name="uq_pn_series_break_key"),
    )


class PnDenominator(Base):
    """Inhabitants and dwellings an edition divides by, with their census vintages."""

    __tablename__ = "pn_denominator"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    edition: Mapped[str] = mapped_column(ForeignKey("pn_edition.code"))
    territory_code: Mapped[str] = mapped_column(ForeignKey("territory.code"))
    year: Mapped[int] = mapped_column(Integer)
    inhabitants: Mapped[float | None] = mapped_column(Float)
    inhabitants_vintage: Mapped[int | None] = mapped_column(Integer)
    dwellings: Mapped[float | None] = mapped_column(Float)
    dwellings_vintage: Mapped[int | None] = mapped_column(Integer)
    # True when the file gave no dwellings and they were recovered as count ÷ published rate.
    dwellings_derived: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    __table_args__ = (UniqueConstraint("edition", "territory_code", "year", name="uq_pn_denominator_key"),)


class Etat4001Index(Base):
    """Catalogue of the 107 état 4001 index, seeded by the migration."""

    __tablename__ = "etat4001_index"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(Text)
    in_use: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    __table_args__ = ({"comment": "catalogue des index de l'état 4001"},)


class Etat4001Count(Base):
    """Monthly count of one index for a territory (and the service that recorded it)."""

    __tablename__ = "etat4001_count"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    territory_code: Mapped[str] = mapped_column(ForeignKey("territory.code"))
    service: Mapped[str] = mapped_column(String(120), server_default="")
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    index_number: Mapped[int] = mapped_column(ForeignKey("etat4001_index.number"))
    count: Mapped[int] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    __table_args__ = (
        UniqueConstraint(
            "territory_code", "service", "year", "month", "index_number", name="uq_etat4001_count_key"
        ),
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        CheckConstraint("count >= 0", name="count"),
    )
