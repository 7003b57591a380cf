"""Entry point: `python -m shopmesh_order [serve|migrate]`."""

from __future__ import annotations

from shopmesh_kit.cli import run_service
from shopmesh_kit.db import Database

from shopmesh_order.app import MIGRATIONS, OrderApp, build_app
from shopmesh_order.settings import OrderSettings

DESCRIPTION = """Shopmesh order service: orders that reserve stock at the product
service, with retries made safe by request_id and a recovery loop for orders a
crash left pending. Configured by environment variables prefixed SHOPMESH_ORDER_
(for example SHOPMESH_ORDER_PORT, SHOPMESH_ORDER_DATABASE_URL,
SHOPMESH_ORDER_SERVICE_SECRET)."""


async def _build(settings: OrderSettings, database: Database) -> OrderApp:
    return await build_app(settings, database=database)


def main(argv: list[str] | None = None) -> None:
    run_service(
        argv,
        description=DESCRIPTION,
        settings_class=OrderSettings,
        build_app=_build,
        migrations=MIGRATIONS,
    )


if __name__ == "__main__":
    main()
