"""Entry point: `python -m shopmesh_product [serve|migrate]`. The only place
that reads the environment."""

from __future__ import annotations

import argparse
import asyncio
import os

from shopmesh_kit.db import Database
from shopmesh_kit.logs import configure_logging
from shopmesh_kit.migrations import upgrade_async
from shopmesh_kit.telemetry import configure_tracing

from shopmesh_product.app import MIGRATIONS, build_app
from shopmesh_product.settings import ProductSettings

DESCRIPTION = """Shopmesh product service: the catalog (public browsing, admin
edits, restocking) and stock reservation for the order service. Configured by
environment variables prefixed SHOPMESH_PRODUCT_ (for example
SHOPMESH_PRODUCT_PORT, SHOPMESH_PRODUCT_DATABASE_URL, SHOPMESH_PRODUCT_CURRENCY,
SHOPMESH_PRODUCT_SEED_DEMO_CATALOG, SHOPMESH_PRODUCT_AUTH_SERVICE_TARGET for the
JWKS) and by one file per setting in SHOPMESH_SECRETS_DIR."""


async def _serve(settings: ProductSettings) -> None:
    app = await build_app(settings, database=Database(settings.database_url))
    await app.server.serve()


async def _migrate(settings: ProductSettings) -> None:
    await upgrade_async(settings.database_url, MIGRATIONS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="shopmesh-product", description=DESCRIPTION)
    parser.add_argument(
        "command",
        nargs="?",
        choices=["serve", "migrate"],
        default="serve",
        help="serve the gRPC API (default) or apply database migrations and exit",
    )
    args = parser.parse_args(argv)
    settings = ProductSettings.load(secrets_dir=os.environ.get("SHOPMESH_SECRETS_DIR"))
    configure_logging(settings.log_level, json=settings.log_json, service=settings.service_name)
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        return
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    asyncio.run(_serve(settings))


if __name__ == "__main__":
    main()
