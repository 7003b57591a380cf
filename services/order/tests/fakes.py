"""An in-memory product service with the reservation semantics of the real
one, for testing the sagas' every interleaving without a network."""

from __future__ import annotations

from collections.abc import Sequence

from shopmesh_kit.errors import InvalidArgument, Unavailable
from shopmesh_order.domain.orders import LineRequest, OutOfStock
from shopmesh_order.stock import Reservation, ReservationState, ReservedLine


class FakeStock:
    def __init__(self, stock: dict[str, int], prices: dict[str, int] | None = None) -> None:
        self.available = dict(stock)
        self.prices = prices or dict.fromkeys(stock, 100)
        self.reservations: dict[str, Reservation] = {}
        self.down = False
        self.calls: list[str] = []

    def _check(self, call: str) -> None:
        self.calls.append(call)
        if self.down:
            raise Unavailable("product service down", reason="PRODUCT_SERVICE_UNAVAILABLE")

    async def reserve(self, order_id: str, lines: Sequence[LineRequest]) -> Reservation:
        self._check("reserve")
        if order_id in self.reservations:
            return self.reservations[order_id]
        for i, line in enumerate(lines):
            if line.product_id not in self.available:
                raise InvalidArgument.field(f"order.lines[{i}].product", "unknown product")
            if self.available[line.product_id] < line.quantity:
                raise OutOfStock("out of stock", metadata={"product": line.product_id})
        for line in lines:
            self.available[line.product_id] -= line.quantity
        reservation = Reservation(
            ReservationState.RESERVED,
            "USD",
            tuple(
                ReservedLine(
                    line.product_id,
                    line.quantity,
                    self.prices[line.product_id],
                    line.product_id.title(),
                )
                for line in lines
            ),
        )
        self.reservations[order_id] = reservation
        return reservation

    async def get(self, order_id: str) -> Reservation | None:
        self._check("get")
        return self.reservations.get(order_id)

    async def commit(self, order_id: str) -> None:
        self._check("commit")
        current = self.reservations[order_id]
        if current.state == ReservationState.RESERVED:
            self.reservations[order_id] = Reservation(
                ReservationState.COMMITTED, current.currency, current.lines
            )

    async def release(self, order_id: str) -> bool:
        self._check("release")
        current = self.reservations.get(order_id)
        if current is None:
            self.reservations[order_id] = Reservation(ReservationState.RELEASED, "USD", ())
            return False
        if not current.holds_stock:
            return False
        for line in current.lines:
            self.available[line.product_id] += line.quantity
        self.reservations[order_id] = Reservation(
            ReservationState.RELEASED, current.currency, current.lines
        )
        return True
