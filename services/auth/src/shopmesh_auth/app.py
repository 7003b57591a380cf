"""Composition root of the auth service: everything is wired here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shopmesh.auth.v1 import auth_service_pb2_grpc
from shopmesh_kit.auth import SERVICE, AccessRules, TokenVerifier
from shopmesh_kit.clients import ServiceToken, create_channel
from shopmesh_kit.clock import utc_now
from shopmesh_kit.db import Database
from shopmesh_kit.migrations import migrations_dir, upgrade_async
from shopmesh_kit.periodic import Periodic
from shopmesh_kit.server import Binding, GrpcServer

from shopmesh_auth.api.access import AUTH_INTERNAL_SERVICE, AUTH_SERVICE, INTERNAL_RULES, RULES
from shopmesh_auth.api.servicer import AuthInternalServicer, AuthServicer
from shopmesh_auth.keyring import KeyRing
from shopmesh_auth.security.keys import TokenIssuer
from shopmesh_auth.security.passwords import PasswordHasher
from shopmesh_auth.service import AuthPolicy, AuthService, UserDirectory
from shopmesh_auth.settings import AuthSettings
from shopmesh_auth.users import IDEMPOTENT, GrpcUserDirectory

log = logging.getLogger("shopmesh.auth")
MIGRATIONS = migrations_dir(__file__)
ERROR_DOMAIN = "auth.shopmesh.dev"


@dataclass
class AuthApp:
    server: GrpcServer
    service: AuthService
    keys: KeyRing
    database: Database


async def build_app(
    settings: AuthSettings,
    *,
    database: Database,
    users: UserDirectory | None = None,
    hasher: PasswordHasher | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> AuthApp:
    """Build the server; migrates, loads keys and seeds the admin first.
    Background work (key rotation, pending registrations) runs while serving."""
    if settings.migrate_on_start:
        await upgrade_async(settings.database_url, MIGRATIONS)
    access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
    service_ttl = timedelta(seconds=settings.service_token_ttl_seconds)
    passphrase = settings.signing_key_passphrase
    keys = KeyRing(
        database,
        rotation_interval=timedelta(seconds=settings.key_rotation_interval_seconds),
        max_token_ttl=max(access_ttl, service_ttl) + timedelta(minutes=5),
        passphrase=passphrase.get_secret_value().encode() if passphrase else None,
        clock=clock,
    )
    await keys.load()
    issuer = TokenIssuer(settings.jwt_issuer, settings.jwt_audience)
    on_stop = []
    if users is None:

        async def own_token() -> tuple[str, float]:
            token = issuer.sign(
                keys.current, subject="services/auth", roles=[SERVICE], ttl=service_ttl, now=clock()
            )
            return token, service_ttl.total_seconds()

        channel = create_channel(
            settings.user_service_target, token=ServiceToken(own_token), idempotent=IDEMPOTENT
        )
        on_stop.append(channel.close)
        users = GrpcUserDirectory(channel)
    service = AuthService(
        database=database,
        users=users,
        hasher=hasher or PasswordHasher(),
        keys=keys,
        issuer=issuer,
        policy=AuthPolicy(
            access_token_ttl=access_ttl,
            refresh_token_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
            service_token_ttl=service_ttl,
            account_failure_limit=settings.login_failures_per_account,
            client_failure_limit=settings.login_failures_per_client,
            failure_window_seconds=settings.login_failure_window_seconds,
        ),
        service_secrets={k: v.get_secret_value() for k, v in settings.service_secrets.items()},
        clock=clock,
    )
    background = Periodic(
        "auth-housekeeping",
        _Housekeeping(service, keys, settings),
        interval=settings.pending_retry_interval_seconds,
    )
    server = GrpcServer.from_settings(
        settings,
        bindings=[
            Binding(
                AUTH_SERVICE,
                auth_service_pb2_grpc.add_AuthServiceServicer_to_server,
                AuthServicer(service, trust_forwarded_for=settings.trust_forwarded_for),
            ),
            Binding(
                AUTH_INTERNAL_SERVICE,
                auth_service_pb2_grpc.add_AuthInternalServiceServicer_to_server,
                AuthInternalServicer(service),
            ),
        ],
        rules=AccessRules.for_services(
            [(AUTH_SERVICE, RULES), (AUTH_INTERNAL_SERVICE, INTERNAL_RULES)]
        ),
        verifier=TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience),
        error_domain=ERROR_DOMAIN,
        on_start=[background.start],
        on_stop=[background.stop, *on_stop, database.dispose],
    )
    return AuthApp(server=server, service=service, keys=keys, database=database)


class _Housekeeping:
    """Work done while serving: seed the admin, finish registrations whose
    profile creation failed (the user service may have been down), and
    rotate signing keys when due."""

    def __init__(self, service: AuthService, keys: KeyRing, settings: AuthSettings) -> None:
        self._service = service
        self._keys = keys
        self._admin = (
            (settings.admin_email, settings.admin_password.get_secret_value())
            if settings.admin_email and settings.admin_password
            else None
        )

    async def __call__(self) -> None:
        if self._admin is not None:
            await self._service.seed_admin(*self._admin)
            log.info("admin account ready", extra={"email": self._admin[0]})
            self._admin = None
        await self._service.complete_pending()
        await self._keys.load()
