"""The feedback database: its tables, the engine for SQLite or PostgreSQL, and the versioned migrations.

A target is a SQLite file (a `Path`, the default `var/feedback.sqlite3`) or a database URL
(`GOCLUSTER_FEEDBACK_URL`, e.g. `postgresql://faq:secret@db.internal:5432/faq`). A PostgreSQL URL without a
driver uses pg8000 (pure Python, BSD licence); `postgresql+psycopg://...` works when psycopg is installed.

Migrations are kept simple: a missing schema is created, a `schema_version` table holds the version, and
each older version has one step up to the next. Version 1 is the SQLite-only schema before this module
(no `schema_version` table, no `follows` column).

>>> engine = feedback_engine(Path("/tmp/feedback.sqlite3"))   # doctest: +SKIP
>>> ensure_schema(engine)                                    # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from indexer.errors import FaqError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
# Any constant: replicas starting at once take this PostgreSQL advisory lock, so one migrates at a time.
_MIGRATION_LOCK = 0x6F636C75

metadata = MetaData()
feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("rating", Integer, CheckConstraint("rating IN (-1, 0, 1)", name="feedback_rating_values"),
           nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("cited_chunk_ids", Text, nullable=False, server_default="[]"),
    Column("index_version", Text, nullable=False, server_default=""),
    Column("abstained", Integer, nullable=False, server_default=text("0")),
    Column("language", Text, nullable=False, server_default=""),
    Column("follows", Text, nullable=True),  # the earlier question a follow-up question follows
    Index("feedback_rating", "rating"),
    Index("feedback_abstained", "abstained"),
)
schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))
COLUMNS = tuple(c.name for c in feedback.columns)


class FeedbackError(FaqError):
    """A feedback value is out of bounds (rating, language, length, cited ids) or the target is invalid."""

    exit_code = 2


class FeedbackUnavailable(FaqError):
    """The feedback database cannot be reached, read or written (locked, read-only, down...)."""


def database_url(target: Path | str) -> URL:
    """The SQLAlchemy URL of a target: a Path (or a plain string without "://") is a SQLite file."""
    if isinstance(target, Path) or "://" not in str(target):
        return URL.create("sqlite", database=str(Path(target).expanduser()))
    try:
        url = make_url(str(target))
    except ArgumentError:
        raise FeedbackError("the feedback database URL is not valid; expected postgresql://user:password@"
                            "host:port/database or sqlite:///file") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise FeedbackError(f"feedback database {backend!r} is not supported; use PostgreSQL or SQLite")
    if backend == "sqlite" and not url.database:
        raise FeedbackError("a SQLite feedback database needs a file: sqlite:///path/to/feedback.sqlite3")
    if backend == "postgresql" and not (url.username and url.host and url.database):
        raise FeedbackError("a PostgreSQL feedback URL needs a user, a host and a database: "
                            "postgresql://user:password@host:port/database")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+pg8000")
    return url


def feedback_engine(target: Path | str, busy_timeout_s: float = 5.0) -> Engine:
    """An engine for the target. A new SQLite file is created private (0600) and in WAL mode."""
    url = database_url(target)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_s)
    return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True, pool_timeout=busy_timeout_s,
                         connect_args={"timeout": max(1, round(busy_timeout_s))})


def _sqlite_engine(url: URL, busy_timeout_s: float) -> Engine:
    path = Path(url.database or "")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # created here so its mode is 0600; SQLite gives -wal and -shm the same mode
            with contextlib.suppress(FileExistsError):  # another process created it a moment ago
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise FeedbackUnavailable(f"the feedback database file cannot be created ({exc.strerror})") from None
    # One connection per call, as SQLite is cheap to open; a pool would make threads queue for connections.
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": busy_timeout_s})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        # WAL: readers and one writer at once. A read-only copy keeps its mode; writing fails on its own.
        with contextlib.suppress(sqlite3.DatabaseError):
            dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writes take the write lock at BEGIN, so two writers queue on busy_timeout instead of deadlocking.
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def stored_version(conn: Connection) -> int:
    """0 = no schema yet, 1 = the first SQLite schema (no version table), else the recorded version."""
    tables = set(inspect(conn).get_table_names())
    if "schema_version" in tables:
        return int(conn.scalar(select(schema_version.c.version)) or 0)
    return 1 if "feedback" in tables else 0


def ensure_schema(engine: Engine) -> None:
    """Create or migrate the schema; only reads when it is current (so a read-only copy still works)."""
    with engine.connect() as conn:
        version = stored_version(conn)
    if version == SCHEMA_VERSION:
        return
    _refuse_newer(version)
    with engine.connect() as conn, conn.execution_options(write=True).begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        version = stored_version(conn)  # another replica may have migrated while this one waited
        _refuse_newer(version)
        if version == 0:
            metadata.create_all(conn)
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            log.info("feedback schema created version=%s", SCHEMA_VERSION)
            return
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](conn)
            log.info("feedback schema migrated from=%s to=%s", step, step + 1)


def _refuse_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise FeedbackUnavailable(f"the feedback database has schema version {version}, newer than this "
                                  f"program's {SCHEMA_VERSION}; update the program")


def _v1_to_v2(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE feedback ADD COLUMN follows TEXT"))
    schema_version.create(conn)
    conn.execute(schema_version.insert().values(version=2))


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2}
