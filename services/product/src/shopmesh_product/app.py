"""Composition root of the product service: everything is wired here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from shopmesh.product.v1 import product_service_pb2_grpc
from shopmesh_kit.auth import AccessRules, TokenVerifier
from shopmesh_kit.clock import utc_now
from shopmesh_kit.db import Database
from shopmesh_kit.identity import auth_channel, auth_verifier
from shopmesh_kit.migrations import migrations_dir, upgrade_async
from shopmesh_kit.server import Binding, GrpcServer

from shopmesh_product.api.access import (
    INTERNAL_RULES,
    PRODUCT_INTERNAL_SERVICE,
    PRODUCT_SERVICE,
    RULES,
)
from shopmesh_product.api.servicer import ProductInternalServicer, ProductServicer
from shopmesh_product.cache import ProductCache
from shopmesh_product.service import Catalog, Stock
from shopmesh_product.settings import ProductSettings

MIGRATIONS = migrations_dir(__file__)
ERROR_DOMAIN = "product.shopmesh.dev"


@dataclass
class ProductApp:
    server: GrpcServer
    catalog: Catalog
    stock: Stock
    database: Database


async def build_app(
    settings: ProductSettings,
    *,
    database: Database,
    verifier: TokenVerifier | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ProductApp:
    """Build the server; migrates and seeds the demo catalog first when
    configured. Without `verifier`, callers' tokens are checked against the
    auth service's JWKS."""
    if settings.migrate_on_start:
        await upgrade_async(settings.database_url, MIGRATIONS)
    cache = ProductCache(ttl=settings.product_cache_seconds)
    catalog = Catalog(database, clock=clock, cache=cache)
    stock = Stock(database, clock=clock, cache=cache)
    if settings.seed_demo_catalog:
        await catalog.seed_demo()
    on_stop: list[Callable[[], Awaitable[None]]] = []
    if verifier is None:
        channel = auth_channel(settings.auth_service_target)
        on_stop.append(channel.close)
        verifier = auth_verifier(
            channel, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
    server = GrpcServer.from_settings(
        settings,
        bindings=[
            Binding(
                PRODUCT_SERVICE,
                product_service_pb2_grpc.add_ProductServiceServicer_to_server,
                ProductServicer(catalog, currency=settings.currency),
            ),
            Binding(
                PRODUCT_INTERNAL_SERVICE,
                product_service_pb2_grpc.add_ProductInternalServiceServicer_to_server,
                ProductInternalServicer(stock, currency=settings.currency),
            ),
        ],
        rules=AccessRules.for_services(
            [(PRODUCT_SERVICE, RULES), (PRODUCT_INTERNAL_SERVICE, INTERNAL_RULES)]
        ),
        verifier=verifier,
        error_domain=ERROR_DOMAIN,
        on_stop=[*on_stop, database.dispose],
    )
    return ProductApp(server=server, catalog=catalog, stock=stock, database=database)
