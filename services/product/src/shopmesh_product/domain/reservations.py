"""Reservation rules: ids, names, the lines a ReserveStock may ask for."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shopmesh_kit.errors import InvalidArgument

from shopmesh_product.domain.products import is_product_name

LINES_MAX = 50
LINE_QUANTITY_MAX = 100
PREFIX = "reservations/"
_RESERVATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ReservationState(StrEnum):
    RESERVED = "RESERVED"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"


@dataclass(frozen=True)
class ReservationLine:
    product_id: str
    quantity: int
    unit_price_cents: int
    display_name: str


@dataclass(frozen=True)
class Reservation:
    id: str
    state: ReservationState
    lines: tuple[ReservationLine, ...]
    create_time: datetime
    update_time: datetime

    @property
    def name(self) -> str:
        return PREFIX + self.id


@dataclass(frozen=True)
class LineRequest:
    """A line as asked for: `product` is a resource name, checked by
    `validate_reservation`."""

    product: str
    quantity: int

    @property
    def product_id(self) -> str:
        return self.product.removeprefix("products/")


def parse_reservation_name(name: str) -> str:
    reservation_id = name.removeprefix(PREFIX)
    if not name.startswith(PREFIX) or not _RESERVATION_ID.match(reservation_id):
        raise InvalidArgument.field("name", "must be reservations/{reservation}")
    return reservation_id


def validate_reservation(reservation_id: str, lines: Sequence[LineRequest]) -> None:
    """Every violation of a ReserveStock request at once, before any side effect."""
    violations = []
    if not _RESERVATION_ID.match(reservation_id):
        violations.append(("reservation_id", "must be 1 to 64 letters, digits, '_' or '-'"))
    if not 1 <= len(lines) <= LINES_MAX:
        violations.append(("lines", f"must have 1 to {LINES_MAX} lines"))
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if not is_product_name(line.product):
            violations.append((f"lines[{i}].product", "must be products/{product}"))
        elif line.product in seen:
            violations.append((f"lines[{i}].product", "appears in more than one line"))
        seen.add(line.product)
        if not 1 <= line.quantity <= LINE_QUANTITY_MAX:
            violations.append((f"lines[{i}].quantity", f"must be 1 to {LINE_QUANTITY_MAX}"))
    if violations:
        raise InvalidArgument("invalid reservation", violations=violations)
