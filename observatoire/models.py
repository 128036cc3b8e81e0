"""ORM models of the ``obs`` schema. Migrations in ``migrations/`` must produce exactly this."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "obs"

TERRITORY_LEVELS = ("commune", "departement", "region", "pays", "iris", "qpv", "groupe")


class Base(DeclarativeBase):
    metadata = MetaData(
        schema=SCHEMA,
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        },
    )


class ImportBatch(Base):
    """One import of one file: provenance of every row it inserted, and its report."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    user_login: Mapped[str | None] = mapped_column(String(80))
    rows_read: Mapped[int] = mapped_column(Integer, server_default="0")
    inserted: Mapped[int] = mapped_column(Integer, server_default="0")
    duplicates: Mapped[int] = mapped_column(Integer, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, server_default="0")
    status: Mapped[str] = mapped_column(String(20), server_default="en_cours")
    report: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('en_cours', 'importe', 'echec', 'annule', 'essai')", name="status"),
    )


class BulkWindow(Base):
    """A bulk load under way (migration 0900): how to rebuild the indexes it dropped. Empty outside a transaction;
    the application cannot read or write it, only the owner's functions do."""

    __tablename__ = "bulk_window"

    table_name: Mapped[str] = mapped_column(Text, primary_key=True)
    uniques: Mapped[list[str]] = mapped_column(ARRAY(Text))
    others: Mapped[list[str]] = mapped_column(ARRAY(Text))
    first_id: Mapped[int] = mapped_column(BigInteger)
    had_rows: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = {"comment": "chargements en masse en cours (vide hors transaction)"}


class Territory(Base):
    """Any area the product counts in: ``COM:04112``, ``DEP:04``, ``REG:93``, ``FRA``, ``IRIS:…``…"""

    __tablename__ = "territory"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    level: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("territory.code"), index=True)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", 4326, spatial_index=True), nullable=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    __table_args__ = (CheckConstraint("level IN " + str(TERRITORY_LEVELS), name="level"),)


class Population(Base):
    """Inhabitants (and dwellings when known) of a territory for a year, with the census vintage."""

    __tablename__ = "population"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    territory_code: Mapped[str] = mapped_column(ForeignKey("territory.code"))
    year: Mapped[int] = mapped_column(Integer)
    inhabitants: Mapped[int | None] = mapped_column(Integer)
    dwellings: Mapped[int | None] = mapped_column(Integer)
    census_vintage: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(40))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    __table_args__ = (UniqueConstraint("territory_code", "year", "source"),)


class AppUser(Base):
    """An account. Only a login and a role: the observatoire keeps no personal data."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Copied into the session at login and compared at every request (migration 1300): raising it ends
    # every session of the account.
    session_version: Mapped[int] = mapped_column(Integer, server_default="0")
    # RFC 6238 second factor: base32 secret, and the last time step accepted (a code is used once).
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class LoginThrottle(Base):
    """Login failures from one client address: past a threshold each attempt waits longer (HTTP 429)."""

    __tablename__ = "login_throttle"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default="0")
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = {"comment": "échecs de connexion par adresse (freinage progressif)"}


class LoginLock(Base):
    """Login failures for one account from one address: the pair is locked, never the account for everyone."""

    __tablename__ = "login_lock"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, server_default="0")
    first_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = {"comment": "échecs de connexion par compte et par adresse (verrouillage de la paire)"}


class AuditLog(Base):
    """Append-only trail; UPDATE/DELETE are refused by the database (migrations 0001, 1200).

    The database sets ``id``, ``at``, ``prev_hash`` and ``hash`` on insert, whoever inserts: each entry's hash
    is the SHA-256 of the previous entry's hash followed by its canonical text (see ``observatoire.audit``).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    user_login: Mapped[str | None] = mapped_column(String(80))
    role: Mapped[str | None] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_action", "action"))


class AuditChain(Base):
    """The head of the audit log's hash chain (one row, migration 1200): the last entry appended and the
    anchor the chain starts from (the last entry removed by a purge; 0 and a zero hash before any).
    Written only by the owner's functions; ``purge_txid`` marks the transaction of a purge while it runs."""

    __tablename__ = "audit_chain"

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=text("true"))
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    anchor_id: Mapped[int] = mapped_column(BigInteger)
    anchor_hash: Mapped[str] = mapped_column(String(64))
    purge_txid: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("id", name="single"),
        {"comment": "tête de la chaîne d'empreintes du journal d'audit"},
    )


class AuditPolicy(Base):
    """What the database owner allows the application (one row, migration 1200): no purge of the audit log
    keeping less than ``min_retention_years``, whatever ``OBS_AUDIT_RETENTION_YEARS`` says."""

    __tablename__ = "audit_policy"

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=text("true"))
    min_retention_years: Mapped[int] = mapped_column(Integer)

    # "catalogue" in the comment keeps the row when tests empty the database.
    __table_args__ = (
        CheckConstraint("id", name="single"),
        CheckConstraint("min_retention_years >= 1", name="min_retention_years"),
        {
            "comment": "catalogue : durée minimale de conservation du journal d'audit, "
            "fixée par le propriétaire de la base"
        },
    )


class ImportProfile(Base):
    """A named column mapping of one source, saved by a user and reused on the next upload."""

    __tablename__ = "import_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("source", "name"),)


class BanAddress(Base):
    """One address of the Base Adresse Nationale, with the normalised street key the geocoder matches."""

    __tablename__ = "ban_address"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    code_insee: Mapped[str] = mapped_column(String(5))
    numero: Mapped[int | None] = mapped_column(Integer)
    rep: Mapped[str | None] = mapped_column(String(20))
    nom_voie: Mapped[str] = mapped_column(Text)
    street_key: Mapped[str] = mapped_column(Text)
    code_postal: Mapped[str | None] = mapped_column(String(5))
    nom_commune: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", 4326, spatial_index=False))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), index=True)

    __table_args__ = (Index("ix_ban_address_code_insee_street_key", "code_insee", "street_key"),)


class DataVersion(Base):
    """A counter per kind of data, raised by triggers on every change of its tables (migration 0600).

    Caches built from the database (the map's in-memory events) compare it with the version they were
    built from: one primary-key read per request tells whether they are still right.
    """

    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
