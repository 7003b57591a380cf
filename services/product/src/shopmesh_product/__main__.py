"""Entry point: `python -m shopmesh_product [serve|migrate]`."""

from __future__ import annotations

from shopmesh_kit.cli import run_service
from shopmesh_kit.db import Database

from shopmesh_product.app import MIGRATIONS, ProductApp, build_app
from shopmesh_product.settings import ProductSettings

DESCRIPTION = """Shopmesh product service: the catalog (public browsing, admin
edits, restocking) and stock reservation for the order service. Configured by
environment variables prefixed SHOPMESH_PRODUCT_ (for example
SHOPMESH_PRODUCT_PORT, SHOPMESH_PRODUCT_DATABASE_URL, SHOPMESH_PRODUCT_CURRENCY,
SHOPMESH_PRODUCT_SEED_DEMO_CATALOG, SHOPMESH_PRODUCT_AUTH_SERVICE_TARGET for the
JWKS)."""


async def _build(settings: ProductSettings, database: Database) -> ProductApp:
    return await build_app(settings, database=database)


def main(argv: list[str] | None = None) -> None:
    run_service(
        argv,
        description=DESCRIPTION,
        settings_class=ProductSettings,
        build_app=_build,
        migrations=MIGRATIONS,
    )


if __name__ == "__main__":
    main()
