"""The database layer on the migrated schema (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from shopmesh_kit.db import Database, is_check_violation
from shopmesh_kit.migrations import upgrade_async
from shopmesh_user.app import MIGRATIONS
from shopmesh_user.db.models import Base, UserRow
from shopmesh_user.db.repository import Users, address_to_json, to_user
from shopmesh_user.domain.profiles import Address, Profile
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    await upgrade_async(database_url, MIGRATIONS)
    db = Database(database_url)
    yield db
    await db.dispose()


def _row(user_id: str = "ada", **overrides: Any) -> UserRow:
    values: dict[str, Any] = {
        "id": user_id,
        "email": f"{user_id}@example.com",
        "display_name": "Ada",
        "shipping_addresses": [],
        "create_time": NOW,
        "update_time": NOW,
        "revision": 1,
    }
    values.update(overrides)
    return UserRow(**values)


async def test_migrations_match_the_models(database: Database) -> None:
    def diff(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with database.engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_update_applies_only_at_the_expected_revision(database: Database) -> None:
    async with database.session() as session:
        Users(session).add(_row())
        await session.commit()
    async with database.session() as session:
        users = Users(session)
        assert await users.update("ada", 1, {"display_name": "First"}, NOW)
        assert not await users.update("ada", 1, {"display_name": "Second"}, NOW)
        await session.commit()
    async with database.session() as session:
        row = await Users(session).by_id("ada")
        assert row is not None
        assert (row.display_name, row.revision) == ("First", 2)


async def test_addresses_are_stored_as_json_of_their_set_fields(database: Database) -> None:
    home = Address(region_code="CH", address_lines=("Bahnhofstrasse 1",), locality="Zürich")
    stored = {"region_code": "CH", "address_lines": ["Bahnhofstrasse 1"], "locality": "Zürich"}
    assert address_to_json(home) == stored
    async with database.session() as session:
        Users(session).add(_row(shipping_addresses=[stored]))
        await session.commit()
    async with database.session() as session:
        row = await Users(session).by_id("ada")
        assert row is not None
        assert to_user(row).profile == Profile("Ada", (home,))
        assert to_user(row).create_time == NOW


@pytest.mark.parametrize("overrides", [{"display_name": ""}, {"revision": 0}])
async def test_check_constraints_are_the_last_line_of_defence(
    database: Database, overrides: dict[str, Any]
) -> None:
    async with database.session() as session:
        Users(session).add(_row(**overrides))
        with pytest.raises(IntegrityError) as caught:
            await session.commit()
    assert is_check_violation(caught.value)
