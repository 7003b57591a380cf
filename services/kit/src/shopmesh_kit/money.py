"""`google.type.Money` <-> integer minor units (cents). Amounts are stored
and summed as integers; the catalog has one currency with two decimals."""

from __future__ import annotations

from google.type import money_pb2

from shopmesh_kit.errors import InvalidArgument

NANOS_PER_CENT = 10_000_000
CENTS_PER_UNIT = 100


def to_money(cents: int, currency: str) -> money_pb2.Money:
    units, rest = divmod(abs(cents), CENTS_PER_UNIT)
    sign = -1 if cents < 0 else 1
    return money_pb2.Money(
        currency_code=currency, units=sign * units, nanos=sign * rest * NANOS_PER_CENT
    )


def to_cents(money: money_pb2.Money, *, currency: str, field: str) -> int:
    """Cents of `money`, which must be in `currency` (empty means it) and
    have at most two decimals; otherwise INVALID_ARGUMENT on `field`."""
    if money.currency_code not in ("", currency):
        raise InvalidArgument.field(f"{field}.currency_code", f"must be {currency}")
    if (money.units > 0 and money.nanos < 0) or (money.units < 0 and money.nanos > 0):
        raise InvalidArgument.field(field, "units and nanos must have the same sign")
    if money.nanos % NANOS_PER_CENT:
        raise InvalidArgument.field(f"{field}.nanos", "must be a whole number of cents")
    return int(money.units) * CENTS_PER_UNIT + int(money.nanos) // NANOS_PER_CENT


def format_cents(cents: int) -> str:
    return f"{cents // CENTS_PER_UNIT}.{cents % CENTS_PER_UNIT:02d}"
