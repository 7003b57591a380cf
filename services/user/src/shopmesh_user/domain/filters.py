"""The ListUsers filter: a subset of AIP-160.

email = "ada@example.com"   exact email (case-insensitive)
"ada"                       display name or email contains the text (case-insensitive)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shopmesh_kit.errors import InvalidArgument

from shopmesh_user.domain.profiles import normalize_email

VALUE_MAX = 254
_STRING = r'"((?:[^"\\]|\\.)*)"'
_EMAIL_EQUALS = re.compile(rf"\s*email\s*=\s*{_STRING}\s*", re.DOTALL)
_TEXT = re.compile(rf"\s*{_STRING}\s*", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
SUPPORTED = 'supported: email = "a@b.c", or a quoted text such as "ada"'


@dataclass(frozen=True)
class UserFilter:
    email: str | None = None
    text: str | None = None


def parse_filter(filter_: str) -> UserFilter:
    if not filter_.strip():
        return UserFilter()
    if match := _EMAIL_EQUALS.fullmatch(filter_):
        return UserFilter(email=normalize_email(_value(match)))
    if match := _TEXT.fullmatch(filter_):
        return UserFilter(text=_value(match))
    raise InvalidArgument.field("filter", SUPPORTED)


def _value(match: re.Match[str]) -> str:
    value = _ESCAPE.sub(r"\1", match.group(1))
    if not 1 <= len(value) <= VALUE_MAX:
        raise InvalidArgument.field(
            "filter", f"the quoted value must be 1 to {VALUE_MAX} characters"
        )
    return value
