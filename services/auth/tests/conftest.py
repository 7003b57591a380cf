"""Auth test harness: the real server on port 0, over a real channel, on the
database of the `database_url` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from shopmesh.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from shopmesh_auth.app import AuthApp, build_app
from shopmesh_auth.settings import AuthSettings
from shopmesh_kit.auth import JwksCache, TokenVerifier
from shopmesh_kit.db import Database
from shopmesh_kit.errors import Unavailable
from shopmesh_kit.testing.grpc import serving


class FakeUserDirectory:
    """Stands in for the user service until it exists: records profiles,
    idempotent on the id, and can be told to fail."""

    def __init__(self) -> None:
        self.profiles: dict[str, tuple[str, str]] = {}
        self.failures_left = 0
        self.calls = 0

    async def create_profile(self, user_id: str, email: str, display_name: str) -> None:
        self.calls += 1
        if self.failures_left:
            self.failures_left -= 1
            raise Unavailable("user service down", reason="PROFILE_SERVICE_UNAVAILABLE")
        self.profiles.setdefault(user_id, (email, display_name))


@dataclass
class Clock:
    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class AuthHarness:
    app: AuthApp
    channel: grpc.aio.Channel
    stub: auth_service_pb2_grpc.AuthServiceStub
    internal: auth_service_pb2_grpc.AuthInternalServiceStub
    users: FakeUserDirectory
    clock: Clock

    async def register(
        self, email: str = "ada@example.com", password: str = "correct horse", name: str = "Ada"
    ) -> Any:
        return await self.stub.RegisterAccount(
            auth_service_pb2.RegisterAccountRequest(
                email=email, password=password, display_name=name
            )
        )

    async def login(self, email: str = "ada@example.com", password: str = "correct horse") -> Any:
        return await self.stub.Login(auth_service_pb2.LoginRequest(email=email, password=password))

    def verifier(
        self, *, issuer: str = "shopmesh-auth", audience: str = "shopmesh"
    ) -> TokenVerifier:
        """A verifier as every other service builds it: JWKS fetched over gRPC."""

        async def fetch() -> dict[str, Any]:
            response = await self.stub.GetJwks(auth_service_pb2.GetJwksRequest())
            return {"keys": [{f.name: v for f, v in key.ListFields()} for key in response.keys]}

        return TokenVerifier(
            JwksCache(fetch, min_refresh_interval=0), issuer=issuer, audience=audience
        )


def make_settings(database_url: str, **overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {
        "port": 0,
        "database_url": database_url,
        "service_secrets": {"order": "order-secret-value"},
        "login_failures_per_account": 3,
        "login_failures_per_client": 6,
        "pending_retry_interval_seconds": 3600,
        "admin_email": None,
        "admin_password": None,
    }
    values.update(overrides)
    return AuthSettings(**values)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def users() -> FakeUserDirectory:
    return FakeUserDirectory()


@pytest.fixture
async def auth(
    database_url: str, users: FakeUserDirectory, clock: Clock
) -> AsyncIterator[AuthHarness]:
    settings = make_settings(database_url)
    app = await build_app(settings, database=Database(database_url), users=users, clock=clock)
    async with serving(app.server) as channel:
        yield AuthHarness(
            app=app,
            channel=channel,
            stub=auth_service_pb2_grpc.AuthServiceStub(channel),
            internal=auth_service_pb2_grpc.AuthInternalServiceStub(channel),
            users=users,
            clock=clock,
        )
