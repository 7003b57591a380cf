from __future__ import annotations

import asyncio

from shopmesh.product.v1 import product_service_pb2, product_service_pb2_grpc
from shopmesh_kit.clock import utc_now
from shopmesh_kit.db import Database
from shopmesh_kit.migrations import upgrade_async
from shopmesh_kit.testing.grpc import serving
from shopmesh_kit.testing.tokens import TestKeys
from shopmesh_product.app import MIGRATIONS, build_app
from shopmesh_product.demo import DEMO_CATALOG
from shopmesh_product.service import Catalog

from ..conftest import ProductHarness, make_settings, make_verifier


async def test_seeding_fills_an_empty_catalog_once(database_url: str, keys: TestKeys) -> None:
    settings = make_settings(database_url, seed_demo_catalog=True)
    for _ in range(2):  # a restart seeds nothing more
        app = await build_app(
            settings, database=Database(database_url), verifier=make_verifier(keys)
        )
        async with serving(app.server) as channel:
            stub = product_service_pb2_grpc.ProductServiceStub(channel)
            listed = await stub.ListProducts(product_service_pb2.ListProductsRequest(page_size=100))
            cup = await stub.GetProduct(
                product_service_pb2.GetProductRequest(name="products/espresso-cup")
            )
    products = list(listed.products)
    assert len(products) == len(DEMO_CATALOG) >= 20
    assert len({p.category for p in products}) >= 5
    assert all(p.available_quantity >= 20 for p in products)
    assert cup.display_name == "Espresso Cup"


async def test_replicas_seeding_together_add_the_catalog_once(database_url: str) -> None:
    # Each replica has its own engine; two of them race for the empty catalog.
    await upgrade_async(database_url, MIGRATIONS)
    databases = [Database(database_url) for _ in range(3)]
    try:
        counts = await asyncio.gather(*(Catalog(db, clock=utc_now).seed_demo() for db in databases))
    finally:
        for db in databases:
            await db.dispose()
    assert sorted(counts) == [0, 0, len(DEMO_CATALOG)]


async def test_seeding_leaves_a_catalog_with_products_alone(service: ProductHarness) -> None:
    await service.create("my-own-product")
    assert await service.app.catalog.seed_demo() == 0
    listed = await service.stub.ListProducts(product_service_pb2.ListProductsRequest())
    assert [p.name for p in listed.products] == ["products/my-own-product"]
