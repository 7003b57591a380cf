import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from shopmesh_kit.migrations import upgrade, upgrade_async
from shopmesh_kit.testing.postgres import PostgresServer
from sqlalchemy import create_engine, inspect, make_url, text

ENV_PY = """\
from shopmesh_kit.migrations import run_migrations_online

run_migrations_online(None)
"""

REVISION = '''\
"""create widget"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    PAUSE
    op.create_table(
        "widget",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
    )


def downgrade() -> None:
    op.drop_table("widget")
'''


def _write_scripts(location: Path, pause: str = "pass") -> Path:
    (location / "versions").mkdir(parents=True)
    (location / "env.py").write_text(ENV_PY)
    (location / "versions" / "0001_create_widget.py").write_text(REVISION.replace("PAUSE", pause))
    return location


@pytest.fixture
def script_location(tmp_path: Path) -> Path:
    return _write_scripts(tmp_path / "migrations")


def _state(database_url: str) -> tuple[list[str], str]:
    """Tables and the Alembic version, read with a plain sync engine."""
    url = make_url(database_url)
    sync_url = url.set(
        drivername="sqlite" if url.get_backend_name() == "sqlite" else url.drivername
    )
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            return sorted(inspect(conn).get_table_names()), version
    finally:
        engine.dispose()


def test_upgrade_creates_tables_and_is_idempotent(database_url: str, script_location: Path) -> None:
    upgrade(database_url, script_location)
    upgrade(database_url, script_location)
    assert _state(database_url) == (["alembic_version", "widget"], "0001")


async def test_upgrade_async_runs_inside_an_event_loop(
    database_url: str, script_location: Path
) -> None:
    await upgrade_async(database_url, script_location)
    assert _state(database_url) == (["alembic_version", "widget"], "0001")


async def test_concurrent_upgrades_in_one_process_are_serialized(
    database_url: str, script_location: Path
) -> None:
    await asyncio.gather(*(upgrade_async(database_url, script_location) for _ in range(3)))
    assert _state(database_url) == (["alembic_version", "widget"], "0001")


@pytest.mark.postgres
def test_replicas_migrating_together_apply_each_revision_once(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    # The pause makes the replicas overlap; without the advisory lock all but one fail.
    script_location = _write_scripts(tmp_path / "slow", 'op.execute("SELECT pg_sleep(0.5)")')
    url = postgres_server.create_database_sync("replicas_migrating")
    code = "import sys, pathlib; from shopmesh_kit.migrations import upgrade; " + (
        "upgrade(sys.argv[1], pathlib.Path(sys.argv[2]))"
    )
    replicas = [
        subprocess.Popen([sys.executable, "-c", code, url, str(script_location)]) for _ in range(2)
    ]
    assert [replica.wait(timeout=60) for replica in replicas] == [0, 0]
    assert _state(url) == (["alembic_version", "widget"], "0001")
