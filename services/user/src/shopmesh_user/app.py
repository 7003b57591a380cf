"""Composition root of the user service: everything is wired here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from shopmesh.user.v1 import user_service_pb2_grpc
from shopmesh_kit.auth import AccessRules, TokenVerifier
from shopmesh_kit.clock import utc_now
from shopmesh_kit.db import Database
from shopmesh_kit.identity import auth_channel, auth_verifier
from shopmesh_kit.migrations import migrations_dir, upgrade_async
from shopmesh_kit.server import Binding, GrpcServer

from shopmesh_user.api.access import INTERNAL_RULES, RULES, USER_INTERNAL_SERVICE, USER_SERVICE
from shopmesh_user.api.servicer import UserInternalServicer, UserServicer
from shopmesh_user.service import UserService
from shopmesh_user.settings import UserSettings

MIGRATIONS = migrations_dir(__file__)
ERROR_DOMAIN = "user.shopmesh.dev"


@dataclass
class UserApp:
    server: GrpcServer
    service: UserService
    database: Database


async def build_app(
    settings: UserSettings,
    *,
    database: Database,
    verifier: TokenVerifier | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> UserApp:
    """Build the server, migrating first when `settings.migrate_on_start`.
    Without a `verifier`, callers' tokens are checked against the JWKS of
    the auth service at `settings.auth_service_target`."""
    if settings.migrate_on_start:
        await upgrade_async(settings.database_url, MIGRATIONS)
    on_stop: list[Callable[[], Awaitable[None]]] = []
    if verifier is None:
        channel = auth_channel(settings.auth_service_target)
        on_stop.append(channel.close)
        verifier = auth_verifier(
            channel, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
    service = UserService(database=database, clock=clock)
    server = GrpcServer.from_settings(
        settings,
        bindings=[
            Binding(
                USER_SERVICE,
                user_service_pb2_grpc.add_UserServiceServicer_to_server,
                UserServicer(service),
            ),
            Binding(
                USER_INTERNAL_SERVICE,
                user_service_pb2_grpc.add_UserInternalServiceServicer_to_server,
                UserInternalServicer(service),
            ),
        ],
        rules=AccessRules.for_services(
            [(USER_SERVICE, RULES), (USER_INTERNAL_SERVICE, INTERNAL_RULES)]
        ),
        verifier=verifier,
        error_domain=ERROR_DOMAIN,
        on_stop=[*on_stop, database.dispose],
    )
    return UserApp(server=server, service=service, database=database)
