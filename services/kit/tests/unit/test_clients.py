"""Outbound channels: service tokens, deadlines taken from the inbound RPC,
and retries of idempotent methods, against a real server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import grpc
import pytest
from shopmesh.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from shopmesh_kit.auth import AccessRules, TokenVerifier, current_principal, services
from shopmesh_kit.clients import ServiceToken, create_channel, retry_service_config
from shopmesh_kit.deadlines import set_inbound_deadline
from shopmesh_kit.errors import DeadlineExceeded, Unavailable
from shopmesh_kit.rpc import Context
from shopmesh_kit.server import Binding, GrpcServer
from shopmesh_kit.testing.tokens import TestKeys, bearer

USER_INTERNAL_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserInternalService"]
CREATE_USER = (USER_INTERNAL_SERVICE.full_name, "CreateUser")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeTokenEndpoint:
    """Issues numbered tokens with a fixed lifetime and counts the requests."""

    def __init__(self, lifetime: float = 100.0) -> None:
        self.lifetime = lifetime
        self.issued = 0
        self.down = False

    async def __call__(self) -> tuple[str, float]:
        await asyncio.sleep(0)  # a round trip: other callers run meanwhile
        if self.down:
            raise ConnectionError("auth service unavailable")
        self.issued += 1
        return f"token-{self.issued}", self.lifetime


async def test_service_token_is_fetched_once_and_cached() -> None:
    endpoint, clock = FakeTokenEndpoint(), FakeClock()
    token = ServiceToken(endpoint, clock)
    assert await token.get() == "token-1"
    clock.now = 79.9
    assert await token.get() == "token-1"
    assert endpoint.issued == 1


async def test_service_token_is_renewed_when_a_fifth_of_its_lifetime_is_left() -> None:
    endpoint, clock = FakeTokenEndpoint(), FakeClock()
    token = ServiceToken(endpoint, clock)
    await token.get()
    clock.now = 80.0
    assert await token.get() == "token-2"
    clock.now = 159.9
    assert await token.get() == "token-2"
    assert endpoint.issued == 2


async def test_concurrent_callers_share_one_token_request() -> None:
    endpoint = FakeTokenEndpoint()
    token = ServiceToken(endpoint, FakeClock())
    assert await asyncio.gather(*(token.get() for _ in range(5))) == ["token-1"] * 5
    assert endpoint.issued == 1


async def test_a_failed_token_request_is_retried_by_the_next_call() -> None:
    endpoint = FakeTokenEndpoint()
    token = ServiceToken(endpoint, FakeClock())
    endpoint.down = True
    with pytest.raises(ConnectionError):
        await token.get()
    endpoint.down = False
    assert await token.get() == "token-1"


def test_retry_service_config_retries_only_the_named_methods_on_unavailable() -> None:
    config = json.loads(retry_service_config([CREATE_USER, ("a.v1.B", "Get")], max_attempts=3))
    assert config == {
        "methodConfig": [
            {
                "name": [
                    {"service": "shopmesh.user.v1.UserInternalService", "method": "CreateUser"},
                    {"service": "a.v1.B", "method": "Get"},
                ],
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }


def test_retry_service_config_without_idempotent_methods_retries_nothing() -> None:
    assert json.loads(retry_service_config([])) == {"methodConfig": []}


# ---------------------------------------------------------------- against a real server


@dataclass
class FakeUsersInternal(user_service_pb2_grpc.UserInternalServiceServicer):
    """Echoes the caller's subject as the user name; fails with UNAVAILABLE
    `failures` times first; blocks while `hang` is set."""

    failures: int = 0
    hang: bool = False
    calls: int = 0
    time_remaining: list[float | None] = field(default_factory=list)

    async def CreateUser(
        self, request: user_service_pb2.CreateUserRequest, context: Context
    ) -> user_pb2.User:
        self.calls += 1
        self.time_remaining.append(context.time_remaining())
        if self.failures:
            self.failures -= 1
            raise Unavailable("briefly down")
        if self.hang:
            await asyncio.Event().wait()
        caller = current_principal()
        return user_pb2.User(name=caller.subject if caller else "anonymous")


@pytest.fixture
def keys() -> TestKeys:
    return TestKeys()


@pytest.fixture
def users() -> FakeUsersInternal:
    return FakeUsersInternal()


@pytest.fixture
async def server(keys: TestKeys, users: FakeUsersInternal) -> AsyncIterator[GrpcServer]:
    server = GrpcServer(
        bindings=[
            Binding(
                USER_INTERNAL_SERVICE,
                user_service_pb2_grpc.add_UserInternalServiceServicer_to_server,
                users,
            )
        ],
        rules=AccessRules.for_services(
            [(USER_INTERNAL_SERVICE, {"CreateUser": services("order")})]
        ),
        verifier=TokenVerifier(keys, issuer=keys.issuer, audience=keys.audience),
        error_domain="test.shopmesh.dev",
    )
    await server.start()
    yield server
    await server.stop(0)


@pytest.fixture(autouse=True)
def no_inbound_deadline() -> Iterator[None]:
    set_inbound_deadline(None)
    yield
    set_inbound_deadline(None)


def order_token(keys: TestKeys) -> ServiceToken:
    async def fetch() -> tuple[str, float]:
        return keys.service_token("order"), 300.0

    return ServiceToken(fetch)


CREATE = user_service_pb2.CreateUserRequest(
    user_id="A", email="ada@example.com", user=user_pb2.User(display_name="Ada")
)


async def test_outbound_calls_carry_the_service_token(server: GrpcServer, keys: TestKeys) -> None:
    async with create_channel(f"127.0.0.1:{server.port}", token=order_token(keys)) as channel:
        user = await user_service_pb2_grpc.UserInternalServiceStub(channel).CreateUser(CREATE)
    assert user.name == "services/order"


async def test_an_explicit_authorization_header_is_kept(server: GrpcServer, keys: TestKeys) -> None:
    async with create_channel(f"127.0.0.1:{server.port}", token=order_token(keys)) as channel:
        stub = user_service_pb2_grpc.UserInternalServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.CreateUser(CREATE, metadata=bearer(keys.service_token("auth")))
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_outbound_calls_without_a_token_are_anonymous(server: GrpcServer) -> None:
    async with create_channel(f"127.0.0.1:{server.port}") as channel:
        stub = user_service_pb2_grpc.UserInternalServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.CreateUser(CREATE)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_outbound_deadline_is_the_time_left_of_the_inbound_rpc(
    server: GrpcServer, keys: TestKeys, users: FakeUsersInternal
) -> None:
    set_inbound_deadline(2.0)
    async with create_channel(f"127.0.0.1:{server.port}", token=order_token(keys)) as channel:
        await user_service_pb2_grpc.UserInternalServiceStub(channel).CreateUser(CREATE)
    [left] = users.time_remaining
    assert left is not None
    assert 1.0 < left < 2.5  # not the 5 s default; grpc-timeout is rounded up on the wire


async def test_outbound_deadline_defaults_without_an_inbound_rpc(
    server: GrpcServer, keys: TestKeys, users: FakeUsersInternal
) -> None:
    target = f"127.0.0.1:{server.port}"
    async with create_channel(target, token=order_token(keys), default_timeout=30) as channel:
        await user_service_pb2_grpc.UserInternalServiceStub(channel).CreateUser(CREATE)
    [left] = users.time_remaining
    assert left is not None
    assert 29.0 < left < 30.5  # grpc-timeout is rounded up on the wire


async def test_a_slow_dependency_fails_fast_with_the_inbound_deadline(
    server: GrpcServer, keys: TestKeys, users: FakeUsersInternal
) -> None:
    users.hang = True
    set_inbound_deadline(0.3)
    started = time.monotonic()
    async with create_channel(f"127.0.0.1:{server.port}", token=order_token(keys)) as channel:
        stub = user_service_pb2_grpc.UserInternalServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.CreateUser(CREATE)
    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < 2.0  # the default timeout is 5 s


async def test_no_call_is_made_once_the_inbound_deadline_is_spent(
    server: GrpcServer, keys: TestKeys, users: FakeUsersInternal
) -> None:
    set_inbound_deadline(0.0)
    async with create_channel(f"127.0.0.1:{server.port}", token=order_token(keys)) as channel:
        stub = user_service_pb2_grpc.UserInternalServiceStub(channel)
        with pytest.raises(DeadlineExceeded):
            await stub.CreateUser(CREATE)
    assert users.calls == 0


async def test_idempotent_methods_are_retried_on_unavailable(
    server: GrpcServer, keys: TestKeys, users: FakeUsersInternal
) -> None:
    users.failures = 2
    target = f"127.0.0.1:{server.port}"
    async with create_channel(target, token=order_token(keys), idempotent=[CREATE_USER]) as channel:
        user = await user_service_pb2_grpc.UserInternalServiceStub(channel).CreateUser(CREATE)
    assert user.name == "services/order"
    assert users.calls == 3


async def test_other_methods_are_not_retried(
    server: GrpcServer, keys: TestKeys, users: FakeUsersInternal
) -> None:
    users.failures = 1
    async with create_channel(f"127.0.0.1:{server.port}", token=order_token(keys)) as channel:
        stub = user_service_pb2_grpc.UserInternalServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.CreateUser(CREATE)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert users.calls == 1
