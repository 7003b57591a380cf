"""Entry point: `python -m shopmesh_order [serve|migrate]`. The only place
that reads the environment."""

from __future__ import annotations

import argparse
import asyncio
import os

from shopmesh_kit.db import Database
from shopmesh_kit.logs import configure_logging
from shopmesh_kit.migrations import upgrade_async
from shopmesh_kit.telemetry import configure_tracing

from shopmesh_order.app import MIGRATIONS, build_app
from shopmesh_order.settings import OrderSettings

DESCRIPTION = """Shopmesh order service: orders that reserve stock at the product
service, with retries made safe by request_id and a recovery loop for orders a
crash left pending. Configured by environment variables prefixed SHOPMESH_ORDER_
(for example SHOPMESH_ORDER_PORT, SHOPMESH_ORDER_DATABASE_URL,
SHOPMESH_ORDER_SERVICE_SECRET) and by one file per setting in SHOPMESH_SECRETS_DIR."""


async def _serve(settings: OrderSettings) -> None:
    app = await build_app(settings, database=Database(settings.database_url))
    await app.server.serve()


async def _migrate(settings: OrderSettings) -> None:
    await upgrade_async(settings.database_url, MIGRATIONS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="shopmesh-order", description=DESCRIPTION)
    parser.add_argument(
        "command",
        nargs="?",
        choices=["serve", "migrate"],
        default="serve",
        help="serve the gRPC API (default) or apply database migrations and exit",
    )
    args = parser.parse_args(argv)
    settings = OrderSettings.load(secrets_dir=os.environ.get("SHOPMESH_SECRETS_DIR"))
    configure_logging(settings.log_level, json=settings.log_json, service=settings.service_name)
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        return
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    asyncio.run(_serve(settings))


if __name__ == "__main__":
    main()
