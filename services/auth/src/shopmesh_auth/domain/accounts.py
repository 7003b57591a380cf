"""Account rules: email normalisation and the password and name policies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shopmesh_kit.errors import InvalidArgument

PASSWORD_MIN = 8
PASSWORD_MAX = 128
DISPLAY_NAME_MAX = 100
EMAIL_MAX = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


class AccountStatus(StrEnum):
    """PENDING until the user profile exists; only ACTIVE accounts log in."""

    PENDING = "pending"
    ACTIVE = "active"


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    display_name: str
    roles: tuple[str, ...]
    status: AccountStatus
    password_hash: str
    create_time: datetime


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased; the whole address is compared case-insensitively."""
    return email.strip().lower()


def registration_violations(email: str, password: str, display_name: str) -> list[tuple[str, str]]:
    """Field violations of a registration, empty when valid. `email` is normalised."""
    violations = []
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        violations.append(("email", "must be an email address"))
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        violations.append(("password", f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"))
    name = display_name.strip()
    if not 1 <= len(name) <= DISPLAY_NAME_MAX or not name.isprintable():
        violations.append(("display_name", f"must be 1 to {DISPLAY_NAME_MAX} printable characters"))
    return violations


def validate_registration(email: str, password: str, display_name: str) -> None:
    violations = registration_violations(email, password, display_name)
    if violations:
        raise InvalidArgument("invalid registration", violations=violations)


def validate_password_length(password: str) -> None:
    """Passwords past the maximum are refused before hashing (no hashing DoS)."""
    if len(password) > PASSWORD_MAX:
        raise InvalidArgument.field("password", f"must be at most {PASSWORD_MAX} characters")
