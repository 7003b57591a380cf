"""Crash tests: the order service is killed mid-saga (by the test-only fault
injection setting), restarted, and must bring every order to a terminal
state with stock conserved. Every other service is the real one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.type import money_pb2
from shopmesh.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from shopmesh.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from shopmesh.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from shopmesh_auth.app import build_app as build_auth_app
from shopmesh_auth.settings import AuthSettings
from shopmesh_kit.clients import wait_serving
from shopmesh_kit.db import Database
from shopmesh_kit.testing.postgres import PostgresServer
from shopmesh_kit.testing.processes import free_port
from shopmesh_kit.testing.tokens import bearer
from shopmesh_order.db.repository import Orders
from shopmesh_order.domain.orders import Order, OrderState
from shopmesh_product.app import build_app as build_product_app
from shopmesh_product.settings import ProductSettings
from shopmesh_user.app import build_app as build_user_app
from shopmesh_user.settings import UserSettings

SECRET = "order-secret-for-tests"


@dataclass
class Platform:
    auth_port: int
    product_port: int
    order_url: str
    tmp: Path
    admin: tuple[tuple[str, str]]
    customer: tuple[tuple[str, str]]
    customer_id: str


async def _wait_serving(port: int, process: asyncio.subprocess.Process) -> None:
    def alive() -> None:
        if process.returncode is not None:
            raise AssertionError(f"order service exited with {process.returncode}")

    await wait_serving(f"127.0.0.1:{port}", limit=30, check=alive)


@contextlib.asynccontextmanager
async def order_process(
    platform: Platform, port: int, crash_point: str = "", *, recover: bool = False
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The order service as a process. Only a `recover`ing one treats every
    pending order as abandoned at once; the others give in-flight orders the
    usual grace, so their own recovery loop cannot race the request."""
    env = {
        **os.environ,
        "SHOPMESH_ORDER_PORT": str(port),
        "SHOPMESH_ORDER_DATABASE_URL": platform.order_url,
        "SHOPMESH_ORDER_AUTH_SERVICE_TARGET": f"127.0.0.1:{platform.auth_port}",
        "SHOPMESH_ORDER_PRODUCT_SERVICE_TARGET": f"127.0.0.1:{platform.product_port}",
        "SHOPMESH_ORDER_SERVICE_SECRET": SECRET,
        "SHOPMESH_ORDER_FAULT_CRASH_POINT": crash_point,
        "SHOPMESH_ORDER_RECOVERY_GRACE_SECONDS": "0" if recover else "60",
        "SHOPMESH_ORDER_RECOVERY_INTERVAL_SECONDS": "0.2",
    }
    log = (platform.tmp / f"order-{uuid.uuid4().hex[:6]}.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shopmesh_order", "serve", env=env, stdout=log, stderr=log
    )
    try:
        await _wait_serving(port, process)
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
        log.close()


@pytest.fixture
async def platform(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Platform]:
    def url(name: str) -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite+aiosqlite:///{tmp_path / name}.db"
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return server.create_database_sync(f"{name}_{uuid.uuid4().hex[:10]}")

    auth_url, user_url, product_url = url("auth"), url("user"), url("product")
    user_port = free_port()
    auth = await build_auth_app(
        AuthSettings(
            port=0,
            database_url=auth_url,
            service_secrets={"order": SECRET},
            user_service_target=f"127.0.0.1:{user_port}",
            admin_email=None,
            admin_password=None,
        ),
        database=Database(auth_url),
    )
    await auth.server.start()
    auth_target = f"127.0.0.1:{auth.server.port}"
    user = await build_user_app(
        UserSettings(port=user_port, database_url=user_url, auth_service_target=auth_target),
        database=Database(user_url),
    )
    product = await build_product_app(
        ProductSettings(port=0, database_url=product_url, auth_service_target=auth_target),
        database=Database(product_url),
    )
    await user.server.start()
    await product.server.start()
    try:
        await auth.service.seed_admin("root@example.com", "root password")
        async with grpc.aio.insecure_channel(auth_target) as channel:
            stub = auth_service_pb2_grpc.AuthServiceStub(channel)
            account = await stub.RegisterAccount(
                auth_service_pb2.RegisterAccountRequest(
                    email="ada@example.com", password="correct horse", display_name="Ada"
                )
            )
            ada = await stub.Login(
                auth_service_pb2.LoginRequest(email="ada@example.com", password="correct horse")
            )
            root = await stub.Login(
                auth_service_pb2.LoginRequest(email="root@example.com", password="root password")
            )
        yield Platform(
            auth_port=auth.server.port,
            product_port=product.server.port,
            order_url=url("order"),
            tmp=tmp_path,
            admin=bearer(root.access_token),
            customer=bearer(ada.access_token),
            customer_id=account.name.removeprefix("accounts/"),
        )
    finally:
        for app in (product, user, auth):
            await app.server.stop(0)


async def _available(platform: Platform, product: str) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.product_port}") as channel:
        reply = await product_service_pb2_grpc.ProductServiceStub(channel).GetProduct(
            product_service_pb2.GetProductRequest(name=f"products/{product}")
        )
    return int(reply.available_quantity)


async def _add_product(platform: Platform, product_id: str, quantity: int) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.product_port}") as channel:
        await product_service_pb2_grpc.ProductServiceStub(channel).CreateProduct(
            product_service_pb2.CreateProductRequest(
                product_id=product_id,
                initial_quantity=quantity,
                product=product_pb2.Product(
                    display_name="Mug",
                    category="kitchen",
                    price=money_pb2.Money(currency_code="USD", units=12, nanos=500_000_000),
                ),
            ),
            metadata=platform.admin,
        )


async def _orders(platform: Platform, port: int) -> list[order_pb2.Order]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await order_service_pb2_grpc.OrderServiceStub(channel).ListOrders(
            order_service_pb2.ListOrdersRequest(parent="users/me"), metadata=platform.customer
        )
    return list(reply.orders)


async def _until_terminal(platform: Platform, port: int) -> list[order_pb2.Order]:
    for _ in range(100):
        orders = await _orders(platform, port)
        if all(o.state != order_pb2.Order.PENDING for o in orders):
            return orders
        await asyncio.sleep(0.1)
    raise AssertionError(f"orders still pending: {orders}")


def _create_request(platform: Platform, quantity: int) -> order_service_pb2.CreateOrderRequest:
    return order_service_pb2.CreateOrderRequest(
        parent="users/me",
        request_id=str(uuid.uuid4()),
        order=order_pb2.Order(
            lines=[order_pb2.OrderLine(product="products/coffee-mug", quantity=quantity)]
        ),
    )


async def test_crash_after_reserving_is_recovered_to_confirmed(platform: Platform) -> None:
    await _add_product(platform, "coffee-mug", 10)
    port = free_port()
    async with order_process(platform, port, crash_point="after_reserve") as process:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await order_service_pb2_grpc.OrderServiceStub(channel).CreateOrder(
                    _create_request(platform, 3), metadata=platform.customer, timeout=10
                )
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert await process.wait() == 137
    assert await _available(platform, "coffee-mug") == 7  # held by the reservation

    async with order_process(platform, port, recover=True):
        (order,) = await _until_terminal(platform, port)
    assert order.state == order_pb2.Order.CONFIRMED
    assert (order.total.units, order.total.nanos) == (37, 500_000_000)
    assert await _available(platform, "coffee-mug") == 7


async def test_crash_during_cancel_is_finished_once(platform: Platform) -> None:
    await _add_product(platform, "coffee-mug", 10)
    port = free_port()
    async with (
        order_process(platform, port),
        grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel,
    ):
        order = await order_service_pb2_grpc.OrderServiceStub(channel).CreateOrder(
            _create_request(platform, 4), metadata=platform.customer
        )
    assert await _available(platform, "coffee-mug") == 6

    async with order_process(platform, port, crash_point="after_release") as process:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError):
                await order_service_pb2_grpc.OrderServiceStub(channel).CancelOrder(
                    order_service_pb2.CancelOrderRequest(name=order.name),
                    metadata=platform.customer,
                    timeout=10,
                )
        assert await process.wait() == 137
    assert await _available(platform, "coffee-mug") == 10

    (current,) = await _orders_in_db(platform)
    assert current.state == OrderState.CANCELLED
    assert current.release_pending  # the crash came before the release was recorded

    async with order_process(platform, port, recover=True):
        for _ in range(100):
            (current,) = await _orders_in_db(platform)
            if not current.release_pending:
                break
            await asyncio.sleep(0.1)
    assert current.state == OrderState.CANCELLED
    assert not current.release_pending
    assert await _available(platform, "coffee-mug") == 10  # released exactly once


async def _orders_in_db(platform: Platform) -> list[Order]:
    database = Database(platform.order_url)
    try:
        async with database.session() as session:
            return await Orders(session).page(None, None, None, 10)
    finally:
        await database.dispose()
