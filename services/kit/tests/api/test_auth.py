"""Per-method access rules, enforced end to end by the interceptor chain."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import grpc
import jwt
import pytest
from shopmesh.order.v1 import order_service_pb2
from shopmesh.product.v1 import product_service_pb2
from shopmesh.user.v1 import user_pb2, user_service_pb2
from shopmesh_kit.auth import ALGORITHM
from shopmesh_kit.testing.grpc import error_info
from shopmesh_kit.testing.tokens import TestKeys, bearer

from .harness import ERROR_DOMAIN, Shop

GET_PRODUCT = product_service_pb2.GetProductRequest(name="products/1")


def get_user(name: str) -> user_service_pb2.GetUserRequest:
    return user_service_pb2.GetUserRequest(name=name)


def create_user() -> user_service_pb2.CreateUserRequest:
    return user_service_pb2.CreateUserRequest(
        user_id="A", email="ada@example.com", user=user_pb2.User(display_name="Ada")
    )


def claims(keys: TestKeys, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": keys.issuer,
        "aud": keys.audience,
        "sub": "A",
        "roles": ["customer"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    values.update(overrides)
    return values


def tampered(keys: TestKeys) -> str:
    """A customer token whose payload was rewritten to claim the admin role."""
    header, payload, signature = keys.token("A").split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["roles"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def signed_by_another_key(keys: TestKeys) -> str:
    impostor = TestKeys()
    impostor.kid = keys.kid
    return impostor.token("A")


def without_subject(keys: TestKeys) -> str:
    data = claims(keys)
    del data["sub"]
    return jwt.encode(data, keys.private_key, algorithm=ALGORITHM, headers={"kid": keys.kid})


def unsigned(keys: TestKeys) -> str:
    return jwt.encode(claims(keys), "", algorithm="none", headers={"kid": keys.kid})


def signed_with_a_shared_secret(keys: TestKeys) -> str:
    secret = "a shared secret of at least thirty-two bytes"
    return jwt.encode(claims(keys), secret, algorithm="HS256", headers={"kid": keys.kid})


BAD_TOKENS: dict[str, Callable[[TestKeys], str]] = {
    "expired": lambda keys: keys.token("A", ttl=-120),
    "not yet valid": lambda keys: keys.token("A", nbf=int(time.time()) + 3600),
    "wrong audience": lambda keys: keys.token("A", aud="another-audience"),
    "wrong issuer": lambda keys: keys.token("A", iss="someone-else"),
    "tampered": tampered,
    "signed by another key": signed_by_another_key,
    "unknown key id": lambda keys: keys.token("A", headers={"kid": "unknown"}),
    "alg none": unsigned,
    "alg HS256": signed_with_a_shared_secret,
    "no subject": without_subject,
    "not a jwt": lambda keys: "not-a-jwt",
}


async def test_public_method_works_anonymously(shop: Shop) -> None:
    product = await shop.products.GetProduct(GET_PRODUCT)
    assert product.name == "products/1"
    assert shop.backend.calls[-1].caller is None


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_public_method_ignores_a_bad_token(
    shop: Shop, make_token: Callable[[TestKeys], str]
) -> None:
    await shop.products.GetProduct(GET_PRODUCT, metadata=bearer(make_token(shop.keys)))
    assert shop.backend.calls[-1].caller is None


async def test_public_method_sees_the_caller_of_a_valid_token(shop: Shop) -> None:
    await shop.products.GetProduct(GET_PRODUCT, metadata=shop.customer("A"))
    caller = shop.backend.calls[-1].caller
    assert caller is not None
    assert caller.subject == "A"


async def test_protected_method_without_token_is_unauthenticated(shop: Shop) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users.GetUser(get_user("users/A"))
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(raised.value).domain == ERROR_DOMAIN
    assert shop.backend.calls == []


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
async def test_protected_method_refuses_a_bad_token(
    shop: Shop, make_token: Callable[[TestKeys], str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users.GetUser(get_user("users/A"), metadata=bearer(make_token(shop.keys)))
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert shop.backend.calls == []


async def test_expired_token_is_refused_with_reason_token_expired(shop: Shop) -> None:
    expired = bearer(shop.keys.token("A", ttl=-120))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users.GetUser(get_user("users/A"), metadata=expired)
    assert error_info(raised.value).reason == "TOKEN_EXPIRED"


async def test_token_expired_within_the_leeway_is_still_accepted(shop: Shop) -> None:
    await shop.users.GetUser(get_user("users/A"), metadata=bearer(shop.keys.token("A", ttl=-5)))
    assert shop.backend.methods == ["GetUser"]


@pytest.mark.parametrize("header", ["Basic xyz", "Bearer", "Bearer    ", "token-without-scheme"])
async def test_malformed_authorization_header_is_unauthenticated(shop: Shop, header: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users.GetUser(get_user("users/A"), metadata=(("authorization", header),))
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert shop.backend.calls == []


async def test_customer_calling_an_admin_only_method_is_permission_denied(shop: Shop) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users.ListUsers(user_service_pb2.ListUsersRequest(), metadata=shop.customer("A"))
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(raised.value).reason == "PERMISSION_DENIED"
    assert shop.backend.calls == []


async def test_admin_may_call_an_admin_only_method(shop: Shop) -> None:
    await shop.users.ListUsers(user_service_pb2.ListUsersRequest(), metadata=shop.admin())
    assert shop.backend.methods == ["ListUsers"]


@pytest.mark.parametrize("name", ["users/A", "users/me"])
async def test_owner_may_read_their_own_profile(shop: Shop, name: str) -> None:
    user = await shop.users.GetUser(get_user(name), metadata=shop.customer("A"))
    assert user.name == name
    caller = shop.backend.calls[-1].caller
    assert caller is not None
    assert (caller.subject, caller.roles) == ("A", frozenset({"customer"}))


@pytest.mark.parametrize("name", ["users/B", "users/-", "users/", "users/AB", "products/A"])
async def test_customer_may_not_read_a_profile_they_do_not_own(shop: Shop, name: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users.GetUser(get_user(name), metadata=shop.customer("A"))
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert shop.backend.calls == []


async def test_admin_may_read_any_profile(shop: Shop) -> None:
    await shop.users.GetUser(get_user("users/B"), metadata=shop.admin())
    assert shop.backend.methods == ["GetUser"]


async def test_owner_rule_reads_a_nested_field(shop: Shop) -> None:
    mine = user_service_pb2.UpdateUserRequest(user=user_pb2.User(name="users/A"))
    theirs = user_service_pb2.UpdateUserRequest(user=user_pb2.User(name="users/B"))
    await shop.users.UpdateUser(mine, metadata=shop.customer("A"))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users.UpdateUser(theirs, metadata=shop.customer("A"))
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert shop.backend.methods == ["UpdateUser"]


async def test_owner_of_a_user_owns_their_sub_resources(shop: Shop) -> None:
    mine = order_service_pb2.GetOrderRequest(name="users/A/orders/7")
    theirs = order_service_pb2.GetOrderRequest(name="users/B/orders/7")
    await shop.orders.GetOrder(mine, metadata=shop.customer("A"))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.orders.GetOrder(theirs, metadata=shop.customer("A"))
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert shop.backend.methods == ["GetOrder"]


async def test_internal_method_accepts_a_token_of_an_allowed_service(shop: Shop) -> None:
    user = await shop.users_internal.CreateUser(create_user(), metadata=shop.service("auth"))
    assert user.name == "users/A"
    caller = shop.backend.calls[-1].caller
    assert caller is not None
    assert (caller.subject, caller.service_name) == ("services/auth", "auth")


async def test_internal_method_refuses_a_token_of_another_service(shop: Shop) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users_internal.CreateUser(create_user(), metadata=shop.service("order"))
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert shop.backend.calls == []


ACCOUNT_TOKENS: dict[str, Callable[[TestKeys], str]] = {
    "customer": lambda keys: keys.token("A"),
    "admin": lambda keys: keys.token("admin-1", ["admin"]),
    "service role on an account subject": lambda keys: keys.token("auth", ["service"]),
}


@pytest.mark.parametrize("make_token", ACCOUNT_TOKENS.values(), ids=ACCOUNT_TOKENS.keys())
async def test_internal_method_refuses_account_tokens(
    shop: Shop, make_token: Callable[[TestKeys], str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users_internal.CreateUser(create_user(), metadata=bearer(make_token(shop.keys)))
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert shop.backend.calls == []


async def test_internal_method_without_token_is_unauthenticated(shop: Shop) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users_internal.CreateUser(create_user())
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_service_token_does_not_pass_account_rules(shop: Shop) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.users.GetUser(get_user("users/me"), metadata=shop.service("auth"))
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_caller_of_one_rpc_is_not_seen_by_the_next(shop: Shop) -> None:
    await shop.products.GetProduct(GET_PRODUCT, metadata=shop.customer("A"))
    await shop.products.GetProduct(GET_PRODUCT)
    assert [c.caller.subject if c.caller else None for c in shop.backend.calls] == ["A", None]
