"""The same journeys over native gRPC, straight to the services, plus
grpcurl exploring every service through server reflection."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import grpc
import pytest
from shopmesh.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from shopmesh.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from shopmesh.product.v1 import product_service_pb2, product_service_pb2_grpc
from shopmesh.user.v1 import user_service_pb2, user_service_pb2_grpc

from .conftest import ROOT, Account, Platform

GRPCURL = ROOT / ".bin" / "grpcurl"
PUBLIC = {
    "auth": "shopmesh.auth.v1.AuthService",
    "user": "shopmesh.user.v1.UserService",
    "product": "shopmesh.product.v1.ProductService",
    "order": "shopmesh.order.v1.OrderService",
}


def _needs_grpc(platform: Platform) -> None:
    if not all(platform.grpc.values()):
        pytest.skip("BASE_URL given without GRPC_<SERVICE> addresses")


async def test_a_customer_journey_over_grpc(platform: Platform) -> None:
    _needs_grpc(platform)
    email = f"grpc-{uuid.uuid4().hex[:8]}@example.com"
    async with grpc.aio.insecure_channel(platform.grpc["auth"]) as channel:
        auth = auth_service_pb2_grpc.AuthServiceStub(channel)
        await auth.RegisterAccount(
            auth_service_pb2.RegisterAccountRequest(
                email=email, password="correct horse", display_name="Grace"
            )
        )
        login = await auth.Login(
            auth_service_pb2.LoginRequest(email=email, password="correct horse")
        )
    metadata = (("authorization", f"Bearer {login.access_token}"),)
    async with grpc.aio.insecure_channel(platform.grpc["user"]) as channel:
        me = await user_service_pb2_grpc.UserServiceStub(channel).GetUser(
            user_service_pb2.GetUserRequest(name="users/me"), metadata=metadata
        )
    assert me.display_name == "Grace"
    async with grpc.aio.insecure_channel(platform.grpc["product"]) as channel:
        products = await product_service_pb2_grpc.ProductServiceStub(channel).ListProducts(
            product_service_pb2.ListProductsRequest(page_size=3, filter='category = "coffee"')
        )
    assert len(products.products) == 3
    product = products.products[0].name
    async with grpc.aio.insecure_channel(platform.grpc["order"]) as channel:
        orders = order_service_pb2_grpc.OrderServiceStub(channel)
        request = order_service_pb2.CreateOrderRequest(
            parent="users/me",
            request_id=str(uuid.uuid4()),
            order=order_pb2.Order(lines=[order_pb2.OrderLine(product=product, quantity=1)]),
        )
        placed = await orders.CreateOrder(request, metadata=metadata)
        again = await orders.CreateOrder(request, metadata=metadata)
        assert placed.state == order_pb2.Order.CONFIRMED
        assert again.name == placed.name
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await orders.GetOrder(order_service_pb2.GetOrderRequest(name=placed.name))
        assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
        cancelled = await orders.CancelOrder(
            order_service_pb2.CancelOrderRequest(name=placed.name), metadata=metadata
        )
        assert cancelled.state == order_pb2.Order.CANCELLED


async def test_internal_rpcs_refuse_customers(platform: Platform, customer: Account) -> None:
    _needs_grpc(platform)
    async with grpc.aio.insecure_channel(platform.grpc["product"]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await product_service_pb2_grpc.ProductInternalServiceStub(channel).ReleaseReservation(
                product_service_pb2.ReleaseReservationRequest(name="reservations/x"),
                metadata=(("authorization", f"Bearer {customer.access_token}"),),
            )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def _grpcurl(*args: str) -> str:
    binary = str(GRPCURL) if GRPCURL.exists() else shutil.which("grpcurl")
    if binary is None:
        pytest.fail("grpcurl is missing: run `make grpcurl`")
    result = subprocess.run(
        [binary, "-plaintext", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("service", sorted(PUBLIC))
def test_grpcurl_lists_and_describes_every_service(platform: Platform, service: str) -> None:
    _needs_grpc(platform)
    target = platform.grpc[service]
    listed = _grpcurl(target, "list").split()
    assert PUBLIC[service] in listed
    assert "grpc.health.v1.Health" in listed
    for name in listed:
        if name.startswith("shopmesh."):
            described = _grpcurl(target, "describe", name)
            assert f"service {name.rsplit('.', 1)[1]}" in described
            assert "rpc " in described


def test_grpcurl_calls_a_method(platform: Platform) -> None:
    _needs_grpc(platform)
    reply = _grpcurl(
        "-d",
        '{"name": "products/espresso-cup"}',
        platform.grpc["product"],
        "shopmesh.product.v1.ProductService/GetProduct",
    )
    assert '"name": "products/espresso-cup"' in reply
