from __future__ import annotations

from typing import Any

import grpc
import pytest
from shopmesh.order.v1 import order_pb2, order_service_pb2

from ..conftest import Stack


async def _list(
    stack: Stack, parent: str, metadata: object, **kwargs: Any
) -> order_service_pb2.ListOrdersResponse:
    request = order_service_pb2.ListOrdersRequest(parent=parent, **kwargs)
    reply: order_service_pb2.ListOrdersResponse = await stack.orders.ListOrders(
        request, metadata=metadata
    )
    return reply


async def test_owner_and_admin_read_an_order_others_cannot(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    order = await stack.order("ada", [("coffee-mug", 1)])
    request = order_service_pb2.GetOrderRequest(name=order.name)
    assert (await stack.orders.GetOrder(request, metadata=stack.customer("ada"))).name == order.name
    assert (await stack.orders.GetOrder(request, metadata=stack.admin)).name == order.name
    me = order_service_pb2.GetOrderRequest(name=order.name.replace("users/ada", "users/me"))
    assert (await stack.orders.GetOrder(me, metadata=stack.customer("ada"))).name == order.name
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await stack.orders.GetOrder(request, metadata=stack.customer("bob"))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Bob naming Ada's order under his own name finds nothing.
    hidden = order_service_pb2.GetOrderRequest(name=order.name.replace("users/ada", "users/bob"))
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stack.orders.GetOrder(hidden, metadata=stack.customer("bob"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stack.orders.GetOrder(request)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_get_unknown_order_is_not_found(stack: Stack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.orders.GetOrder(
            order_service_pb2.GetOrderRequest(name="users/ada/orders/nope"),
            metadata=stack.customer("ada"),
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_users_list_their_own_orders_admins_list_everyone(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    ada = [await stack.order("ada", [("coffee-mug", 1)]) for _ in range(2)]
    bob = await stack.order("bob", [("coffee-mug", 1)])
    own = await _list(stack, "users/me", stack.customer("ada"))
    assert {o.name for o in own.orders} == {o.name for o in ada}
    everyone = await _list(stack, "users/-", stack.admin)
    assert {o.name for o in everyone.orders} == {*(o.name for o in ada), bob.name}
    for parent in ("users/bob", "users/-"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _list(stack, parent, stack.customer("ada"))
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_pagination_round_trip_sees_every_order_once(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 50)
    placed = {(await stack.order("ada", [("coffee-mug", 1)])).name for _ in range(7)}
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await _list(stack, "users/ada", stack.customer("ada"), page_size=3, page_token=token)
        seen += [o.name for o in page.orders]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted(placed)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _list(
            stack,
            "users/ada",
            stack.customer("ada"),
            page_size=3,
            page_token=(
                await _list(stack, "users/ada", stack.customer("ada"), page_size=3)
            ).next_page_token,
            filter="state = CONFIRMED",
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_list_filters_by_state_and_rejects_bad_input(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 1)
    await stack.order("ada", [("coffee-mug", 1)])
    with pytest.raises(grpc.aio.AioRpcError):
        await stack.order("ada", [("coffee-mug", 1)])  # out of stock: REJECTED
    confirmed = await _list(stack, "users/ada", stack.customer("ada"), filter="state = CONFIRMED")
    assert [o.state for o in confirmed.orders] == [order_pb2.Order.CONFIRMED]
    for kwargs in ({"filter": "total > 3"}, {"page_size": -1}, {"page_token": "garbage"}):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _list(stack, "users/ada", stack.customer("ada"), **kwargs)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_cancel_returns_stock_once_and_twice_is_harmless(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    order = await stack.order("ada", [("coffee-mug", 4)])
    assert await stack.available("coffee-mug") == 6
    request = order_service_pb2.CancelOrderRequest(name=order.name)
    cancelled = await stack.orders.CancelOrder(request, metadata=stack.customer("ada"))
    again = await stack.orders.CancelOrder(request, metadata=stack.customer("ada"))
    assert cancelled.state == again.state == order_pb2.Order.CANCELLED
    assert await stack.available("coffee-mug") == 10


async def test_admin_cancels_any_order_others_cannot(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 10)
    order = await stack.order("ada", [("coffee-mug", 1)])
    request = order_service_pb2.CancelOrderRequest(name=order.name)
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await stack.orders.CancelOrder(request, metadata=stack.customer("bob"))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await stack.orders.CancelOrder(request, metadata=stack.admin)).state == (
        order_pb2.Order.CANCELLED
    )


async def test_a_rejected_order_cannot_be_cancelled(stack: Stack) -> None:
    await stack.add_product("coffee-mug", 1250, 0)
    with pytest.raises(grpc.aio.AioRpcError):
        await stack.order("ada", [("coffee-mug", 1)])
    (rejected,) = (await _list(stack, "users/ada", stack.customer("ada"))).orders
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.orders.CancelOrder(
            order_service_pb2.CancelOrderRequest(name=rejected.name), metadata=stack.customer("ada")
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
