"""Alembic helpers: a service's `migrations/env.py` is

    from shopmesh_kit.migrations import run_migrations_online
    from shopmesh_<svc>.db.models import Base

    run_migrations_online(Base.metadata)

and `upgrade()` / `upgrade_async()` bring a database to head (migrate-on-start,
`make migrate`). On PostgreSQL an advisory lock serializes replicas that start together.
"""

from __future__ import annotations

import asyncio
import threading
from logging.config import fileConfig
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, MetaData, pool, text
from sqlalchemy.ext.asyncio import async_engine_from_config

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: a service that does not migrate on
# start (Kubernetes runs migrations as a Job) never loads it.

# Any fixed 64-bit key; every Shopmesh database is its own, so one key is enough.
MIGRATION_LOCK_KEY = 0x5348_4F50_4D45_5348

# Alembic keeps the running migration's context in module globals: one command at a time.
_alembic_lock = threading.Lock()


def run_migrations_online(target_metadata: MetaData | None) -> None:
    """Run the migrations of the current Alembic command on a fresh async engine."""
    from alembic import context

    config = context.config
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(_run_async(config, target_metadata))


async def _run_async(config: Config, target_metadata: MetaData | None) -> None:
    section = config.get_section(config.config_ini_section, {})
    if not section.get("sqlalchemy.url"):
        raise RuntimeError("sqlalchemy.url is not set in the Alembic config")
    engine = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_do_run_migrations, target_metadata)
    finally:
        await engine.dispose()


def _do_run_migrations(connection: Connection, target_metadata: MetaData | None) -> None:
    from alembic import context

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Held until commit; a second replica then sees the new version and does nothing.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


def migrations_dir(package_file: str) -> Path:
    """A service's Alembic directory: inside the installed package (wheels
    and images carry it there), else `services/<svc>/migrations` of the
    source tree (editable installs)."""
    package = Path(package_file).resolve().parent
    packaged = package / "migrations"
    return packaged if packaged.is_dir() else package.parents[1] / "migrations"


def alembic_config(database_url: str, script_location: Path) -> Config:
    """An in-memory Alembic config (no alembic.ini) for one database."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    # ConfigParser interpolates '%': escape it (URL-encoded passwords contain it).
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, script_location: Path, revision: str = "head") -> None:
    """Upgrade the database to `revision`. Blocking; do not call from an event loop."""
    with _alembic_lock:
        from alembic import command

        command.upgrade(alembic_config(database_url, script_location), revision)


async def upgrade_async(database_url: str, script_location: Path, revision: str = "head") -> None:
    """`upgrade()` in a worker thread (env.py runs its own event loop there)."""
    await asyncio.to_thread(upgrade, database_url, script_location, revision)
