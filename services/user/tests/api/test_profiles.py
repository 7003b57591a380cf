from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.type import postal_address_pb2
from shopmesh.user.v1 import user_pb2, user_service_pb2
from shopmesh_kit.testing.grpc import error_info, field_violations

from ..conftest import UserHarness, address


async def refused(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


# ---------------------------------------------------------------- CreateUser


async def test_create_user_returns_the_profile(users: UserHarness) -> None:
    created = await users.create(
        "ada", email=" Ada@Example.COM ", display_name=" Ada ", addresses=[address()]
    )
    assert created.name == "users/ada"
    assert created.email == "ada@example.com"
    assert created.display_name == "Ada"
    assert list(created.shipping_addresses) == [address()]
    assert created.etag == 'W/"1"'
    assert created.create_time == created.update_time
    assert await users.get("users/ada") == created


async def test_create_user_retry_returns_the_existing_profile_unchanged(
    users: UserHarness,
) -> None:
    first = await users.create("ada", display_name="Ada")
    retry = await users.create("ada", email="other@example.com", display_name="Someone Else")
    assert retry == first


async def test_concurrent_creates_of_one_id_make_one_profile(users: UserHarness) -> None:
    results = await asyncio.gather(
        *(users.create("ada", display_name=f"Ada {i}") for i in range(10))
    )
    assert all(r == results[0] for r in results)
    assert [u.name for u in (await users.list()).users] == ["users/ada"]


BAD_CREATES: list[tuple[str, str, str, list[Any], set[str]]] = [
    ("me", "a@example.com", "Ada", [], {"user_id"}),
    ("a/b", "a@example.com", "Ada", [], {"user_id"}),
    ("x" * 37, "a@example.com", "Ada", [], {"user_id"}),
    ("ada", "not-an-email", "Ada", [], {"email"}),
    ("ada", "a@example.com", " ", [], {"user.display_name"}),
    ("ada", "a@example.com", "x" * 101, [], {"user.display_name"}),
    (
        "ada",
        "a@example.com",
        "Ada",
        [address(), address(region_code="")],
        {"user.shipping_addresses[1].region_code"},
    ),
    ("me", "nope", "\t", [], {"user_id", "email", "user.display_name"}),
    ("", "", "", [], {"user_id", "email", "user.display_name"}),  # required fields
]


async def test_create_user_rejects_bad_input_listing_fields_and_stores_nothing(
    users: UserHarness,
) -> None:
    for user_id, email, display_name, addresses, fields in BAD_CREATES:
        request = user_service_pb2.CreateUserRequest(
            user_id=user_id,
            email=email,
            user=user_pb2.User(display_name=display_name, shipping_addresses=addresses),
        )
        error = await refused(users.internal.CreateUser(request, metadata=users.service()))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert set(field_violations(error)) == fields, (user_id, email, display_name)
    assert len((await users.list()).users) == 0


# ---------------------------------------------------------------- GetUser


async def test_get_user_by_id_and_as_me(users: UserHarness) -> None:
    created = await users.create("ada")
    assert await users.get("users/ada", metadata=users.customer("ada")) == created
    assert await users.get("users/me", metadata=users.customer("ada")) == created


async def test_get_missing_user_is_not_found(users: UserHarness) -> None:
    for name, metadata in (("users/nobody", users.admin()), ("users/me", users.customer("new"))):
        error = await refused(users.get(name, metadata=metadata))
        assert error.code() == grpc.StatusCode.NOT_FOUND
        assert error_info(error).reason == "USER_NOT_FOUND"
        assert error_info(error).domain == "user.shopmesh.dev"


async def test_get_user_rejects_malformed_names(users: UserHarness) -> None:
    for name in ["", "users/", "users/-", "users/a/b", "accounts/ada", "ada"]:
        error = await refused(users.get(name))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert set(field_violations(error)) == {"name"}, name


# ---------------------------------------------------------------- UpdateUser


async def test_update_with_a_mask_changes_only_the_masked_fields(users: UserHarness) -> None:
    created = await users.create("ada", addresses=[address()])
    users.clock.frozen = datetime.now(UTC) + timedelta(hours=1)
    updated = await users.update(
        user_pb2.User(name="users/ada", display_name=" Ada Lovelace ", email="x@example.com"),
        ["display_name"],
    )
    assert updated.display_name == "Ada Lovelace"
    assert list(updated.shipping_addresses) == [address()]
    assert updated.email == "ada@example.com"
    assert updated.etag == 'W/"2"'
    assert updated.create_time == created.create_time
    assert updated.update_time.ToDatetime(tzinfo=UTC) == users.clock.frozen
    assert await users.get() == updated


async def test_update_with_an_empty_mask_changes_the_fields_that_are_set(
    users: UserHarness,
) -> None:
    await users.create("ada", addresses=[address()])
    renamed = await users.update(user_pb2.User(name="users/ada", display_name="Countess"))
    assert renamed.display_name == "Countess"
    assert list(renamed.shipping_addresses) == [address()]  # unset, so kept
    moved = await users.update(
        user_pb2.User(name="users/ada", shipping_addresses=[address(locality="Bern")])
    )
    assert moved.display_name == "Countess"
    assert [a.locality for a in moved.shipping_addresses] == ["Bern"]
    unchanged = await users.update(user_pb2.User(name="users/ada"))
    assert unchanged == moved


async def test_masked_empty_addresses_clear_them(users: UserHarness) -> None:
    await users.create("ada", addresses=[address(), address(locality="Bern")])
    updated = await users.update(user_pb2.User(name="users/ada"), ["shipping_addresses"])
    assert list(updated.shipping_addresses) == []
    assert updated.display_name == "Ada"


async def test_wildcard_mask_replaces_every_updatable_field(users: UserHarness) -> None:
    await users.create("ada", addresses=[address()])
    error = await refused(users.update(user_pb2.User(name="users/ada"), ["*"]))
    assert set(field_violations(error)) == {"user.display_name"}
    updated = await users.update(user_pb2.User(name="users/ada", display_name="Ada L."), ["*"])
    assert (updated.display_name, list(updated.shipping_addresses)) == ("Ada L.", [])


async def test_update_refuses_unknown_or_output_only_mask_paths(users: UserHarness) -> None:
    created = await users.create("ada")
    user = user_pb2.User(name="users/ada", display_name="Eve", email="e@x.y")
    for paths in (["email"], ["name"], ["etag"], ["create_time"], ["display_name", "nickname"]):
        error = await refused(users.update(user, paths))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert set(field_violations(error)) == {"update_mask"}, paths
    assert await users.get() == created


async def test_update_keeps_every_address_field(users: UserHarness) -> None:
    await users.create("ada")
    full = postal_address_pb2.PostalAddress(
        revision=0,
        region_code="GB",
        language_code="en-GB",
        postal_code="SW1A 1AA",
        sorting_code="X1",
        administrative_area="Greater London",
        locality="London",
        sublocality="Westminster",
        address_lines=["Buckingham Palace", "The Mall"],
        recipients=["Ada Lovelace", "Charles Babbage"],
        organization="Analytical Engines Ltd",
    )
    updated = await users.update(
        user_pb2.User(name="users/ada", shipping_addresses=[full, address()])
    )
    assert list(updated.shipping_addresses) == [full, address()]
    assert list((await users.get()).shipping_addresses) == [full, address()]


async def test_update_of_a_missing_user_is_not_found(users: UserHarness) -> None:
    error = await refused(users.update(user_pb2.User(name="users/nobody", display_name="X")))
    assert error.code() == grpc.StatusCode.NOT_FOUND


BAD_UPDATES: list[tuple[Any, list[str], set[str]]] = [
    (user_pb2.User(display_name=""), ["display_name"], {"user.display_name"}),
    (user_pb2.User(display_name="x" * 101), [], {"user.display_name"}),
    (user_pb2.User(display_name="Ada\nLovelace"), [], {"user.display_name"}),
    (
        user_pb2.User(shipping_addresses=[address()] * 11),
        [],
        {"user.shipping_addresses"},
    ),
    (
        user_pb2.User(
            shipping_addresses=[
                address(),
                address(region_code="ch", address_lines=[" "], locality="", postal_code=""),
            ]
        ),
        [],
        {
            "user.shipping_addresses[1].region_code",
            "user.shipping_addresses[1].address_lines",
            "user.shipping_addresses[1]",
        },
    ),
    (
        user_pb2.User(
            display_name="",
            shipping_addresses=[address(address_lines=["ok", "x" * 201])],
        ),
        ["*"],
        {"user.display_name", "user.shipping_addresses[0].address_lines[1]"},
    ),
    (user_pb2.User(display_name="Eve"), ["display_name", "email"], {"update_mask"}),
]


async def test_invalid_update_lists_field_paths_and_changes_nothing(users: UserHarness) -> None:
    created = await users.create("ada", addresses=[address()])
    for user, paths, fields in BAD_UPDATES:
        user.name = "users/ada"
        error = await refused(users.update(user, paths))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert set(field_violations(error)) == fields, (user, paths)
    assert await users.get() == created


async def test_update_rejects_malformed_names(users: UserHarness) -> None:
    for name in ["", "users/-", "users/a/b", "ada"]:
        error = await refused(users.update(user_pb2.User(name=name, display_name="X")))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert set(field_violations(error)) == {"user.name"}, name


# ---------------------------------------------------------------- etags


async def test_update_with_the_current_etag_succeeds_and_returns_a_new_one(
    users: UserHarness,
) -> None:
    created = await users.create("ada")
    updated = await users.update(
        user_pb2.User(name="users/ada", display_name="Ada L.", etag=created.etag)
    )
    assert updated.etag != created.etag
    assert (await users.get()).etag == updated.etag


async def test_update_with_a_stale_or_foreign_etag_is_aborted_and_changes_nothing(
    users: UserHarness,
) -> None:
    created = await users.create("ada")
    for etag in ('W/"0"', 'W/"2"', "garbage", '"1"'):
        error = await refused(
            users.update(user_pb2.User(name="users/ada", display_name="Eve", etag=etag))
        )
        assert error.code() == grpc.StatusCode.ABORTED
        assert error_info(error).reason == "ETAG_MISMATCH", etag
    assert await users.get() == created


async def test_an_etag_read_before_another_update_is_stale(users: UserHarness) -> None:
    read = await users.create("ada")
    await users.update(user_pb2.User(name="users/ada", display_name="Someone"))
    error = await refused(
        users.update(user_pb2.User(name="users/ada", display_name="Ada", etag=read.etag))
    )
    assert error.code() == grpc.StatusCode.ABORTED
    assert (await users.get()).display_name == "Someone"


async def test_concurrent_updates_with_one_etag_let_exactly_one_win(users: UserHarness) -> None:
    created = await users.create("ada")
    results = await asyncio.gather(
        *(
            users.update(
                user_pb2.User(name="users/ada", display_name=f"Writer {i}", etag=created.etag)
            )
            for i in range(5)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1
    assert len(losers) == 4
    assert {error_info(e).reason for e in losers} == {"ETAG_MISMATCH"}
    assert await users.get() == winners[0]
    assert winners[0].etag == 'W/"2"'


async def test_concurrent_updates_without_etag_all_apply_and_lose_nothing(
    users: UserHarness,
) -> None:
    await users.create("ada")
    home = [address()]
    await asyncio.gather(
        *(users.update(user_pb2.User(name="users/ada", display_name="Ada L.")) for _ in range(4)),
        *(users.update(user_pb2.User(name="users/ada", shipping_addresses=home)) for _ in range(4)),
    )
    final = await users.get()
    assert final.display_name == "Ada L."
    assert list(final.shipping_addresses) == home
    assert final.etag == 'W/"9"'


async def test_errors_carry_no_internals(users: UserHarness) -> None:
    await users.create("ada")
    error = await refused(
        users.update(user_pb2.User(name="users/ada", display_name="Eve", etag="stale"))
    )
    details = error.details() or ""
    for leak in ("SELECT", "UPDATE", "Traceback", "sqlalchemy", "psycopg", "sqlite"):
        assert leak not in details
