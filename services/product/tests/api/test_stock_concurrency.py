"""Races the order service can produce: many orders for the last units,
retries of one order, releases racing each other and a late reserve."""

from __future__ import annotations

import asyncio

import grpc
from shopmesh.product.v1 import product_pb2
from shopmesh_kit.testing.grpc import error_info

from ..conftest import ProductHarness

RESERVED = product_pb2.Reservation.RESERVED
RELEASED = product_pb2.Reservation.RELEASED


async def test_200_orders_for_20_units_reserve_exactly_20(service: ProductHarness) -> None:
    await service.create("espresso-cup", quantity=20)
    results = await asyncio.gather(
        *(service.reserve(f"order-{i}", ("espresso-cup", 1)) for i in range(200)),
        return_exceptions=True,
    )
    reserved = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(reserved) == 20
    assert {r.state for r in reserved} == {RESERVED}
    assert len(refused) == 180
    assert {(e.code(), error_info(e).reason) for e in refused} == {
        (grpc.StatusCode.FAILED_PRECONDITION, "OUT_OF_STOCK")
    }
    assert await service.quantity("espresso-cup") == 0


async def test_concurrent_retries_of_one_order_reserve_once(service: ProductHarness) -> None:
    await service.create("espresso-cup", quantity=50)
    await service.create("milk-jug", quantity=50)
    results = await asyncio.gather(
        *(service.reserve("order-1", ("milk-jug", 2), ("espresso-cup", 3)) for _ in range(20))
    )
    assert len({r.SerializeToString(deterministic=True) for r in results}) == 1
    assert results[0].state == RESERVED
    assert await service.quantity("espresso-cup") == 47
    assert await service.quantity("milk-jug") == 48


async def test_concurrent_releases_return_the_stock_once(service: ProductHarness) -> None:
    await service.create("espresso-cup", quantity=10)
    await service.reserve("order-1", ("espresso-cup", 4))
    released = await asyncio.gather(*(service.release("order-1") for _ in range(20)))
    assert released.count(True) == 1
    assert await service.quantity("espresso-cup") == 10


async def test_racing_reserve_and_release_of_one_order_end_released_with_the_stock_back(
    service: ProductHarness,
) -> None:
    """The order service gives up on a slow reserve and releases: whichever
    runs first, the order ends RELEASED and every unit is back."""
    await service.create("espresso-cup", quantity=100)
    for i in range(10):
        order = f"order-{i}"
        reserve, _ = await asyncio.gather(
            service.reserve(order, ("espresso-cup", 5)), service.release(order)
        )
        assert reserve.state in (RESERVED, RELEASED)
        await service.release(order)  # the recovery releases again if the reserve won
        assert (await service.get_reservation(order)).state == RELEASED
    assert await service.quantity("espresso-cup") == 100


async def test_concurrent_orders_over_several_products_never_oversell(
    service: ProductHarness,
) -> None:
    """Orders lock products in one order (by id), so crossing carts finish."""
    await service.create("aaaa-cup", quantity=30)
    await service.create("bbbb-jug", quantity=30)
    results = await asyncio.gather(
        *(
            service.reserve(f"order-{i}", *(("bbbb-jug", 2), ("aaaa-cup", 1))[:: 1 - 2 * (i % 2)])
            for i in range(40)
        ),
        return_exceptions=True,
    )
    reserved = [r for r in results if not isinstance(r, BaseException)]
    assert all(
        isinstance(r, grpc.aio.AioRpcError) and error_info(r).reason == "OUT_OF_STOCK"
        for r in results
        if isinstance(r, BaseException)
    )
    assert len(reserved) == 15
    assert await service.quantity("bbbb-jug") == 0
    assert await service.quantity("aaaa-cup") == 15
