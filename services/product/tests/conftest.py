"""Product test harness: the real server on port 0, over a real channel, on
the database of the `database_url` fixture (SQLite and PostgreSQL), with
tokens signed by an in-process test key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
from google.type import money_pb2
from shopmesh.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from shopmesh_kit.auth import TokenVerifier
from shopmesh_kit.db import Database
from shopmesh_kit.testing.grpc import serving
from shopmesh_kit.testing.tokens import TestKeys, bearer
from shopmesh_product.app import ProductApp, build_app
from shopmesh_product.db.models import ProductRow
from shopmesh_product.settings import ProductSettings
from sqlalchemy import select

Metadata = tuple[tuple[str, str], ...]


@dataclass
class Clock:
    """The service's clock; `frozen` pins it (equal create times)."""

    frozen: datetime | None = None
    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return (self.frozen or datetime.now(UTC)) + self.offset


def money(amount: str, currency: str = "USD") -> money_pb2.Money:
    value = Decimal(amount)
    units = int(value)
    return money_pb2.Money(
        currency_code=currency, units=units, nanos=int((value - units) * 1_000_000_000)
    )


def amount(value: money_pb2.Money) -> Decimal:
    return Decimal(value.units) + Decimal(value.nanos) / 1_000_000_000


@dataclass
class ProductHarness:
    app: ProductApp
    channel: grpc.aio.Channel
    stub: product_service_pb2_grpc.ProductServiceStub
    internal: product_service_pb2_grpc.ProductInternalServiceStub
    keys: TestKeys
    clock: Clock

    @property
    def admin(self) -> Metadata:
        return bearer(self.keys.token("admin-1", ["admin", "customer"]))

    @property
    def customer(self) -> Metadata:
        return bearer(self.keys.token("user-1", ["customer"]))

    @property
    def order_service(self) -> Metadata:
        return bearer(self.keys.service_token("order"))

    async def create(
        self,
        product_id: str = "espresso-cup",
        *,
        display_name: str = "Espresso Cup",
        category: str = "kitchen",
        price: str = "12.50",
        quantity: int = 10,
        description: str = "",
    ) -> Any:
        return await self.stub.CreateProduct(
            product_service_pb2.CreateProductRequest(
                product=product_pb2.Product(
                    display_name=display_name,
                    description=description,
                    category=category,
                    price=money(price),
                ),
                product_id=product_id,
                initial_quantity=quantity,
            ),
            metadata=self.admin,
        )

    async def get(self, product_id: str) -> Any:
        return await self.stub.GetProduct(
            product_service_pb2.GetProductRequest(name=f"products/{product_id}")
        )

    async def quantity(self, product_id: str) -> int:
        """Available units, deleted products included (read from the database)."""
        async with self.app.database.session() as session:
            value = await session.scalar(
                select(ProductRow.available_quantity).where(ProductRow.id == product_id)
            )
        assert value is not None
        return int(value)

    async def reserve(self, reservation_id: str, *lines: tuple[str, int]) -> Any:
        return await self.internal.ReserveStock(
            product_service_pb2.ReserveStockRequest(
                reservation_id=reservation_id,
                lines=[
                    product_pb2.ReservationLine(product=f"products/{p}", quantity=q)
                    for p, q in lines
                ],
            ),
            metadata=self.order_service,
        )

    async def get_reservation(self, reservation_id: str) -> Any:
        return await self.internal.GetReservation(
            product_service_pb2.GetReservationRequest(name=f"reservations/{reservation_id}"),
            metadata=self.order_service,
        )

    async def commit(self, reservation_id: str) -> Any:
        return await self.internal.CommitReservation(
            product_service_pb2.CommitReservationRequest(name=f"reservations/{reservation_id}"),
            metadata=self.order_service,
        )

    async def release(self, reservation_id: str) -> bool:
        response = await self.internal.ReleaseReservation(
            product_service_pb2.ReleaseReservationRequest(name=f"reservations/{reservation_id}"),
            metadata=self.order_service,
        )
        return bool(response.released)


def make_settings(database_url: str, **overrides: Any) -> ProductSettings:
    values: dict[str, Any] = {"port": 0, "database_url": database_url, "seed_demo_catalog": False}
    values.update(overrides)
    return ProductSettings(**values)


def make_verifier(keys: TestKeys) -> TokenVerifier:
    return TokenVerifier(keys, issuer=keys.issuer, audience=keys.audience)


@pytest.fixture
def keys() -> TestKeys:
    return TestKeys()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def service(database_url: str, keys: TestKeys, clock: Clock) -> AsyncIterator[ProductHarness]:
    app = await build_app(
        make_settings(database_url),
        database=Database(database_url),
        verifier=make_verifier(keys),
        clock=clock,
    )
    async with serving(app.server) as channel:
        yield ProductHarness(
            app=app,
            channel=channel,
            stub=product_service_pb2_grpc.ProductServiceStub(channel),
            internal=product_service_pb2_grpc.ProductInternalServiceStub(channel),
            keys=keys,
            clock=clock,
        )
