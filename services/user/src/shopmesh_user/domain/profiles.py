"""Profile rules: resource names, display names, shipping addresses, the
update mask and etags. Violations name fields relative to the profile
(`shipping_addresses[0].region_code`); callers add the request's prefix."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from shopmesh_kit.errors import InvalidArgument

ME = "me"
DISPLAY_NAME = "display_name"
SHIPPING_ADDRESSES = "shipping_addresses"
UPDATABLE = (DISPLAY_NAME, SHIPPING_ADDRESSES)
ALL_FIELDS = "*"

DISPLAY_NAME_MAX = 100
ADDRESSES_MAX = 10
ADDRESS_LINES_MAX = 5
ADDRESS_TEXT_MAX = 200
EMAIL_MAX = 254
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,35}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_REGION_CODE = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class Address:
    """A postal address; the fields of `google.type.PostalAddress`."""

    revision: int = 0
    region_code: str = ""
    language_code: str = ""
    postal_code: str = ""
    sorting_code: str = ""
    administrative_area: str = ""
    locality: str = ""
    sublocality: str = ""
    address_lines: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    organization: str = ""


def make_address(values: Mapping[str, Any]) -> Address:
    """An Address from field values (sequences become tuples)."""
    converted: dict[str, Any] = {
        k: v if isinstance(v, str | int) else tuple(v) for k, v in values.items()
    }
    return Address(**converted)


@dataclass(frozen=True)
class Profile:
    """The part of a user that its owner edits."""

    display_name: str = ""
    shipping_addresses: tuple[Address, ...] = ()


@dataclass(frozen=True)
class User:
    id: str
    email: str
    profile: Profile
    create_time: datetime
    update_time: datetime
    revision: int

    @property
    def name(self) -> str:
        return user_name(self.id)

    @property
    def etag(self) -> str:
        return etag_of(self.revision)


def user_name(user_id: str) -> str:
    return f"users/{user_id}"


def etag_of(revision: int) -> str:
    """A weak etag: equal etags mean an unchanged profile."""
    return f'W/"{revision}"'


def normalize_email(email: str) -> str:
    return email.strip().lower()


def is_user_id(value: str) -> bool:
    return value != ME and _USER_ID.fullmatch(value) is not None


def user_id_of(name: str, field: str) -> str:
    """The `{user}` of `users/{user}`, which may be `me`."""
    collection, _, user_id = name.partition("/")
    if collection != "users" or not (user_id == ME or is_user_id(user_id)):
        raise InvalidArgument.field(field, "must be users/{user} or users/me")
    return user_id


def validate_new_user(user_id: str, email: str, profile: Profile, *, prefix: str) -> None:
    """A profile being created: its id, email and every profile field."""
    violations = []
    if not is_user_id(user_id):
        violations.append(("user_id", "must be 1 to 36 letters, digits, '-' or '_', not 'me'"))
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        violations.append(("email", "must be an email address"))
    violations += [(prefix + f, d) for f, d in profile_violations(profile, UPDATABLE)]
    if violations:
        raise InvalidArgument("invalid user", violations=violations)


def validate_profile(profile: Profile, changed: Sequence[str], *, prefix: str) -> None:
    violations = profile_violations(profile, changed)
    if violations:
        raise InvalidArgument("invalid user", violations=[(prefix + f, d) for f, d in violations])


def normalize_profile(profile: Profile) -> Profile:
    return Profile(profile.display_name.strip(), profile.shipping_addresses)


def profile_violations(profile: Profile, changed: Sequence[str]) -> list[tuple[str, str]]:
    """Violations of the `changed` fields of a (normalized) profile."""
    violations = []
    name = profile.display_name
    if DISPLAY_NAME in changed and not (1 <= len(name) <= DISPLAY_NAME_MAX and name.isprintable()):
        violations.append((DISPLAY_NAME, f"must be 1 to {DISPLAY_NAME_MAX} printable characters"))
    if SHIPPING_ADDRESSES in changed:
        addresses = profile.shipping_addresses
        if len(addresses) > ADDRESSES_MAX:
            violations.append((SHIPPING_ADDRESSES, f"must be at most {ADDRESSES_MAX} addresses"))
        for i, address in enumerate(addresses):
            violations += address_violations(address, f"{SHIPPING_ADDRESSES}[{i}]")
    return violations


def address_violations(address: Address, path: str) -> list[tuple[str, str]]:
    violations = []
    if not _REGION_CODE.fullmatch(address.region_code):
        violations.append(
            (f"{path}.region_code", 'must be a two-letter CLDR region code such as "CH"')
        )
    if not any(line.strip() for line in address.address_lines):
        violations.append((f"{path}.address_lines", "must have at least one line"))
    for field in ("address_lines", "recipients"):
        if len(getattr(address, field)) > ADDRESS_LINES_MAX:
            violations.append((f"{path}.{field}", f"must be at most {ADDRESS_LINES_MAX} lines"))
    if not (address.locality.strip() or address.postal_code.strip()):
        violations.append((path, "must have a locality or a postal_code"))
    violations += [
        (f"{path}.{field}", f"must be at most {ADDRESS_TEXT_MAX} characters")
        for field, text in _texts(address)
        if len(text) > ADDRESS_TEXT_MAX
    ]
    return violations


def _texts(address: Address) -> Iterator[tuple[str, str]]:
    """Every text of an address with its field path, like `address_lines[1]`."""
    for f in fields(Address):
        value = getattr(address, f.name)
        if isinstance(value, str):
            yield f.name, value
        elif isinstance(value, tuple):
            yield from ((f"{f.name}[{i}]", item) for i, item in enumerate(value))


def fields_to_update(paths: Sequence[str], profile: Profile) -> tuple[str, ...]:
    """The fields an update changes (AIP-134): those in the mask (`*` is
    all), or with an empty mask every updatable field set in `profile`."""
    unknown = [p for p in paths if p not in (*UPDATABLE, ALL_FIELDS)]
    if unknown:
        raise InvalidArgument(
            f"update_mask names fields that cannot be updated: {', '.join(unknown)}",
            violations=[
                ("update_mask", f"{p!r} is not updatable; use {', '.join(UPDATABLE)}")
                for p in unknown
            ],
        )
    if ALL_FIELDS in paths:
        return UPDATABLE
    if paths:
        return tuple(f for f in UPDATABLE if f in paths)
    return tuple(f for f in UPDATABLE if getattr(profile, f))
