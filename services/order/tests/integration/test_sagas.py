"""The order sagas against a real database and an in-memory product service,
including the interleavings a crash or an outage leaves behind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from shopmesh_kit.auth import Principal
from shopmesh_kit.db import Database
from shopmesh_kit.errors import Unavailable
from shopmesh_kit.migrations import upgrade_async
from shopmesh_order.app import MIGRATIONS
from shopmesh_order.db.repository import Orders
from shopmesh_order.domain.orders import LineRequest, OrderState, OutOfStock
from shopmesh_order.service import OrderService
from shopmesh_order.stock import Reservation

from ..fakes import FakeStock

ADA = Principal(subject="ada", roles=frozenset({"customer"}))
LINES = [("products/mug", 2), ("products/tea", 1)]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    await upgrade_async(database_url, MIGRATIONS)
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def stock() -> FakeStock:
    return FakeStock({"mug": 10, "tea": 5}, {"mug": 1250, "tea": 399})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(database: Database, stock: FakeStock, clock: Clock) -> OrderService:
    return OrderService(database=database, stock=stock, clock=clock)


def request_id() -> str:
    return str(uuid.uuid4())


async def test_an_order_is_confirmed_with_catalog_prices(
    service: OrderService, stock: FakeStock
) -> None:
    order = await service.create(ADA, "users/me", LINES, request_id())
    assert order.state == OrderState.CONFIRMED
    assert order.total_cents == 2 * 1250 + 399
    assert [line.unit_price_cents for line in order.lines] == [1250, 399]
    assert order.reservation_committed
    assert stock.available == {"mug": 8, "tea": 4}


async def test_a_retry_returns_the_original_order_and_reserves_once(
    service: OrderService, stock: FakeStock
) -> None:
    rid = request_id()
    first = await service.create(ADA, "users/ada", LINES, rid)
    again = await service.create(ADA, "users/ada", LINES, rid)
    assert again.id == first.id
    assert stock.available == {"mug": 8, "tea": 4}


async def test_out_of_stock_rejects_and_holds_nothing(
    service: OrderService, stock: FakeStock
) -> None:
    rid = request_id()
    with pytest.raises(OutOfStock):
        await service.create(ADA, "users/ada", [("products/mug", 11)], rid)
    with pytest.raises(OutOfStock):  # and so does its retry
        await service.create(ADA, "users/ada", [("products/mug", 11)], rid)
    assert stock.available == {"mug": 10, "tea": 5}
    page = await service.list(ADA, "users/ada", 0, "", "")
    assert [o.state for o in page.orders] == [OrderState.REJECTED]


async def test_an_outage_leaves_the_order_pending_and_recovery_rejects_it(
    service: OrderService, stock: FakeStock, clock: Clock
) -> None:
    stock.down = True
    with pytest.raises(Unavailable):
        await service.create(ADA, "users/ada", LINES, request_id())
    stock.down = False
    assert await service.recover(timedelta(seconds=30)) == 0  # still within the grace
    clock.now += timedelta(seconds=31)
    assert await service.recover(timedelta(seconds=30)) == 1
    (order,) = (await service.list(ADA, "users/ada", 0, "", "")).orders
    assert order.state == OrderState.REJECTED
    assert order.reject_reason == "NOT_RESERVED"
    assert stock.available == {"mug": 10, "tea": 5}
    # The tombstone stops a late, slow reserve from taking stock.
    late = await stock.reserve(order.id, [])
    assert not late.holds_stock
    assert stock.available == {"mug": 10, "tea": 5}


async def test_recovery_confirms_an_order_whose_stock_was_reserved(
    service: OrderService, stock: FakeStock, clock: Clock
) -> None:
    """As after a crash between reserving and confirming."""
    stock.down = True
    with pytest.raises(Unavailable):
        await service.create(ADA, "users/ada", LINES, request_id())
    stock.down = False
    (pending,) = (await service.list(ADA, "users/ada", 0, "", "")).orders
    # The reserve went through; the answer never reached the order service.
    await stock.reserve(pending.id, [LineRequest("mug", 2), LineRequest("tea", 1)])
    clock.now += timedelta(seconds=31)
    assert await service.recover(timedelta(seconds=30)) == 1
    order = await service.get(ADA, f"users/ada/orders/{pending.id}")
    assert order.state == OrderState.CONFIRMED
    assert order.total_cents == 2 * 1250 + 399
    assert order.reservation_committed
    assert stock.available == {"mug": 8, "tea": 4}


async def test_cancel_releases_reserved_stock_once(service: OrderService, stock: FakeStock) -> None:
    order = await service.create(ADA, "users/ada", LINES, request_id())
    name = f"users/ada/orders/{order.id}"
    cancelled = await service.cancel(ADA, name)
    again = await service.cancel(ADA, name)
    assert cancelled.state == again.state == OrderState.CANCELLED
    assert stock.available == {"mug": 10, "tea": 5}


async def test_a_cancel_during_an_outage_returns_the_stock_once_it_is_back(
    service: OrderService, stock: FakeStock, clock: Clock
) -> None:
    order = await service.create(ADA, "users/ada", LINES, request_id())
    stock.down = True
    cancelled = await service.cancel(ADA, f"users/ada/orders/{order.id}")
    assert cancelled.state == OrderState.CANCELLED
    assert cancelled.release_pending
    stock.down = False
    clock.now += timedelta(seconds=31)
    assert await service.recover(timedelta(seconds=30)) == 1
    done = await service.get(ADA, f"users/ada/orders/{order.id}")
    assert not done.release_pending
    assert stock.available == {"mug": 10, "tea": 5}
    assert await service.recover(timedelta(seconds=0)) == 0


async def test_recovery_and_a_late_reserve_never_confirm_without_stock(
    service: OrderService, stock: FakeStock, clock: Clock, database: Database
) -> None:
    """Recovery gives up on an order while the request placing it is still
    reserving: the order ends REJECTED and the late reservation is released."""
    stock.down = True
    with pytest.raises(Unavailable):
        await service.create(ADA, "users/ada", LINES, request_id())
    stock.down = False
    (pending,) = (await service.list(ADA, "users/ada", 0, "", "")).orders
    clock.now += timedelta(seconds=31)
    original_get = stock.get

    async def reserve_meanwhile(order_id: str) -> Reservation | None:
        found = await original_get(order_id)  # nothing yet...
        await stock.reserve(order_id, [LineRequest("mug", 2)])  # ...then the late reserve lands
        return found

    stock.get = reserve_meanwhile  # type: ignore[method-assign]
    await service.recover(timedelta(seconds=30))
    order = await service.get(ADA, f"users/ada/orders/{pending.id}")
    assert order.state == OrderState.REJECTED
    assert not order.release_pending
    assert stock.available == {"mug": 10, "tea": 5}


async def test_a_deferred_commit_is_retried_by_recovery(
    service: OrderService, stock: FakeStock, clock: Clock, database: Database
) -> None:
    order = await service.create(ADA, "users/ada", LINES, request_id())
    assert order.reservation_committed
    # Simulate a commit that failed: the flag stays false.
    async with database.session() as session:
        await Orders(session).transition(
            order.id, [OrderState.CONFIRMED], {"reservation_committed": False}, clock()
        )
        await session.commit()
    clock.now += timedelta(seconds=31)
    assert await service.recover(timedelta(seconds=30)) == 1
    assert (await service.get(ADA, f"users/ada/orders/{order.id}")).reservation_committed
