from __future__ import annotations

import asyncio
import time
import uuid

import grpc
import pytest
from shopmesh.order.v1 import order_pb2, order_service_pb2
from shopmesh_kit.testing.grpc import error_info, field_violations

from ..conftest import Stack

MUG_LINE = order_pb2.OrderLine(product="products/coffee-mug", quantity=1)


async def test_order_is_confirmed_with_catalog_prices_and_reserves_stock(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    await stack.add_product("green-tea", 399, 5)
    order = await stack.order("ada", [("coffee-mug", 2), ("green-tea", 1)])
    assert order.state == order_pb2.Order.CONFIRMED
    assert order.name.startswith("users/ada/orders/")
    assert [(line.unit_price.units, line.unit_price.nanos) for line in order.lines] == [
        (12, 500_000_000),
        (3, 990_000_000),
    ]
    assert (order.total.currency_code, order.total.units, order.total.nanos) == (
        "USD",
        28,
        990_000_000,
    )
    assert order.lines[0].display_name == "Coffee Mug"
    assert await stack.available("coffee-mug") == 8
    assert await stack.available("green-tea") == 4


async def test_prices_sent_by_the_client_are_ignored(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    request = order_service_pb2.CreateOrderRequest(
        parent="users/ada",
        request_id=str(uuid.uuid4()),
        order=order_pb2.Order(
            lines=[order_pb2.OrderLine(product="products/coffee-mug", quantity=1)]
        ),
    )
    request.order.lines[0].unit_price.units = 0
    request.order.lines[0].unit_price.nanos = 10_000_000
    request.order.total.units = 0
    order = await stack.orders.CreateOrder(request, metadata=stack.customer("ada"))
    assert order.total.units == 12


async def test_retry_with_the_same_request_id_returns_the_original_order(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    request_id = str(uuid.uuid4())
    first = await stack.order("ada", [("coffee-mug", 3)], request_id)
    again = await stack.order("ada", [("coffee-mug", 3)], request_id)
    assert again.name == first.name
    assert await stack.available("coffee-mug") == 7


async def test_twenty_concurrent_creates_with_one_request_id_give_one_order(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 100)
    request_id = str(uuid.uuid4())
    orders = await asyncio.gather(
        *(stack.order("ada", [("coffee-mug", 1)], request_id) for _ in range(20))
    )
    assert len({o.name for o in orders}) == 1
    assert {o.state for o in orders} == {order_pb2.Order.CONFIRMED}
    assert await stack.available("coffee-mug") == 99
    listed = await stack.orders.ListOrders(
        order_service_pb2.ListOrdersRequest(parent="users/ada"), metadata=stack.customer("ada")
    )
    assert len(listed.orders) == 1


async def test_same_request_id_with_other_lines_is_invalid(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    request_id = str(uuid.uuid4())
    await stack.order("ada", [("coffee-mug", 1)], request_id)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.order("ada", [("coffee-mug", 2)], request_id)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "request_id" in field_violations(caught.value)
    assert await stack.available("coffee-mug") == 9


async def test_out_of_stock_fails_and_holds_nothing(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 5)
    await stack.add_product("green-tea", 399, 1)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.order("ada", [("coffee-mug", 2), ("green-tea", 2)])
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(caught.value)
    assert (info.reason, info.domain) == ("OUT_OF_STOCK", "order.shopmesh.dev")
    assert await stack.available("coffee-mug") == 5
    assert await stack.available("green-tea") == 1


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([("coffee-mug", 0)], "order.lines[0].quantity"),
        ([("coffee-mug", 101)], "order.lines[0].quantity"),
        ([("coffee-mug", 1), ("coffee-mug", 1)], "order.lines[1].product"),
        ([(f"p{i}", 1) for i in range(51)], "order.lines"),
        ([("Not A Product", 1)], "order.lines[0].product"),
        ([("missing", 1)], "order.lines[0].product"),
    ],
)
async def test_bad_lines_are_invalid_and_change_nothing(
    stack: Stack, lines: list[tuple[str, int]], field: str
) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.order("ada", lines)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value)
    assert await stack.available("coffee-mug") == 10
    listed = await stack.orders.ListOrders(
        order_service_pb2.ListOrdersRequest(parent="users/ada"), metadata=stack.customer("ada")
    )
    assert list(listed.orders) == []


async def test_missing_fields_and_bad_request_id_are_invalid(stack: Stack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.orders.CreateOrder(
            order_service_pb2.CreateOrderRequest(parent="users/ada"), metadata=stack.customer("ada")
        )
    assert set(field_violations(caught.value)) == {"order", "request_id"}
    with pytest.raises(grpc.aio.AioRpcError) as bad_id:
        await stack.order("ada", [("coffee-mug", 1)], request_id="not-a-uuid")
    assert "request_id" in field_violations(bad_id.value)


async def test_users_me_places_the_order_for_the_caller(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    order = await stack.order("ada", [("coffee-mug", 1)], parent="users/me")
    assert order.name.startswith("users/ada/orders/")


async def test_nobody_orders_on_someone_elses_behalf(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    request = order_service_pb2.CreateOrderRequest(
        parent="users/bob",
        request_id=str(uuid.uuid4()),
        order=order_pb2.Order(
            lines=[order_pb2.OrderLine(product="products/coffee-mug", quantity=1)]
        ),
    )
    for metadata in (stack.customer("ada"), stack.admin):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stack.orders.CreateOrder(request, metadata=metadata)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stack.orders.CreateOrder(request)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await stack.available("coffee-mug") == 10


async def test_two_hundred_concurrent_orders_never_oversell(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 20)
    results = await asyncio.gather(
        *(stack.order(f"user-{i}", [("coffee-mug", 1)]) for i in range(200)), return_exceptions=True
    )
    confirmed = [r for r in results if isinstance(r, order_pb2.Order)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(confirmed) == 20
    assert {r.code() for r in refused} == {grpc.StatusCode.FAILED_PRECONDITION}
    assert len(refused) == 180
    assert await stack.available("coffee-mug") == 0


async def test_a_product_service_outage_fails_fast_and_confirms_nothing(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    await stack.product_app.server.stop(0)
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.order("ada", [("coffee-mug", 1)])
    assert time.monotonic() - started < 5
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(caught.value).reason == "PRODUCT_SERVICE_UNAVAILABLE"
    listed = await stack.orders.ListOrders(
        order_service_pb2.ListOrdersRequest(parent="users/ada"), metadata=stack.customer("ada")
    )
    # Left for recovery to settle once the product service is back.
    assert [o.state for o in listed.orders] == [order_pb2.Order.PENDING]
