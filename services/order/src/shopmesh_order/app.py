"""Composition root of the order service: everything is wired here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import grpc
from shopmesh.order.v1 import order_service_pb2_grpc
from shopmesh_kit.auth import AccessRules, TokenVerifier
from shopmesh_kit.clients import create_channel
from shopmesh_kit.clock import utc_now
from shopmesh_kit.db import Database
from shopmesh_kit.identity import auth_channel, auth_verifier, service_token
from shopmesh_kit.migrations import migrations_dir, upgrade_async
from shopmesh_kit.periodic import Periodic
from shopmesh_kit.server import Binding, GrpcServer

from shopmesh_order.api.access import ORDER_SERVICE, RULES
from shopmesh_order.api.servicer import OrderServicer
from shopmesh_order.faults import Faults
from shopmesh_order.service import OrderService
from shopmesh_order.settings import OrderSettings
from shopmesh_order.stock import IDEMPOTENT, GrpcStock, Stock

log = logging.getLogger("shopmesh.order")
MIGRATIONS = migrations_dir(__file__)
ERROR_DOMAIN = "order.shopmesh.dev"


@dataclass
class OrderApp:
    server: GrpcServer
    service: OrderService


async def build_app(
    settings: OrderSettings,
    *,
    database: Database,
    verifier: TokenVerifier | None = None,
    stock: Stock | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> OrderApp:
    """Build the server. Without a verifier or stock given, talk to the auth
    and product services named in the settings."""
    if settings.migrate_on_start:
        await upgrade_async(settings.database_url, MIGRATIONS)
    closers: list[Callable[[], Awaitable[None]]] = []
    auth: grpc.aio.Channel | None = None
    if verifier is None or stock is None:
        auth = auth_channel(settings.auth_service_target)
        closers.append(auth.close)
    if verifier is None:
        assert auth is not None
        verifier = auth_verifier(auth, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    if stock is None:
        assert auth is not None
        token = service_token(
            auth, settings.service_name, settings.service_secret.get_secret_value()
        )
        product_channel = create_channel(
            settings.product_service_target,
            token=token,
            default_timeout=settings.product_call_timeout_seconds,
            idempotent=IDEMPOTENT,
        )
        closers.append(product_channel.close)
        stock = GrpcStock(product_channel, settings.currency)
    service = OrderService(
        database=database, stock=stock, clock=clock, faults=Faults(settings.fault_crash_point)
    )
    grace = timedelta(seconds=settings.recovery_grace_seconds)

    async def recover() -> None:
        if moved := await service.recover(grace):
            log.info("recovery looked at %d order(s)", moved)

    recovery = Periodic("order-recovery", recover, interval=settings.recovery_interval_seconds)
    server = GrpcServer.from_settings(
        settings,
        bindings=[
            Binding(
                ORDER_SERVICE,
                order_service_pb2_grpc.add_OrderServiceServicer_to_server,
                OrderServicer(service),
            ),
        ],
        rules=AccessRules.for_services([(ORDER_SERVICE, RULES)]),
        verifier=verifier,
        error_domain=ERROR_DOMAIN,
        on_start=[recovery.start],
        on_stop=[recovery.stop, *closers, database.dispose],
    )
    return OrderApp(server=server, service=service)
