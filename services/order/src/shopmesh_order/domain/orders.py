"""Orders: states, lines, and the rules checked before anything is stored."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shopmesh_kit.errors import FailedPrecondition, InvalidArgument

MAX_LINES = 50
MAX_QUANTITY = 100
_PRODUCT = re.compile(r"^products/[a-z0-9-]{1,63}$")


class OrderState(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


class RejectReason(StrEnum):
    OUT_OF_STOCK = "OUT_OF_STOCK"
    # The order was left pending (a crash or an outage) and recovery found no
    # stock held for it.
    NOT_RESERVED = "NOT_RESERVED"


@dataclass(frozen=True)
class LineRequest:
    product_id: str
    quantity: int


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    quantity: int
    unit_price_cents: int | None
    display_name: str


@dataclass(frozen=True)
class Order:
    id: str
    user_id: str
    request_id: str
    request_hash: str
    state: OrderState
    lines: tuple[OrderLine, ...]
    currency: str
    total_cents: int | None
    reject_reason: str
    release_pending: bool
    reservation_committed: bool
    revision: int
    create_time: datetime
    update_time: datetime


class OutOfStock(FailedPrecondition):
    default_reason = "OUT_OF_STOCK"


class OrderNotCancellable(FailedPrecondition):
    default_reason = "ORDER_NOT_CANCELLABLE"


def parse_lines(lines: Sequence[tuple[str, int]], field: str = "order.lines") -> list[LineRequest]:
    """Validated order lines from (product name, quantity) pairs."""
    violations: list[tuple[str, str]] = []
    if not 1 <= len(lines) <= MAX_LINES:
        violations.append((field, f"must have 1 to {MAX_LINES} lines"))
    seen: set[str] = set()
    parsed = []
    for i, (product, quantity) in enumerate(lines):
        if not _PRODUCT.match(product):
            violations.append((f"{field}[{i}].product", "must be products/{product}"))
        elif product in seen:
            violations.append((f"{field}[{i}].product", "appears twice; add the quantities"))
        seen.add(product)
        if not 1 <= quantity <= MAX_QUANTITY:
            violations.append((f"{field}[{i}].quantity", f"must be 1 to {MAX_QUANTITY}"))
        parsed.append(LineRequest(product.removeprefix("products/"), quantity))
    if violations:
        raise InvalidArgument("invalid order lines", violations=violations)
    return parsed


def validate_request_id(request_id: str) -> str:
    """AIP-155: a UUID, normalised to its canonical form."""
    try:
        return str(uuid.UUID(request_id))
    except ValueError:
        raise InvalidArgument.field("request_id", "must be a UUID") from None


def request_hash(lines: Sequence[LineRequest]) -> str:
    """Fingerprint of what was ordered, to tell a retry from a new request."""
    canonical = ";".join(
        f"{line.product_id}={line.quantity}"
        for line in sorted(lines, key=lambda line: line.product_id)
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def line_total(line: OrderLine) -> int | None:
    return None if line.unit_price_cents is None else line.unit_price_cents * line.quantity
