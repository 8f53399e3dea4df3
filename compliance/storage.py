"""Storage of the service: organisations, API tokens (only their SHA-256 at rest), applications with every version,
stored checks (input hash, catalog version and hash, as-of date, judgements, full report), the catalog versions
those checks used (content-addressed snapshots, for a replay under the catalog of the day) and the audit log.

SQLAlchemy 2; SQLite by default (WAL mode on every connection) or PostgreSQL by URL. The schema is created by the
Alembic migrations in ``migrations/`` (``upgrade(url)`` runs them programmatically).
"""
from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (JSON, Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, TypeDecorator,
                        UniqueConstraint, create_engine, event, false, select)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from .fingerprint import input_hash  # noqa: F401 — the hash of an application version, stored with it
from .models import SITE_NAME_MAX

if TYPE_CHECKING:
    from .catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
TOKEN_PREFIX = "cmp_"
SOURCE_MAX = 300  # the length of application_versions.source
ORG_NAME_MAX = 300  # the length of organisations.name


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite returns naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):  # noqa: ANN001
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(ORG_NAME_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the details documents show (the page «Реквизиты»; compliance.organisation.issuer_of); all optional
    legal_name: Mapped[str | None] = mapped_column(String(ORG_NAME_MAX), nullable=True)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary(), nullable=True)  # PNG or JPEG, up to 1 MB
    signer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signer_position: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outgoing_prefix: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex; the token itself is never stored
    hint: Mapped[str] = mapped_column(String(16))  # first characters, to tell tokens apart in the audit log
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # an administrator's token (`compliance token create --admin`): may run jobs over every organisation's applications
    admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StoredApplication(Base):
    __tablename__ = "applications"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    site_name: Mapped[str] = mapped_column(String(SITE_NAME_MAX))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApplicationVersion(Base):
    __tablename__ = "application_versions"
    __table_args__ = (UniqueConstraint("application_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict] = mapped_column(JSON)  # the validated application, as JSON
    input_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(SOURCE_MAX))  # "json" or the uploaded file name (source_of)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), nullable=True)


class StoredCheck(Base):
    __tablename__ = "checks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    application_version: Mapped[int] = mapped_column(Integer)
    evaluation_id: Mapped[str] = mapped_column(String(64))
    regimes: Mapped[list] = mapped_column(JSON)
    requested_regime: Mapped[str | None] = mapped_column(String(40), nullable=True)
    catalog_version: Mapped[str] = mapped_column(String(200))
    catalog_hash: Mapped[str] = mapped_column(String(64))
    catalogs: Mapped[dict] = mapped_column(JSON)  # regime -> {"version", "hash"}
    input_hash: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date)
    judgements: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    verdicts: Mapped[dict] = mapped_column(JSON)  # regime -> verdict
    result: Mapped[dict] = mapped_column(JSON)  # {"reports": [...], "matrix": [...], "skipped": [...]}
    replay_of: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # a replay: under the catalogs the replayed check used ("stored") or under the current ones ("current")
    replay_catalog: Mapped[str | None] = mapped_column(String(10), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CatalogSnapshot(Base):
    """A catalog version a stored check used, content-addressed: one row per content hash, never changed. `files`
    are the files the hash covers, in its order, as [[path relative to the catalog root, text]…] (UTF-8)."""
    __tablename__ = "catalog_snapshots"
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    regime: Mapped[str] = mapped_column(String(40))
    catalog_version: Mapped[str] = mapped_column(String(200))
    files: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True, nullable=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- engine and migrations --------------------------------------------------------------------------------------
def make_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    return engine


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (``alembic upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def session_factory(url: str, migrate: bool = True) -> sessionmaker[Session]:
    if migrate:
        upgrade(url)
    return sessionmaker(make_engine(url), expire_on_commit=False)


# --- helpers ----------------------------------------------------------------------------------------------------
def source_of(name: str) -> str:
    """An uploaded file's name as the source of a version: shortened to the column, as PostgreSQL refuses longer."""
    return name if len(name) <= SOURCE_MAX else name[:SOURCE_MAX - 1] + "…"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def organisation(session: Session, name: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        org = Organisation(name=name)
        session.add(org)
        session.flush()
    return org


def create_token(session: Session, org_name: str, admin: bool = False) -> tuple[str, ApiToken]:
    """A new token for the organisation (created if new): the token is returned once; only its hash is stored.
    An `admin` token may run jobs over the stored applications of every organisation."""
    org = organisation(session, org_name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(organisation_id=org.id, token_hash=hash_token(token), hint=token[:10], admin=admin)
    session.add(row)
    session.flush()
    audit(session, org.id, row.id, "token.create.admin" if admin else "token.create", "token", str(row.id))
    return token, row


def token_owner(session: Session, token: str) -> ApiToken | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    return row


def audit(session: Session, org_id: int | None, token_id: int | None, action: str, object_type: str,
          object_id: str | None = None, detail: str | None = None) -> None:
    session.add(AuditEntry(organisation_id=org_id, token_id=token_id, action=action, object_type=object_type,
                           object_id=object_id, detail=detail))


# --- catalog snapshots ------------------------------------------------------------------------------------------
def snapshot_row(catalog: "Catalog") -> CatalogSnapshot:
    return CatalogSnapshot(content_hash=catalog.content_hash, regime=catalog.regime,
                           catalog_version=catalog.decree.catalog_version,
                           files=[[path, data.decode("utf-8")] for path, data in catalog.files])


def keep_snapshot(sessions: sessionmaker[Session], catalog: "Catalog") -> None:
    """Store the catalog version once per content hash (in a transaction of its own: a concurrent store of the
    same version is a unique-key conflict that leaves the identical row in place)."""
    with sessions() as s:
        if s.get(CatalogSnapshot, catalog.content_hash) is not None:
            return
        s.add(snapshot_row(catalog))
        try:
            s.commit()
        except IntegrityError:
            s.rollback()


def snapshot_files(row: CatalogSnapshot) -> list[tuple[str, bytes]]:
    """The files of a stored catalog version, for `load_catalog(regime, snapshot=…)`; CatalogError if they do not
    give the content hash the version is stored under."""
    from .catalog import CatalogError, snapshot_hash

    files = [(path, text.encode("utf-8")) for path, text in row.files]
    if snapshot_hash(files) != row.content_hash:
        raise CatalogError(f"сохранённый каталог «{row.regime}» версии {row.catalog_version} повреждён: "
                           "его контрольная сумма не совпадает с записанной")
    return files
