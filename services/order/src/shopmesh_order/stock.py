"""The product service as the order service sees it: stock reservations,
over gRPC. Its failures become this service's typed errors here, once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import grpc
from google.rpc import error_details_pb2, status_pb2
from shopmesh.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from shopmesh_kit.errors import InvalidArgument, Unavailable
from shopmesh_kit.money import to_cents

from shopmesh_order.domain.orders import LineRequest, OutOfStock


class ReservationState(StrEnum):
    RESERVED = "RESERVED"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"


@dataclass(frozen=True)
class ReservedLine:
    product_id: str
    quantity: int
    unit_price_cents: int
    display_name: str


@dataclass(frozen=True)
class Reservation:
    state: ReservationState
    currency: str
    lines: tuple[ReservedLine, ...]

    @property
    def holds_stock(self) -> bool:
        return self.state in (ReservationState.RESERVED, ReservationState.COMMITTED)


class Stock(Protocol):
    """Every method is idempotent on the order id."""

    async def reserve(self, order_id: str, lines: Sequence[LineRequest]) -> Reservation: ...

    async def get(self, order_id: str) -> Reservation | None: ...

    async def commit(self, order_id: str) -> None: ...

    async def release(self, order_id: str) -> bool: ...


IDEMPOTENT = [
    ("shopmesh.product.v1.ProductInternalService", method)
    for method in ("ReserveStock", "GetReservation", "CommitReservation", "ReleaseReservation")
]


class GrpcStock:
    def __init__(self, channel: grpc.aio.Channel, currency: str = "USD") -> None:
        self._stub = product_service_pb2_grpc.ProductInternalServiceStub(channel)
        self._currency = currency

    async def reserve(self, order_id: str, lines: Sequence[LineRequest]) -> Reservation:
        request = product_service_pb2.ReserveStockRequest(
            reservation_id=order_id,
            lines=[
                product_pb2.ReservationLine(
                    product=f"products/{line.product_id}", quantity=line.quantity
                )
                for line in lines
            ],
        )
        try:
            return self._reservation(await self._stub.ReserveStock(request))
        except grpc.aio.AioRpcError as error:
            raise _translate(error) from error

    async def get(self, order_id: str) -> Reservation | None:
        request = product_service_pb2.GetReservationRequest(name=f"reservations/{order_id}")
        try:
            return self._reservation(await self._stub.GetReservation(request))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise _translate(error) from error

    async def commit(self, order_id: str) -> None:
        request = product_service_pb2.CommitReservationRequest(name=f"reservations/{order_id}")
        try:
            await self._stub.CommitReservation(request)
        except grpc.aio.AioRpcError as error:
            raise _translate(error) from error

    async def release(self, order_id: str) -> bool:
        request = product_service_pb2.ReleaseReservationRequest(name=f"reservations/{order_id}")
        try:
            return bool((await self._stub.ReleaseReservation(request)).released)
        except grpc.aio.AioRpcError as error:
            raise _translate(error) from error

    def _reservation(self, reply: product_pb2.Reservation) -> Reservation:
        state = product_pb2.Reservation.State.Name(reply.state)
        return Reservation(
            state=ReservationState(state),
            currency=self._currency,
            lines=tuple(
                ReservedLine(
                    product_id=line.product.removeprefix("products/"),
                    quantity=line.quantity,
                    unit_price_cents=to_cents(
                        line.unit_price, currency=self._currency, field="unit_price"
                    ),
                    display_name=line.display_name,
                )
                for line in reply.lines
            ),
        )


def _details(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    status = status_pb2.Status()
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status.ParseFromString(value)
    return status


def _translate(error: grpc.aio.AioRpcError) -> Exception:
    """Out of stock and bad lines are the client's business; any other
    failure of the product service is an outage for the client."""
    status = _details(error)
    if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info) and info.reason == "OUT_OF_STOCK":
                return OutOfStock(
                    "not enough stock for every line; nothing was reserved",
                    metadata=dict(info.metadata),
                )
    if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
        violations = []
        for detail in status.details:
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(bad):
                violations += [(f"order.{v.field}", v.description) for v in bad.field_violations]
        return InvalidArgument("invalid order lines", violations=violations)
    return Unavailable(
        "the product service is unavailable; retry with the same request_id",
        reason="PRODUCT_SERVICE_UNAVAILABLE",
    )
