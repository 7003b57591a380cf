"""The command line every service shares: `python -m shopmesh_<svc>
[serve|migrate]`. A service's `__main__` names its settings class, its
composition root and its migrations; this is the only code that reads the
environment (through the settings)."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol, TypeVar

from shopmesh_kit.db import Database
from shopmesh_kit.logs import configure_logging
from shopmesh_kit.migrations import upgrade_async
from shopmesh_kit.server import GrpcServer
from shopmesh_kit.settings import ServiceSettings
from shopmesh_kit.telemetry import configure_tracing

SECRETS_DIR_ENV = "SHOPMESH_SECRETS_DIR"
M_ARENA_MAX = -8  # glibc's mallopt parameter number


class App(Protocol):
    @property
    def server(self) -> GrpcServer: ...


S = TypeVar("S", bound=ServiceSettings)


def run_service(
    argv: list[str] | None,
    *,
    description: str,
    settings_class: type[S],
    build_app: Callable[[S, Database], Awaitable[App]],
    migrations: Path,
) -> None:
    parser = argparse.ArgumentParser(
        prog=f"shopmesh-{settings_class.service_name}",
        description=f"{description} Settings are also read from one file per "
        f"setting in {SECRETS_DIR_ENV} (for example Vault-rendered secrets).",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=["serve", "migrate"],
        default="serve",
        help="serve the gRPC API (default) or apply database migrations and exit",
    )
    args = parser.parse_args(argv)
    limit_malloc_arenas()
    settings = settings_class.load(secrets_dir=os.environ.get(SECRETS_DIR_ENV))
    configure_logging(settings.log_level, json=settings.log_json, service=settings.service_name)
    if args.command == "migrate":
        asyncio.run(upgrade_async(settings.database_url, migrations))
        return
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    asyncio.run(_serve(settings, build_app))


def limit_malloc_arenas(arenas: int = 1) -> None:
    """Cap glibc's malloc arenas (like MALLOC_ARENA_MAX). Every worker thread
    that allocates (argon2id hashing 19 MiB at a time, aiosqlite) otherwise
    keeps an arena of its own, and the process grows by tens of MiB. A no-op
    where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_ARENA_MAX, arenas)
    except (OSError, AttributeError):
        return


async def _serve(settings: S, build_app: Callable[[S, Database], Awaitable[App]]) -> None:
    app = await build_app(settings, Database(settings.database_url))
    await app.server.serve()
