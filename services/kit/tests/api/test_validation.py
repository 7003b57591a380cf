"""REQUIRED fields are checked before the servicer runs."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2
from shopmesh.order.v1 import order_pb2, order_service_pb2
from shopmesh.user.v1 import user_pb2, user_service_pb2
from shopmesh_kit.testing.grpc import error_info, field_violations

from .harness import Shop

LINE = order_pb2.OrderLine(product="products/1", quantity=2)


def create_order(order: order_pb2.Order | None) -> order_service_pb2.CreateOrderRequest:
    return order_service_pb2.CreateOrderRequest(parent="users/A", order=order, request_id="r-1")


async def invalid(
    shop: Shop, request: order_service_pb2.CreateOrderRequest
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.orders.CreateOrder(request, metadata=shop.admin())
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(raised.value).reason == "INVALID_ARGUMENT"
    assert shop.backend.calls == []
    return raised.value


async def test_empty_request_lists_every_missing_top_level_field(shop: Shop) -> None:
    error = await invalid(shop, order_service_pb2.CreateOrderRequest())
    assert field_violations(error) == {
        "parent": "is required",
        "order": "is required",
        "request_id": "is required",
    }
    assert error.details() == "missing required field(s): parent, order, request_id"


async def test_missing_nested_fields_are_listed_by_path(shop: Shop) -> None:
    error = await invalid(shop, create_order(order_pb2.Order(lines=[order_pb2.OrderLine()])))
    assert field_violations(error) == {
        "order.lines[0].product": "is required",
        "order.lines[0].quantity": "is required",
    }


async def test_each_repeated_element_is_checked(shop: Shop) -> None:
    lines = [LINE, order_pb2.OrderLine(product="products/2")]
    error = await invalid(shop, create_order(order_pb2.Order(lines=lines)))
    assert field_violations(error) == {"order.lines[1].quantity": "is required"}


async def test_an_empty_required_list_is_missing(shop: Shop) -> None:
    error = await invalid(shop, create_order(order_pb2.Order()))
    assert field_violations(error) == {"order.lines": "is required"}


async def test_complete_request_reaches_the_servicer(shop: Shop) -> None:
    order = await shop.orders.CreateOrder(
        create_order(order_pb2.Order(lines=[LINE])), metadata=shop.customer("A")
    )
    assert order.name == "users/A/orders/1"
    assert shop.backend.methods == ["CreateOrder"]


async def test_update_request_does_not_require_the_unmasked_resource_fields(shop: Shop) -> None:
    request = user_service_pb2.UpdateUserRequest(
        user=user_pb2.User(name="users/A"),  # no display_name, which is REQUIRED on User
        update_mask=field_mask_pb2.FieldMask(paths=["shipping_addresses"]),
    )
    await shop.users.UpdateUser(request, metadata=shop.customer("A"))
    assert shop.backend.methods == ["UpdateUser"]


async def test_update_request_still_requires_the_resource(shop: Shop) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users.UpdateUser(user_service_pb2.UpdateUserRequest(), metadata=shop.admin())
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(raised.value) == {"user": "is required"}


async def test_callers_without_access_learn_nothing_about_the_request_shape(shop: Shop) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.orders.CreateOrder(order_service_pb2.CreateOrderRequest())
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
