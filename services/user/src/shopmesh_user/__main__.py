"""Entry point: `python -m shopmesh_user [serve|migrate]`."""

from __future__ import annotations

from shopmesh_kit.cli import run_service
from shopmesh_kit.db import Database

from shopmesh_user.app import MIGRATIONS, UserApp, build_app
from shopmesh_user.settings import UserSettings

DESCRIPTION = """Shopmesh user service: user profiles (display name, shipping
addresses), created by the auth service on registration. Callers' tokens are
verified with the auth service's JWKS. Configured by environment variables
prefixed SHOPMESH_USER_ (for example SHOPMESH_USER_PORT,
SHOPMESH_USER_DATABASE_URL, SHOPMESH_USER_AUTH_SERVICE_TARGET)."""


async def _build(settings: UserSettings, database: Database) -> UserApp:
    return await build_app(settings, database=database)


def main(argv: list[str] | None = None) -> None:
    run_service(
        argv,
        description=DESCRIPTION,
        settings_class=UserSettings,
        build_app=_build,
        migrations=MIGRATIONS,
    )


if __name__ == "__main__":
    main()
