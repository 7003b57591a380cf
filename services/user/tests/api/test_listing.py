from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from shopmesh_kit.pagination import encode_page_token, request_fingerprint
from shopmesh_kit.testing.grpc import field_violations

from ..conftest import UserHarness


async def _all_pages(users: UserHarness, page_size: int, filter: str = "") -> list[list[str]]:
    pages: list[list[str]] = []
    token = ""
    while True:
        page = await users.list(page_size=page_size, page_token=token, filter=filter)
        pages.append([u.name for u in page.users])
        token = page.next_page_token
        if not token:
            return pages
        assert len(pages) < 20, "pagination does not end"


async def _refused(users: UserHarness, **request: Any) -> dict[str, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await users.list(**request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return field_violations(caught.value)


@pytest.mark.parametrize("same_create_time", [False, True], ids=["ticking", "frozen-clock"])
async def test_pages_visit_every_profile_once_in_creation_order(
    users: UserHarness, same_create_time: bool
) -> None:
    if same_create_time:  # ties on create_time are broken by id
        users.clock.frozen = datetime(2026, 1, 1, tzinfo=UTC)
    ids = ["g", "c", "a", "f", "b", "e", "d"]
    for user_id in ids:
        await users.create(user_id)
    pages = await _all_pages(users, page_size=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    seen = [name for page in pages for name in page]
    expected = sorted(ids) if same_create_time else ids
    assert seen == [f"users/{i}" for i in expected]


async def test_a_full_last_page_still_ends_with_an_empty_token(users: UserHarness) -> None:
    for user_id in "abcdef":
        await users.create(user_id)
    pages = await _all_pages(users, page_size=3)
    assert [len(p) for p in pages] == [3, 3]


async def test_listing_an_empty_directory(users: UserHarness) -> None:
    page = await users.list()
    assert (list(page.users), page.next_page_token) == ([], "")


async def test_page_size_zero_means_fifty_and_large_sizes_are_capped(users: UserHarness) -> None:
    for i in range(51):
        await users.create(f"u{i:02}")
    first = await users.list(page_size=0)
    assert len(first.users) == 50
    assert first.next_page_token
    assert len((await users.list(page_size=5000)).users) == 51


async def test_negative_page_size_is_invalid(users: UserHarness) -> None:
    assert set(await _refused(users, page_size=-1)) == {"page_size"}


async def test_filter_by_email_is_exact_and_case_insensitive(users: UserHarness) -> None:
    await users.create("ada", email="ada@example.com")
    await users.create("adam", email="ada@example.com.au")
    page = await users.list(filter='email = "ADA@example.com"')
    assert [u.name for u in page.users] == ["users/ada"]
    assert list((await users.list(filter='email="nobody@example.com"')).users) == []


async def test_bare_text_matches_display_name_or_email_case_insensitively(
    users: UserHarness,
) -> None:
    await users.create("ada", email="countess@example.com", display_name="Ada Lovelace")
    await users.create("grace", email="grace@navy.mil", display_name="Grace Hopper")
    await users.create("alan", email="alan@ada-fans.org", display_name="Alan")
    names = [u.name for u in (await users.list(filter='"ADA"')).users]
    assert names == ["users/ada", "users/alan"]
    assert [u.name for u in (await users.list(filter=' "hopper" ')).users] == ["users/grace"]


async def test_text_search_treats_like_wildcards_literally(users: UserHarness) -> None:
    await users.create("ada", display_name="100% Ada")
    await users.create("bob", display_name="Bob_B")
    await users.create("cy", display_name="Cy")
    assert [u.name for u in (await users.list(filter='"%"')).users] == ["users/ada"]
    assert [u.name for u in (await users.list(filter='"_"')).users] == ["users/bob"]


async def test_pages_of_a_filtered_listing(users: UserHarness) -> None:
    for i in range(5):
        await users.create(f"fan{i}", display_name=f"Ada fan {i}")
        await users.create(f"other{i}", display_name=f"Other {i}")
    pages = await _all_pages(users, page_size=2, filter='"ada"')
    assert [n for p in pages for n in p] == [f"users/fan{i}" for i in range(5)]


async def test_a_page_token_is_bound_to_its_filter(users: UserHarness) -> None:
    for user_id in "abcd":
        await users.create(user_id)
    token = (await users.list(page_size=2)).next_page_token
    violations = await _refused(users, page_size=2, page_token=token, filter='"a"')
    assert set(violations) == {"page_token"}


async def test_malformed_or_forged_page_tokens_are_invalid(users: UserHarness) -> None:
    fingerprint = request_fingerprint("")
    forged = [
        encode_page_token(cursor, fingerprint=fingerprint)
        for cursor in (
            {},
            {"t": "yesterday", "id": "a"},
            {"t": "2026-01-01T00:00:00", "id": "a"},  # no time zone
            {"t": 1, "id": 2},
            {"t": "2026-01-01T00:00:00+00:00", "id": 2},
        )
    ]
    garbage = ["garbage!", base64.urlsafe_b64encode(b'{"v":1,"f":"x","c":{}}').decode()]
    for token in [*garbage, *forged]:
        assert set(await _refused(users, page_token=token)) == {"page_token"}, token


UNSUPPORTED_FILTERS = [
    "ada",
    "email = ada@example.com",
    'display_name = "Ada"',
    'email = "a" AND "b"',
    'email != "a@b.c"',
    '""',
    '"unterminated',
    'email = "a@b.c" "extra"',
    json.dumps("x" * 255),
]


async def test_unsupported_filters_are_invalid(users: UserHarness) -> None:
    for filter in UNSUPPORTED_FILTERS:
        assert set(await _refused(users, filter=filter)) == {"filter"}, filter
