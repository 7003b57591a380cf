"""Async SQLAlchemy engine, sessions and constraint helpers for one service database.

Each service owns one `Database`, built in its composition root from
`settings.database_url`, and opens one session (unit of work) per RPC:

    async with database.session() as session:
        session.add(thing)
        await session.commit()

Leaving the block without `commit()` discards the work; an exception rolls it back.

SQLite runs in WAL mode with a busy timeout and foreign keys on. SQLAlchemy, not the
sqlite3 driver, emits BEGIN, so a transaction really starts at its first statement
(SELECTs included): a stale read-then-write fails instead of losing an update. Code
that reads then writes should use `write_session()`, which starts with
`BEGIN IMMEDIATE` on SQLite (writers queue up instead of failing) and should lock the
rows it reads (`select(...).with_for_update()`) so PostgreSQL serializes it too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 30_000

# Names every index and constraint, so migrations can refer to them on any backend.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_BEGIN_OPTION = "shopmesh_sqlite_begin"


def metadata_with_conventions() -> MetaData:
    """A fresh `MetaData` with the naming convention, for a service's `Base`."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class Database:
    """Owns the engine and session factories of one database."""

    def __init__(
        self,
        url: str | URL,
        *,
        echo: bool = False,
        pool_size: int = 10,
        max_overflow: int = 10,
        pool_timeout: float = 30.0,
        pool_recycle: int = 1800,
    ) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(self.url, echo=echo)
            write_bind = self.engine.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
        else:
            self.engine = create_async_engine(
                self.url,
                echo=echo,
                pool_pre_ping=True,  # a restarted server costs one failed ping, not an error
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_timeout=pool_timeout,
                pool_recycle=pool_recycle,
            )
            write_bind = self.engine
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(write_bind, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One unit of work; commit explicitly, rolled back on exception."""
        async with _scope(self._sessions) as session:
            yield session

    @asynccontextmanager
    async def write_session(self) -> AsyncIterator[AsyncSession]:
        """Like `session()`, but takes SQLite's write lock up front (`BEGIN IMMEDIATE`)."""
        async with _scope(self._write_sessions) as session:
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


@asynccontextmanager
async def _scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise


def _sqlite_engine(url: URL, *, echo: bool) -> AsyncEngine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=echo)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Stop the driver from issuing its own (late) BEGIN; `_on_begin` does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # The busy timeout first: switching a fresh file to WAL takes an
            # exclusive lock that other connections must wait for, not fail on.
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))

    return engine


def as_utc(value: datetime) -> datetime:
    """A stored time as aware UTC: SQLite hands DateTime(timezone=True)
    columns back naive; every time Shopmesh stores is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def is_unique_violation(exc: IntegrityError) -> bool:
    """True when a UNIQUE or PRIMARY KEY constraint was violated (PostgreSQL or SQLite)."""
    return _is_violation(exc, "23505", "UNIQUE constraint failed")


def is_check_violation(exc: IntegrityError) -> bool:
    """True when a CHECK constraint was violated (PostgreSQL or SQLite)."""
    return _is_violation(exc, "23514", "CHECK constraint failed")


def _is_violation(exc: IntegrityError, sqlstate: str, sqlite_message: str) -> bool:
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    if state is not None:
        return bool(state == sqlstate)
    return sqlite_message in str(orig)
