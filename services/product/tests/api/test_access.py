"""Who may call what, over the real interceptor chain: every method with
every kind of caller."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from shopmesh.product.v1 import product_pb2, product_service_pb2
from shopmesh_kit.testing.tokens import TestKeys, bearer

from ..conftest import ProductHarness, money

CALLERS = ("anonymous", "customer", "admin", "order", "user-service")
PUBLIC = set(CALLERS)
ADMIN = {"admin"}
ORDER = {"order"}

# method -> (stub attribute, request, callers allowed)
METHODS: dict[str, tuple[str, Message, set[str]]] = {
    "GetProduct": (
        "stub",
        product_service_pb2.GetProductRequest(name="products/espresso-cup"),
        PUBLIC,
    ),
    "ListProducts": ("stub", product_service_pb2.ListProductsRequest(), PUBLIC),
    "CreateProduct": (
        "stub",
        product_service_pb2.CreateProductRequest(
            product=product_pb2.Product(display_name="Mug", category="kitchen", price=money("3"))
        ),
        ADMIN,
    ),
    "UpdateProduct": (
        "stub",
        product_service_pb2.UpdateProductRequest(
            product=product_pb2.Product(name="products/espresso-cup", display_name="Cup")
        ),
        ADMIN,
    ),
    "DeleteProduct": (
        "stub",
        product_service_pb2.DeleteProductRequest(name="products/no-such-product"),
        ADMIN,
    ),
    "RestockProduct": (
        "stub",
        product_service_pb2.RestockProductRequest(name="products/espresso-cup", quantity=1),
        ADMIN,
    ),
    "ReserveStock": (
        "internal",
        product_service_pb2.ReserveStockRequest(
            reservation_id="order-1",
            lines=[product_pb2.ReservationLine(product="products/espresso-cup", quantity=1)],
        ),
        ORDER,
    ),
    "GetReservation": (
        "internal",
        product_service_pb2.GetReservationRequest(name="reservations/order-1"),
        ORDER,
    ),
    "CommitReservation": (
        "internal",
        product_service_pb2.CommitReservationRequest(name="reservations/order-1"),
        ORDER,
    ),
    "ReleaseReservation": (
        "internal",
        product_service_pb2.ReleaseReservationRequest(name="reservations/order-2"),
        ORDER,
    ),
}


def _metadata(keys: TestKeys, caller: str) -> Any:
    tokens = {
        "customer": lambda: keys.token("user-1", ["customer"]),
        "admin": lambda: keys.token("admin-1", ["admin"]),
        "order": lambda: keys.service_token("order"),
        "user-service": lambda: keys.service_token("user"),
    }
    return bearer(tokens[caller]()) if caller in tokens else None


@pytest.mark.parametrize("method", sorted(METHODS))
async def test_each_method_admits_exactly_its_callers(service: ProductHarness, method: str) -> None:
    await service.create("espresso-cup", quantity=100)
    stub_name, request, allowed = METHODS[method]
    call = getattr(getattr(service, stub_name), method)
    for caller in CALLERS:
        try:
            await call(request, metadata=_metadata(service.keys, caller))
            code = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as error:
            code = error.code()
        if caller in allowed:
            assert code not in (
                grpc.StatusCode.UNAUTHENTICATED,
                grpc.StatusCode.PERMISSION_DENIED,
            ), (method, caller, code)
        else:
            refused = (
                grpc.StatusCode.UNAUTHENTICATED
                if caller == "anonymous"
                else grpc.StatusCode.PERMISSION_DENIED
            )
            assert code == refused, (method, caller, code)


async def test_a_token_from_another_key_is_refused_on_admin_methods(
    service: ProductHarness,
) -> None:
    forged = bearer(TestKeys().token("admin-1", ["admin"]))
    _, request, _ = METHODS["CreateProduct"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.CreateProduct(request, metadata=forged)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # Public methods ignore a bad token rather than fail.
    await service.stub.ListProducts(product_service_pb2.ListProductsRequest(), metadata=forged)


async def test_a_service_token_does_not_count_as_admin(service: ProductHarness) -> None:
    workload_admin = bearer(service.keys.token("services/order", ["service", "admin"]))
    _, request, _ = METHODS["CreateProduct"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.CreateProduct(request, metadata=workload_admin)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
