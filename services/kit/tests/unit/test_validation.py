"""REQUIRED fields, read from the contract's field_behavior annotations."""

from __future__ import annotations

import pytest
from google.protobuf import field_mask_pb2
from google.protobuf.message import Message
from shopmesh.order.v1 import order_pb2, order_service_pb2
from shopmesh.user.v1 import user_pb2, user_service_pb2
from shopmesh_kit.errors import InvalidArgument
from shopmesh_kit.validation import missing_required_fields, validate_required

LINE = order_pb2.OrderLine(product="products/1", quantity=1)


def create_order(**fields: object) -> order_service_pb2.CreateOrderRequest:
    values: dict[str, object] = {
        "parent": "users/A",
        "order": order_pb2.Order(lines=[LINE]),
        "request_id": "r-1",
    }
    values.update(fields)
    return order_service_pb2.CreateOrderRequest(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "missing"),
    [
        (order_service_pb2.CreateOrderRequest(), ["parent", "order", "request_id"]),
        (create_order(), []),
        (create_order(request_id=""), ["request_id"]),
        (create_order(order=order_pb2.Order()), ["order.lines"]),
        (
            create_order(order=order_pb2.Order(lines=[order_pb2.OrderLine()])),
            ["order.lines[0].product", "order.lines[0].quantity"],
        ),
        (
            create_order(order=order_pb2.Order(lines=[LINE, order_pb2.OrderLine(quantity=2)])),
            ["order.lines[1].product"],
        ),
        (
            create_order(order=order_pb2.Order(lines=[order_pb2.OrderLine(product="p/1")])),
            ["order.lines[0].quantity"],  # a zero scalar counts as unset
        ),
        (user_service_pb2.ListUsersRequest(), []),
        (user_service_pb2.CreateUserRequest(user_id="u", email="e"), ["user"]),
        (
            user_service_pb2.CreateUserRequest(user_id="u", email="e", user=user_pb2.User()),
            ["user.display_name"],
        ),
    ],
)
def test_missing_required_fields_are_listed_by_path(message: Message, missing: list[str]) -> None:
    assert missing_required_fields(message) == missing


def test_update_request_checks_only_its_own_fields() -> None:
    mask = field_mask_pb2.FieldMask(paths=["shipping_addresses"])
    assert missing_required_fields(user_service_pb2.UpdateUserRequest(update_mask=mask)) == ["user"]
    request = user_service_pb2.UpdateUserRequest(user=user_pb2.User(), update_mask=mask)
    assert missing_required_fields(request) == []


def test_validate_required_raises_one_error_listing_every_field() -> None:
    with pytest.raises(InvalidArgument) as raised:
        validate_required(order_service_pb2.CreateOrderRequest(parent="users/A"))
    assert raised.value.message == "missing required field(s): order, request_id"
    assert raised.value.violations == [("order", "is required"), ("request_id", "is required")]


def test_validate_required_accepts_a_complete_message() -> None:
    validate_required(create_order())
