"""Entry point: `python -m shopmesh_auth [serve|migrate]`."""

from __future__ import annotations

from shopmesh_kit.cli import run_service
from shopmesh_kit.db import Database

from shopmesh_auth.app import MIGRATIONS, AuthApp, build_app
from shopmesh_auth.settings import AuthSettings

DESCRIPTION = """Shopmesh auth service: accounts, logins, JWT access tokens, refresh
tokens and the JWKS. Configured by environment variables prefixed SHOPMESH_AUTH_
(for example SHOPMESH_AUTH_PORT, SHOPMESH_AUTH_DATABASE_URL), SHOPMESH_ADMIN_EMAIL
and SHOPMESH_ADMIN_PASSWORD."""


async def _build(settings: AuthSettings, database: Database) -> AuthApp:
    return await build_app(settings, database=database)


def main(argv: list[str] | None = None) -> None:
    run_service(
        argv,
        description=DESCRIPTION,
        settings_class=AuthSettings,
        build_app=_build,
        migrations=MIGRATIONS,
    )


if __name__ == "__main__":
    main()
