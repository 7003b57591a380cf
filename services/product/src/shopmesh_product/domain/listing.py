"""ListProducts rules: the AIP-160 filter subset, AIP-132 `order_by`, and the
keyset cursor a page token carries.

Filter: restrictions joined by `AND`, each one of
  `category = "kitchen"`               (the value may also be unquoted)
  `price < 20`, `price >= 5.50`        (`= < <= > >=`, in currency units)
  `"mug"`                              (display name or description contains it,
                                        case-insensitively)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shopmesh_kit.errors import InvalidArgument
from shopmesh_kit.pagination import decode_page_token, encode_page_token

from shopmesh_product.domain.products import Product

FILTER_MAX = 1000
RESTRICTIONS_MAX = 20
PRICE_OPERATORS = ("=", "<", "<=", ">", ">=")
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<op><=|>=|!=|=|<|>|:)
    | (?P<bare>[A-Za-z0-9_.\-]+)
    | (?P<other>\S)
    )""",
    re.VERBOSE,
)
_SLUG = re.compile(r"^[a-z0-9-]{1,63}$")
_AMOUNT = re.compile(r"^(\d{1,12})(?:\.(\d{1,2}))?$")


@dataclass(frozen=True)
class CategoryIs:
    category: str


@dataclass(frozen=True)
class PriceCompare:
    operator: str  # one of PRICE_OPERATORS
    cents: int


@dataclass(frozen=True)
class TextMatch:
    text: str


Condition = CategoryIs | PriceCompare | TextMatch


def _bad_filter(description: str) -> InvalidArgument:
    return InvalidArgument.field("filter", description)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        assert kind is not None  # every alternative is a named group
        value = match.group(kind)
        if kind == "other":
            raise _bad_filter(
                f"unexpected {value!r}: only restrictions joined by AND are supported"
            )
        tokens.append((kind, value))
    return tokens


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def parse_filter(text: str) -> list[Condition]:
    """The conditions of `text` (all must hold); INVALID_ARGUMENT on `filter`."""
    if len(text) > FILTER_MAX:
        raise _bad_filter(f"must be at most {FILTER_MAX} characters")
    tokens = _tokens(text)
    conditions: list[Condition] = []
    position = 0
    while position < len(tokens):
        if conditions:
            value = tokens[position][1]
            if value != "AND":
                raise _bad_filter(f"expected AND before {value!r} (OR and NOT are not supported)")
            position += 1
        condition, position = _restriction(tokens, position)
        conditions.append(condition)
    if len(conditions) > RESTRICTIONS_MAX:
        raise _bad_filter(f"must have at most {RESTRICTIONS_MAX} restrictions")
    return conditions


def _restriction(tokens: list[tuple[str, str]], position: int) -> tuple[Condition, int]:
    if position >= len(tokens):
        raise _bad_filter("ends after AND; expected a restriction")
    kind, value = tokens[position]
    if kind == "string":
        text = _unquote(value)
        if not text.strip():
            raise _bad_filter("search text must not be empty")
        return TextMatch(text), position + 1
    if kind != "bare" or value in ("AND", "OR", "NOT"):
        raise _bad_filter(f"expected a restriction at {value!r}")
    field = value
    if field not in ("category", "price"):
        raise _bad_filter(
            f'unknown field {field!r}: supported are category, price and a quoted "text"'
        )
    if position + 2 >= len(tokens):
        raise _bad_filter(f"expected an operator and a value after {field!r}")
    (op_kind, operator), (value_kind, operand) = tokens[position + 1], tokens[position + 2]
    if op_kind != "op":
        raise _bad_filter(f"expected an operator after {field!r}, got {operator!r}")
    if field == "category":
        slug = _unquote(operand) if value_kind == "string" else operand
        if operator != "=" or value_kind == "op" or not _SLUG.match(slug):
            raise _bad_filter('category supports only = with a category slug: category = "kitchen"')
        return CategoryIs(slug), position + 3
    amount = _AMOUNT.match(operand) if value_kind == "bare" else None
    if operator not in PRICE_OPERATORS or amount is None:
        raise _bad_filter(
            "price supports = < <= > >= with an amount in currency units and at most "
            "2 decimals: price >= 5.50"
        )
    units, decimals = amount.group(1), amount.group(2) or ""
    return PriceCompare(operator, int(units) * 100 + int(decimals.ljust(2, "0"))), position + 3


class SortField(StrEnum):
    DISPLAY_NAME = "display_name"
    PRICE = "price"
    CREATE_TIME = "create_time"


@dataclass(frozen=True)
class SortKey:
    field: SortField
    descending: bool = False


DEFAULT_ORDER = (SortKey(SortField.CREATE_TIME, descending=True),)


def parse_order_by(text: str) -> tuple[SortKey, ...]:
    """Keys of `order_by`; the product id breaks ties. INVALID_ARGUMENT on `order_by`."""
    if not text.strip():
        return DEFAULT_ORDER
    keys: list[SortKey] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] != "desc"):
            raise _bad_order(f"{part.strip()!r} is not a field with an optional ' desc'")
        if words[0] not in SortField.__members__.values():
            raise _bad_order(
                f"unknown field {words[0]!r}: supported are display_name, price, create_time"
            )
        field = SortField(words[0])
        if any(key.field == field for key in keys):
            raise _bad_order(f"{field} appears more than once")
        keys.append(SortKey(field, descending=len(words) == 2))
    return tuple(keys)


def _bad_order(description: str) -> InvalidArgument:
    return InvalidArgument.field("order_by", description)


# ---------------------------------------------------------------- cursor

SortValue = str | int | datetime


@dataclass(frozen=True)
class Cursor:
    """The position after the last row of a page: its sort values and id."""

    values: tuple[SortValue, ...]
    id: str


def sort_value(product: Product, field: SortField) -> SortValue:
    if field == SortField.DISPLAY_NAME:
        return product.display_name
    if field == SortField.PRICE:
        return product.price_cents
    return product.create_time


def encode_cursor(product: Product, order: tuple[SortKey, ...], *, fingerprint: str) -> str:
    values = [sort_value(product, key.field) for key in order]
    json_values = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return encode_page_token({"k": json_values, "id": product.id}, fingerprint=fingerprint)


def decode_cursor(token: str, order: tuple[SortKey, ...], *, fingerprint: str) -> Cursor:
    """The cursor of a page token made for the same filter and order; its
    values are checked like any input (tokens are opaque, not signed)."""
    raw = decode_page_token(token, fingerprint=fingerprint)
    values, product_id = raw.get("k"), raw.get("id")
    if not isinstance(values, list) or len(values) != len(order) or not isinstance(product_id, str):
        raise _bad_token()
    return Cursor(
        tuple(_typed(v, key.field) for v, key in zip(values, order, strict=True)), product_id
    )


def _typed(value: Any, field: SortField) -> SortValue:
    if field == SortField.DISPLAY_NAME and isinstance(value, str):
        return value
    if field == SortField.PRICE and isinstance(value, int) and not isinstance(value, bool):
        return value
    if field == SortField.CREATE_TIME and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _bad_token() from None
        if moment.tzinfo is not None:
            return moment.astimezone(UTC)
    raise _bad_token()


def _bad_token() -> InvalidArgument:
    return InvalidArgument.field("page_token", "is not a valid page token")
