"""User test harness: the real server on port 0, over a real channel, on the
database of the `database_url` fixture (SQLite and PostgreSQL), with tokens
signed by an in-process test key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from google.type import postal_address_pb2
from shopmesh.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from shopmesh_kit.auth import ADMIN, TokenVerifier
from shopmesh_kit.db import Database
from shopmesh_kit.testing.grpc import serving
from shopmesh_kit.testing.tokens import TestKeys, bearer
from shopmesh_user.app import UserApp, build_app
from shopmesh_user.settings import UserSettings

Metadata = tuple[tuple[str, str], ...]
ANONYMOUS: Metadata = ()


@dataclass
class Clock:
    """The service's clock; `frozen` stops it (to make equal create times)."""

    frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen or datetime.now(UTC)


def address(**overrides: Any) -> Any:
    values: dict[str, Any] = {
        "region_code": "CH",
        "postal_code": "8001",
        "locality": "Zürich",
        "address_lines": ["Bahnhofstrasse 1"],
    }
    values.update(overrides)
    return postal_address_pb2.PostalAddress(**values)


@dataclass
class UserHarness:
    app: UserApp
    stub: user_service_pb2_grpc.UserServiceStub
    internal: user_service_pb2_grpc.UserInternalServiceStub
    keys: TestKeys
    clock: Clock

    def customer(self, user_id: str) -> Metadata:
        return bearer(self.keys.token(user_id))

    def admin(self, user_id: str = "root") -> Metadata:
        return bearer(self.keys.token(user_id, [ADMIN]))

    def service(self, name: str = "auth") -> Metadata:
        return bearer(self.keys.service_token(name))

    async def create(
        self,
        user_id: str = "ada",
        *,
        email: str | None = None,
        display_name: str = "Ada",
        addresses: Sequence[Any] = (),
        metadata: Metadata | None = None,
    ) -> Any:
        return await self.internal.CreateUser(
            user_service_pb2.CreateUserRequest(
                user_id=user_id,
                email=email or f"{user_id}@example.com",
                user=user_pb2.User(display_name=display_name, shipping_addresses=addresses),
            ),
            metadata=self.service() if metadata is None else metadata,
        )

    async def get(self, name: str = "users/ada", *, metadata: Metadata | None = None) -> Any:
        return await self.stub.GetUser(
            user_service_pb2.GetUserRequest(name=name),
            metadata=self.admin() if metadata is None else metadata,
        )

    async def update(
        self,
        user: Any,
        paths: Sequence[str] = (),
        *,
        metadata: Metadata | None = None,
    ) -> Any:
        request = user_service_pb2.UpdateUserRequest(user=user)
        request.update_mask.paths.extend(paths)
        return await self.stub.UpdateUser(
            request, metadata=self.admin() if metadata is None else metadata
        )

    async def list(
        self,
        *,
        page_size: int = 0,
        page_token: str = "",
        filter: str = "",
        metadata: Metadata | None = None,
    ) -> Any:
        return await self.stub.ListUsers(
            user_service_pb2.ListUsersRequest(
                page_size=page_size, page_token=page_token, filter=filter
            ),
            metadata=self.admin() if metadata is None else metadata,
        )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def users(database_url: str, clock: Clock) -> AsyncIterator[UserHarness]:
    keys = TestKeys()
    settings = UserSettings(port=0, database_url=database_url)
    app = await build_app(
        settings,
        database=Database(database_url),
        verifier=TokenVerifier(keys, issuer=keys.issuer, audience=keys.audience),
        clock=clock,
    )
    async with serving(app.server) as channel:
        yield UserHarness(
            app=app,
            stub=user_service_pb2_grpc.UserServiceStub(channel),
            internal=user_service_pb2_grpc.UserInternalServiceStub(channel),
            keys=keys,
            clock=clock,
        )
