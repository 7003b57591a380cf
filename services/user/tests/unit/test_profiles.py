from datetime import UTC, datetime

import pytest
from shopmesh_kit.errors import InvalidArgument
from shopmesh_user.domain.profiles import (
    Address,
    Profile,
    User,
    address_violations,
    etag_of,
    fields_to_update,
    normalize_profile,
    profile_violations,
    user_id_of,
    validate_new_user,
    validate_profile,
)

HOME = Address(region_code="CH", address_lines=("Bahnhofstrasse 1",), locality="Zürich")
BOTH = ("display_name", "shipping_addresses")


@pytest.mark.parametrize(
    ("name", "user_id"),
    [
        ("users/ada", "ada"),
        ("users/me", "me"),
        ("users/0f8e-A_b", "0f8e-A_b"),
        ("users/" + "a" * 36, "a" * 36),
    ],
)
def test_user_names_give_their_id(name: str, user_id: str) -> None:
    assert user_id_of(name, "name") == user_id


@pytest.mark.parametrize(
    "name",
    ["", "users", "users/", "users/-", "users/a/b", "users/" + "a" * 37, "accounts/a", "users/-a"],
)
def test_malformed_names_are_invalid_on_the_given_field(name: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        user_id_of(name, "user.name")
    assert caught.value.violations[0][0] == "user.name"


@pytest.mark.parametrize("display_name", ["A", "x" * 100, "Ada Lovelace", "Zoë 李", "🙂"])
def test_valid_display_names(display_name: str) -> None:
    assert profile_violations(Profile(display_name), BOTH) == []


@pytest.mark.parametrize("display_name", ["", "x" * 101, "Ada\nLovelace", "tab\there", "\x00"])
def test_invalid_display_names(display_name: str) -> None:
    assert [f for f, _ in profile_violations(Profile(display_name), BOTH)] == ["display_name"]


def test_display_name_is_trimmed_before_it_is_checked() -> None:
    assert normalize_profile(Profile("  Ada  ", (HOME,))) == Profile("Ada", (HOME,))
    assert profile_violations(normalize_profile(Profile("   ")), BOTH) != []


def test_only_changed_fields_are_checked() -> None:
    bad = Profile("", (Address(),))
    assert [f for f, _ in profile_violations(bad, ["display_name"])] == ["display_name"]
    assert profile_violations(bad, []) == []


def test_at_most_ten_addresses() -> None:
    assert profile_violations(Profile("Ada", (HOME,) * 10), BOTH) == []
    assert [f for f, _ in profile_violations(Profile("Ada", (HOME,) * 11), BOTH)] == [
        "shipping_addresses"
    ]


@pytest.mark.parametrize(
    "address",
    [
        HOME,
        Address(region_code="US", address_lines=("1 Main St",), postal_code="10001"),
        Address(region_code="GB", address_lines=("", "10 Downing St"), locality="London"),
    ],
)
def test_valid_addresses(address: Address) -> None:
    assert address_violations(address, "a") == []


@pytest.mark.parametrize(
    ("address", "fields"),
    [
        (Address(), {"a.region_code", "a.address_lines", "a"}),
        (Address(region_code="ch", address_lines=("x",), locality="y"), {"a.region_code"}),
        (Address(region_code="CHE", address_lines=("x",), locality="y"), {"a.region_code"}),
        (Address(region_code="CH", address_lines=(" ",), locality="y"), {"a.address_lines"}),
        (Address(region_code="CH", address_lines=("x",), locality=" "), {"a"}),
        (Address(region_code="CH", address_lines=("x",) * 6, locality="y"), {"a.address_lines"}),
        (
            Address(region_code="CH", address_lines=("x", "y" * 201), locality="z" * 201),
            {"a.address_lines[1]", "a.locality"},
        ),
        (
            Address(region_code="CH", address_lines=("x",), locality="y", recipients=("r",) * 6),
            {"a.recipients"},
        ),
    ],
)
def test_invalid_addresses_name_their_fields(address: Address, fields: set[str]) -> None:
    assert {f for f, _ in address_violations(address, "a")} == fields


def test_violations_carry_the_request_prefix_and_address_index() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_profile(Profile("Ada", (HOME, Address(region_code="CH"))), BOTH, prefix="user.")
    assert {f for f, _ in caught.value.violations} == {
        "user.shipping_addresses[1].address_lines",
        "user.shipping_addresses[1]",
    }


def test_a_new_user_is_checked_whole() -> None:
    validate_new_user("ada", "ada@example.com", Profile("Ada"), prefix="user.")
    with pytest.raises(InvalidArgument) as caught:
        validate_new_user("me", "ada", Profile(""), prefix="user.")
    assert {f for f, _ in caught.value.violations} == {"user_id", "email", "user.display_name"}


@pytest.mark.parametrize(
    ("paths", "profile", "expected"),
    [
        ([], Profile("Ada"), ("display_name",)),
        ([], Profile("", (HOME,)), ("shipping_addresses",)),
        ([], Profile("Ada", (HOME,)), BOTH),
        ([], Profile(), ()),
        (["shipping_addresses"], Profile("Ada"), ("shipping_addresses",)),
        (["display_name", "display_name"], Profile(), ("display_name",)),
        (["*"], Profile(), BOTH),
    ],
)
def test_fields_to_update_follow_aip_134(
    paths: list[str], profile: Profile, expected: tuple[str, ...]
) -> None:
    assert fields_to_update(paths, profile) == expected


@pytest.mark.parametrize(
    "paths", [["email"], ["display_name", "etag"], ["user.display_name"], [""]]
)
def test_unknown_mask_paths_are_invalid_on_update_mask(paths: list[str]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        fields_to_update(paths, Profile("Ada"))
    assert {f for f, _ in caught.value.violations} == {"update_mask"}


def test_etag_changes_with_the_revision() -> None:
    now = datetime.now(UTC)
    user = User("ada", "a@b.c", Profile("Ada"), now, now, revision=3)
    assert user.etag == etag_of(3) == 'W/"3"'
    assert user.name == "users/ada"
    assert etag_of(4) != user.etag
