"""Access rules, resource ownership, token verification and the JWKS cache."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import jwt
import pytest
from google.protobuf.message import Message
from shopmesh.order.v1 import order_service_pb2
from shopmesh.user.v1 import user_pb2, user_service_pb2
from shopmesh_kit.auth import (
    ADMIN,
    ALGORITHM,
    CUSTOMER,
    PUBLIC,
    SERVICE,
    AccessRules,
    JwksCache,
    Principal,
    Rule,
    TokenVerifier,
    full_method_names,
    owner,
    owner_of,
    parse_jwks,
    roles,
    services,
)
from shopmesh_kit.errors import Unauthenticated, Unavailable
from shopmesh_kit.testing.tokens import TestKeys

USER_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"]
USER_INTERNAL_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserInternalService"]

ALICE = Principal("alice", frozenset({CUSTOMER}))
BOB = Principal("bob", frozenset({CUSTOMER}))
ADMIN_USER = Principal("root", frozenset({ADMIN}))
ORDER_SERVICE = Principal("services/order", frozenset({SERVICE}))
AUTH_SERVICE = Principal("services/auth", frozenset({SERVICE}))
ACCOUNT_WITH_SERVICE_ROLE = Principal("auth", frozenset({SERVICE}))


def get(name: str) -> user_service_pb2.GetUserRequest:
    return user_service_pb2.GetUserRequest(name=name)


def update(name: str) -> user_service_pb2.UpdateUserRequest:
    return user_service_pb2.UpdateUserRequest(user=user_pb2.User(name=name))


OWNER_OR_ADMIN = owner("name", or_roles=[ADMIN])
NESTED_OWNER = owner("user.name")
ONLY_ORDER = services("order")

ALLOWS = [
    # rule, principal, request, allowed
    (PUBLIC, None, get("users/alice"), True),
    (PUBLIC, ALICE, get("users/alice"), True),
    (roles(ADMIN), None, get(""), False),
    (roles(ADMIN), ALICE, get(""), False),
    (roles(ADMIN), ADMIN_USER, get(""), True),
    (roles(CUSTOMER, ADMIN), ALICE, get(""), True),
    (roles(ADMIN), ORDER_SERVICE, get(""), False),
    (OWNER_OR_ADMIN, ALICE, get("users/alice"), True),
    (OWNER_OR_ADMIN, ALICE, get("users/me"), True),
    (OWNER_OR_ADMIN, ALICE, get("users/alice/orders/1"), True),
    (OWNER_OR_ADMIN, BOB, get("users/alice"), False),
    (OWNER_OR_ADMIN, ALICE, get("users/-"), False),
    (OWNER_OR_ADMIN, ALICE, get("users/alicex"), False),
    (OWNER_OR_ADMIN, ALICE, get(""), False),
    (OWNER_OR_ADMIN, None, get("users/alice"), False),
    (OWNER_OR_ADMIN, ADMIN_USER, get("users/alice"), True),
    (OWNER_OR_ADMIN, ORDER_SERVICE, get("users/me"), False),
    (roles(CUSTOMER, owner_field="name"), ALICE, get("users/bob"), True),
    (NESTED_OWNER, ALICE, update("users/alice"), True),
    (NESTED_OWNER, BOB, update("users/alice"), False),
    (NESTED_OWNER, ADMIN_USER, update("users/alice"), False),
    (NESTED_OWNER, ALICE, user_service_pb2.UpdateUserRequest(), False),
    (ONLY_ORDER, ORDER_SERVICE, get(""), True),
    (ONLY_ORDER, AUTH_SERVICE, get(""), False),
    (ONLY_ORDER, None, get(""), False),
    (ONLY_ORDER, ALICE, get(""), False),
    (ONLY_ORDER, ADMIN_USER, get(""), False),
    (services("auth"), ACCOUNT_WITH_SERVICE_ROLE, get(""), False),
    (Rule(), ADMIN_USER, get(""), False),
]


@pytest.mark.parametrize(("rule", "principal", "request_", "allowed"), ALLOWS)
def test_rule_allows(
    rule: Rule, principal: Principal | None, request_: Message, allowed: bool
) -> None:
    assert rule.allows(principal, request_) is allowed


@pytest.mark.parametrize(
    ("name", "user_id"),
    [
        ("users/42", "42"),
        ("users/42/orders/7", "42"),
        ("users/me", "me"),
        ("users/-", None),
        ("users/", None),
        ("users", None),
        ("", None),
        ("products/42", None),
        ("/users/42", None),
    ],
)
def test_owner_of_reads_the_user_id_of_a_resource_name(name: str, user_id: str | None) -> None:
    assert owner_of(name) == user_id


def test_principal_is_a_service_only_with_the_role_and_a_service_subject() -> None:
    assert (ORDER_SERVICE.is_service, ORDER_SERVICE.service_name) == (True, "order")
    assert (ACCOUNT_WITH_SERVICE_ROLE.is_service, ACCOUNT_WITH_SERVICE_ROLE.service_name) == (
        False,
        None,
    )
    assert not Principal("services/order", frozenset({CUSTOMER})).is_service
    assert ADMIN_USER.is_admin
    assert not ALICE.is_admin


USER_TABLE = {"GetUser": PUBLIC, "ListUsers": roles(ADMIN), "UpdateUser": owner("user.name")}


def test_access_rules_are_keyed_by_full_method_name() -> None:
    rules = AccessRules.for_services(
        [(USER_SERVICE, USER_TABLE), (USER_INTERNAL_SERVICE, {"CreateUser": services("auth")})]
    )
    assert rules.get("/shopmesh.user.v1.UserService/GetUser") == PUBLIC
    assert rules.get("/shopmesh.user.v1.UserInternalService/CreateUser") == services("auth")
    assert rules.get("/shopmesh.user.v1.UserService/DeleteUser") is None
    assert sorted(rules.rules) == sorted(full_method_names([USER_SERVICE, USER_INTERNAL_SERVICE]))


def test_access_rules_refuse_a_table_missing_a_method() -> None:
    table = {name: rule for name, rule in USER_TABLE.items() if name != "ListUsers"}
    with pytest.raises(ValueError, match=r"UserService: missing \['ListUsers'\], unknown \[\]"):
        AccessRules.for_services([(USER_SERVICE, table)])


def test_access_rules_refuse_a_table_naming_an_unknown_method() -> None:
    table = {**USER_TABLE, "DeleteUser": roles(ADMIN)}
    with pytest.raises(ValueError, match=r"missing \[\], unknown \['DeleteUser'\]"):
        AccessRules.for_services([(USER_SERVICE, table)])


def test_full_method_names_lists_every_rpc() -> None:
    assert full_method_names([USER_INTERNAL_SERVICE]) == [
        "/shopmesh.user.v1.UserInternalService/CreateUser"
    ]
    order_service = order_service_pb2.DESCRIPTOR.services_by_name["OrderService"]
    assert len(full_method_names([order_service])) == len(order_service.methods)


# ---------------------------------------------------------------- token verification


def verifier(keys: TestKeys) -> TokenVerifier:
    return TokenVerifier(keys, issuer=keys.issuer, audience=keys.audience)


async def test_verify_returns_the_principal_of_a_valid_token() -> None:
    keys = TestKeys()
    principal = await verifier(keys).verify(keys.token("alice", [CUSTOMER, ADMIN], jti="t-1"))
    assert principal == Principal("alice", frozenset({CUSTOMER, ADMIN}), token_id="t-1")


@pytest.mark.parametrize("roles_claim", ["admin", [1, 2], {"admin": True}])
async def test_verify_refuses_roles_that_are_not_a_list_of_strings(roles_claim: object) -> None:
    keys = TestKeys()
    now = int(time.time())
    claims = {
        "iss": keys.issuer, "aud": keys.audience, "sub": "alice", "roles": roles_claim,
        "iat": now, "nbf": now, "exp": now + 60,
    }  # fmt: skip
    token = jwt.encode(claims, keys.private_key, algorithm=ALGORITHM, headers={"kid": keys.kid})
    with pytest.raises(Unauthenticated, match="invalid token"):
        await verifier(keys).verify(token)


async def test_verify_refuses_a_token_without_a_key_id() -> None:
    keys = TestKeys()
    token = jwt.encode({"sub": "alice"}, keys.private_key, algorithm=ALGORITHM)
    with pytest.raises(Unauthenticated, match="no key id"):
        await verifier(keys).verify(token)


async def test_verify_reports_an_expired_token_with_its_own_reason() -> None:
    keys = TestKeys()
    with pytest.raises(Unauthenticated) as raised:
        await verifier(keys).verify(keys.token("alice", ttl=-120))
    assert raised.value.reason == "TOKEN_EXPIRED"


# ---------------------------------------------------------------- JWKS cache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeJwksEndpoint:
    """Serves `keys`' JWKS, counts fetches, and fails while `down`."""

    def __init__(self, *keys: TestKeys) -> None:
        self.keys = list(keys)
        self.fetches = 0
        self.down = False

    async def __call__(self) -> Mapping[str, Any]:
        self.fetches += 1
        if self.down:
            raise ConnectionError("auth service unavailable")
        return {"keys": [jwk for k in self.keys for jwk in k.jwks()["keys"]]}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def cache(endpoint: FakeJwksEndpoint, clock: FakeClock) -> JwksCache:
    return JwksCache(endpoint, ttl=300, min_refresh_interval=10, clock=clock)


async def test_jwks_cache_fetches_once_and_serves_from_memory(clock: FakeClock) -> None:
    keys = TestKeys()
    endpoint = FakeJwksEndpoint(keys)
    jwks = cache(endpoint, clock)
    first = await jwks.get_key(keys.kid)
    clock.now += 299
    assert await jwks.get_key(keys.kid) is first
    assert first is not None
    assert endpoint.fetches == 1


async def test_jwks_cache_refreshes_after_its_ttl(clock: FakeClock) -> None:
    keys = TestKeys()
    endpoint = FakeJwksEndpoint(keys)
    jwks = cache(endpoint, clock)
    await jwks.get_key(keys.kid)
    clock.now += 301
    await jwks.get_key(keys.kid)
    assert endpoint.fetches == 2


async def test_jwks_cache_picks_up_a_rotated_key(clock: FakeClock) -> None:
    old, new = TestKeys(), TestKeys()
    endpoint = FakeJwksEndpoint(old)
    jwks = cache(endpoint, clock)
    await jwks.get_key(old.kid)
    endpoint.keys.append(new)
    clock.now += 10
    assert await jwks.get_key(new.kid) is not None
    assert endpoint.fetches == 2


async def test_jwks_cache_refreshes_for_unknown_kids_at_most_once_per_interval(
    clock: FakeClock,
) -> None:
    keys = TestKeys()
    endpoint = FakeJwksEndpoint(keys)
    jwks = cache(endpoint, clock)
    await jwks.get_key(keys.kid)
    for _ in range(5):
        assert await jwks.get_key("garbage") is None
    clock.now += 9.9
    assert await jwks.get_key("more-garbage") is None
    assert endpoint.fetches == 1
    clock.now += 0.1
    assert await jwks.get_key("garbage") is None
    assert await jwks.get_key("garbage") is None
    assert endpoint.fetches == 2


async def test_jwks_cache_keeps_its_keys_when_a_refresh_fails(clock: FakeClock) -> None:
    keys = TestKeys()
    endpoint = FakeJwksEndpoint(keys)
    jwks = cache(endpoint, clock)
    await jwks.get_key(keys.kid)
    endpoint.down = True
    clock.now += 301
    assert await jwks.get_key(keys.kid) is not None
    clock.now += 10
    assert await jwks.get_key("unknown") is None
    assert await jwks.get_key(keys.kid) is not None


async def test_jwks_cache_does_not_hammer_a_failing_endpoint(clock: FakeClock) -> None:
    keys = TestKeys()
    endpoint = FakeJwksEndpoint(keys)
    jwks = cache(endpoint, clock)
    await jwks.get_key(keys.kid)
    endpoint.down = True
    clock.now += 301  # stale: one refresh attempt, which fails
    for _ in range(5):
        assert await jwks.get_key(keys.kid) is not None
        assert await jwks.get_key("unknown") is None
    assert endpoint.fetches == 2
    clock.now += 10
    await jwks.get_key(keys.kid)
    assert endpoint.fetches == 3
    endpoint.down = False
    clock.now += 10
    await jwks.get_key(keys.kid)
    clock.now += 10
    await jwks.get_key(keys.kid)
    assert endpoint.fetches == 4  # fresh again


async def test_jwks_cache_raises_unavailable_when_the_first_fetch_fails(
    clock: FakeClock,
) -> None:
    keys = TestKeys()
    endpoint = FakeJwksEndpoint(keys)
    endpoint.down = True
    jwks = cache(endpoint, clock)
    with pytest.raises(Unavailable, match="token keys are unavailable"):
        await jwks.get_key(keys.kid)
    with pytest.raises(Unavailable, match="token keys are unavailable"):
        await jwks.get_key(keys.kid)  # no keys yet: every call tries again
    endpoint.down = False
    assert await jwks.get_key(keys.kid) is not None


async def test_jwks_cache_fetches_once_for_concurrent_callers(clock: FakeClock) -> None:
    keys = TestKeys()
    release = asyncio.Event()

    class SlowEndpoint(FakeJwksEndpoint):
        async def __call__(self) -> Mapping[str, Any]:
            await release.wait()
            return await super().__call__()

    endpoint = SlowEndpoint(keys)
    jwks = cache(endpoint, clock)
    waiting = asyncio.gather(*(jwks.get_key(keys.kid) for _ in range(5)))
    await asyncio.sleep(0)
    release.set()
    found = await waiting
    assert all(key is not None for key in found)
    assert endpoint.fetches == 1


def test_parse_jwks_keeps_only_es256_signing_keys_with_a_kid() -> None:
    keys = TestKeys()
    [jwk] = keys.jwks()["keys"]
    jwks = {
        "keys": [
            jwk,
            {**jwk, "kid": ""},
            {**jwk, "kid": "rs", "alg": "RS256"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        ]
    }
    assert list(parse_jwks(jwks)) == [keys.kid]
