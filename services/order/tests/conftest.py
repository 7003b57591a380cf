"""Order test harness: the real order server and the real product server,
each on port 0 with its own database (SQLite or PostgreSQL, from the
`database_url` fixture), talking over real channels."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.type import money_pb2
from shopmesh.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from shopmesh.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from shopmesh_kit.auth import TokenVerifier
from shopmesh_kit.clients import ServiceToken, create_channel
from shopmesh_kit.db import Database
from shopmesh_kit.testing.grpc import serving
from shopmesh_kit.testing.postgres import PostgresServer
from shopmesh_kit.testing.tokens import TestKeys, bearer
from shopmesh_order.app import OrderApp, build_app
from shopmesh_order.settings import OrderSettings
from shopmesh_order.stock import IDEMPOTENT, GrpcStock
from shopmesh_product.app import ProductApp
from shopmesh_product.app import build_app as build_product_app
from shopmesh_product.settings import ProductSettings


@pytest.fixture
def product_database_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A second database on the same backend as `database_url`."""
    if database_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / 'product.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database_sync(f"product_{uuid.uuid4().hex[:12]}")


@dataclass
class Stack:
    keys: TestKeys
    order_app: OrderApp
    product_app: ProductApp
    orders: order_service_pb2_grpc.OrderServiceStub
    products: product_service_pb2_grpc.ProductServiceStub
    admin: Any

    def customer(self, user_id: str) -> Any:
        return bearer(self.keys.token(user_id, ["customer"]))

    async def add_product(self, product_id: str, cents: int, quantity: int) -> product_pb2.Product:
        units, rest = divmod(cents, 100)
        product: product_pb2.Product = await self.products.CreateProduct(
            product_service_pb2.CreateProductRequest(
                product_id=product_id,
                initial_quantity=quantity,
                product=product_pb2.Product(
                    display_name=product_id.replace("-", " ").title(),
                    category="test",
                    price=money_pb2.Money(currency_code="USD", units=units, nanos=rest * 10**7),
                ),
            ),
            metadata=self.admin,
        )
        return product

    async def available(self, product_id: str) -> int:
        reply = await self.products.GetProduct(
            product_service_pb2.GetProductRequest(name=f"products/{product_id}")
        )
        return int(reply.available_quantity)

    async def order(
        self,
        user_id: str,
        lines: list[tuple[str, int]],
        request_id: str | None = None,
        parent: str | None = None,
    ) -> order_pb2.Order:
        order: order_pb2.Order = await self.orders.CreateOrder(
            order_service_pb2.CreateOrderRequest(
                parent=parent or f"users/{user_id}",
                request_id=request_id or str(uuid.uuid4()),
                order=order_pb2.Order(
                    lines=[
                        order_pb2.OrderLine(product=f"products/{p}", quantity=q) for p, q in lines
                    ]
                ),
            ),
            metadata=self.customer(user_id),
        )
        return order


@pytest.fixture
async def stack(database_url: str, product_database_url: str) -> AsyncIterator[Stack]:
    keys = TestKeys()
    verifier = TokenVerifier(keys, issuer=keys.issuer, audience=keys.audience)
    product_app = await build_product_app(
        ProductSettings(port=0, database_url=product_database_url),
        database=Database(product_database_url),
        verifier=verifier,
    )

    async def order_token() -> tuple[str, float]:
        return keys.service_token("order"), 300.0

    async with serving(product_app.server) as product_channel:
        stock_channel = create_channel(
            f"127.0.0.1:{product_app.server.port}",
            token=ServiceToken(order_token),
            idempotent=IDEMPOTENT,
            default_timeout=10.0,
        )
        order_app = await build_app(
            OrderSettings(port=0, database_url=database_url, recovery_interval_seconds=3600),
            database=Database(database_url),
            verifier=verifier,
            stock=GrpcStock(stock_channel),
        )
        try:
            async with serving(order_app.server) as order_channel:
                yield Stack(
                    keys=keys,
                    order_app=order_app,
                    product_app=product_app,
                    orders=order_service_pb2_grpc.OrderServiceStub(order_channel),
                    products=product_service_pb2_grpc.ProductServiceStub(product_channel),
                    admin=bearer(keys.token("root", ["admin"])),
                )
        finally:
            await stock_channel.close()
