"""Who may call what: every method against anonymous callers, customers,
admins and services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from shopmesh.user.v1 import user_pb2
from shopmesh_kit.testing.tokens import TestKeys, bearer

from ..conftest import ANONYMOUS, Metadata, UserHarness

Call = Callable[[UserHarness, Metadata], Awaitable[Any]]

CALLS: dict[str, Call] = {
    "GetUser": lambda users, md: users.get("users/ada", metadata=md),
    "ListUsers": lambda users, md: users.list(metadata=md),
    "UpdateUser": lambda users, md: users.update(
        user_pb2.User(name="users/ada", display_name="Mallory"), metadata=md
    ),
    "CreateUser": lambda users, md: users.create("eve", metadata=md),
}


async def code_of(call: Awaitable[Any]) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.fixture
async def ada(users: UserHarness) -> Any:
    return await users.create("ada")


async def test_anonymous_callers_are_unauthenticated(users: UserHarness, ada: Any) -> None:
    for method, call in CALLS.items():
        assert await code_of(call(users, ANONYMOUS)) == grpc.StatusCode.UNAUTHENTICATED, method


async def test_bad_tokens_are_unauthenticated(users: UserHarness, ada: Any) -> None:
    forged = TestKeys().token("ada", ["admin"])  # signed by a key the server does not trust
    expired = users.keys.token("root", ["admin"], ttl=-120)
    basic = (("authorization", "Basic abc"),)
    for metadata in (bearer(forged), bearer(expired), bearer("garbage"), basic):
        for method, call in CALLS.items():
            code = await code_of(call(users, metadata))
            assert code == grpc.StatusCode.UNAUTHENTICATED, (method, metadata)


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [
        ("ada", {"GetUser", "UpdateUser"}),
        ("bob", set()),
        ("admin", {"GetUser", "UpdateUser", "ListUsers"}),
        ("service:auth", {"CreateUser"}),
        ("service:order", set()),
    ],
)
async def test_each_caller_reaches_exactly_its_methods(
    users: UserHarness, ada: Any, caller: str, allowed: set[str]
) -> None:
    if caller == "admin":
        metadata = users.admin()
    elif caller.startswith("service:"):
        metadata = users.service(caller.removeprefix("service:"))
    else:
        metadata = users.customer(caller)
    for method, call in CALLS.items():
        expected = grpc.StatusCode.OK if method in allowed else grpc.StatusCode.PERMISSION_DENIED
        assert await code_of(call(users, metadata)) == expected, method


async def test_a_customer_cannot_read_or_change_another_profile(
    users: UserHarness, ada: Any
) -> None:
    await users.create("bob")
    bob = users.customer("bob")
    assert await code_of(users.get("users/ada", metadata=bob)) == grpc.StatusCode.PERMISSION_DENIED
    update = users.update(
        user_pb2.User(name="users/ada", display_name="Bob was here"), metadata=bob
    )
    assert await code_of(update) == grpc.StatusCode.PERMISSION_DENIED
    assert await users.get("users/ada") == ada


async def test_a_customer_reads_and_changes_their_profile_as_me(
    users: UserHarness, ada: Any
) -> None:
    me = users.customer("ada")
    updated = await users.update(
        user_pb2.User(name="users/me", display_name="Ada L.", etag=ada.etag), metadata=me
    )
    assert updated.name == "users/ada"
    assert await users.get("users/me", metadata=me) == updated


async def test_an_admin_reads_and_changes_any_profile(users: UserHarness, ada: Any) -> None:
    admin = users.admin()
    assert await users.get("users/ada", metadata=admin) == ada
    updated = await users.update(
        user_pb2.User(name="users/ada", display_name="Renamed"), metadata=admin
    )
    assert updated.display_name == "Renamed"


async def test_a_customer_with_an_admin_looking_subject_is_not_an_admin(
    users: UserHarness, ada: Any
) -> None:
    impostor = bearer(users.keys.token("root", ["customer"]))
    assert await code_of(users.list(metadata=impostor)) == grpc.StatusCode.PERMISSION_DENIED


async def test_a_service_subject_without_the_service_role_is_refused(
    users: UserHarness,
) -> None:
    pretender = bearer(users.keys.token("services/auth", ["customer"]))
    assert await code_of(users.create("eve", metadata=pretender)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
