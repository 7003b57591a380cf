import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from shopmesh_kit.db import (
    Database,
    is_check_violation,
    is_unique_violation,
    metadata_with_conventions,
)
from shopmesh_kit.testing.postgres import find_bindir, start_local_postgres
from sqlalchemy import CheckConstraint, ForeignKey, String, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = metadata_with_conventions()


class Shop(Base):
    __tablename__ = "shop"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    stock: Mapped[int] = mapped_column(default=0)
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),)


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield db
    await db.dispose()


async def _add(db: Database, row: Base) -> None:
    async with db.session() as session:
        session.add(row)
        await session.commit()


async def _stock(db: Database, slug: str = "a") -> int:
    async with db.session() as session:
        return (await session.execute(select(Shop.stock).where(Shop.slug == slug))).scalar_one()


def test_naming_convention_names_constraints() -> None:
    tables = Base.metadata.tables
    names = {c.name for name in ("shop", "item") for c in tables[name].constraints}
    assert {
        "pk_shop",
        "uq_shop_slug",
        "ck_shop_stock_not_negative",
        "fk_item_shop_id_shop",
    } <= names


async def test_commit_persists_and_exception_rolls_back(database: Database) -> None:
    await _add(database, Shop(slug="a", stock=1))

    async def failing_handler() -> None:
        async with database.session() as session:
            (await session.execute(select(Shop))).scalar_one().stock = 99
            await session.flush()
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        await failing_handler()
    async with database.session() as session:
        session.add(Shop(slug="b"))  # never committed
    assert await _stock(database) == 1
    async with database.session() as session:
        assert (await session.execute(select(Shop.slug))).scalars().all() == ["a"]


async def test_objects_stay_usable_after_commit(database: Database) -> None:
    async with database.session() as session:
        shop = Shop(slug="a", stock=3)
        session.add(shop)
        await session.commit()
    assert (shop.id, shop.stock) == (1, 3)  # expire_on_commit=False: no lazy reload


async def test_unique_violation_is_recognized(database: Database) -> None:
    await _add(database, Shop(slug="a"))
    with pytest.raises(IntegrityError) as caught:
        await _add(database, Shop(slug="a"))
    assert is_unique_violation(caught.value)
    assert not is_check_violation(caught.value)


async def test_check_violation_is_recognized(database: Database) -> None:
    with pytest.raises(IntegrityError) as caught:
        await _add(database, Shop(slug="a", stock=-1))
    assert is_check_violation(caught.value)
    assert not is_unique_violation(caught.value)


async def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(IntegrityError) as caught:
        await _add(database, Item(shop_id=12345))
    assert not is_unique_violation(caught.value)
    assert not is_check_violation(caught.value)


async def test_concurrent_read_modify_write_loses_no_update(database: Database) -> None:
    await _add(database, Shop(slug="a", stock=0))

    async def increment() -> None:
        async with database.write_session() as session:
            query = select(Shop).where(Shop.slug == "a").with_for_update()
            shop = (await session.execute(query)).scalar_one()
            await asyncio.sleep(0.001)  # let the others read in between, if they can
            shop.stock += 1
            await session.commit()

    await asyncio.gather(*(increment() for _ in range(20)))
    assert await _stock(database) == 20


async def test_sqlite_stale_write_fails_instead_of_losing_update(tmp_path: Path) -> None:
    # Without BEGIN at the first SELECT, the second write would silently win.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}")
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await _add(db, Shop(slug="a", stock=0))
        async with db.session() as first, db.session() as second:
            shop_1 = (await first.execute(select(Shop))).scalar_one()
            shop_2 = (await second.execute(select(Shop))).scalar_one()
            shop_1.stock += 1
            await first.commit()
            shop_2.stock += 1
            with pytest.raises(OperationalError, match="locked"):
                await second.commit()
        assert await _stock(db) == 1
    finally:
        await db.dispose()


async def test_sqlite_pragmas_are_set(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with db.session() as session:
            pragmas = [
                (await session.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            ]
        assert pragmas == ["wal", 30000, 1]
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_pool_pre_ping_survives_a_postgres_restart() -> None:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("needs local PostgreSQL binaries to restart a server")
    server = await asyncio.to_thread(start_local_postgres, bindir)
    db = Database(await server.create_database("restart"))
    try:
        async with db.session() as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
        await asyncio.to_thread(server.restart)
        async with db.session() as session:  # the pooled connection is dead: pinged, replaced
            assert (await session.execute(text("SELECT 2"))).scalar_one() == 2
    finally:
        await db.dispose()
        await asyncio.to_thread(server.stop)
