"""Order use cases. Placing an order is a saga:

1. the order is stored PENDING (unique per user and request_id);
2. stock is reserved at the product service, idempotently on the order id;
3. the order becomes CONFIRMED with the reserved prices, or REJECTED.

A crash or an outage can stop it between any two steps; `recover()` drives
every order left behind to a terminal state, so no reservation is leaked and
no confirmed order lacks one. An order only leaves PENDING through a
conditional update, so the request placing it and the recovery loop cannot
both decide its fate. Whenever stock must go back (a cancel, an abandoned
order), the order is first marked `release_pending` in the same transaction
that changes its state; the release (exactly once, by the product service)
follows, and the mark is cleared. Recovery repeats releases a crash cut off.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shopmesh_kit.auth import Principal
from shopmesh_kit.db import Database, is_unique_violation
from shopmesh_kit.errors import Aborted, InvalidArgument, NotFound, ServiceError
from shopmesh_kit.pagination import (
    decode_page_token,
    encode_page_token,
    normalize_page_size,
    request_fingerprint,
)
from sqlalchemy.exc import IntegrityError

from shopmesh_order.db.models import OrderLineRow, OrderRow
from shopmesh_order.db.repository import Orders
from shopmesh_order.domain.names import ALL_USERS, parse_name, parse_parent
from shopmesh_order.domain.orders import (
    LineRequest,
    Order,
    OrderNotCancellable,
    OrderState,
    OutOfStock,
    RejectReason,
    parse_lines,
    request_hash,
    validate_request_id,
)
from shopmesh_order.faults import Faults
from shopmesh_order.stock import Reservation, Stock

log = logging.getLogger("shopmesh.order")


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    next_page_token: str


class OrderService:
    def __init__(
        self,
        *,
        database: Database,
        stock: Stock,
        clock: Callable[[], datetime],
        faults: Faults | None = None,
    ) -> None:
        self._db = database
        self._stock = stock
        self._clock = clock
        self._faults = faults or Faults()

    # ------------------------------------------------------------ create

    async def create(
        self,
        caller: Principal | None,
        parent: str,
        lines: Sequence[tuple[str, int]],
        request_id: str,
    ) -> Order:
        user_id = parse_parent(parent, caller)
        if user_id == ALL_USERS:
            raise InvalidArgument.field("parent", "must name one user")
        parsed = parse_lines(lines)
        request_id = validate_request_id(request_id)
        fingerprint = request_hash(parsed)
        order = await self._store_pending(user_id, request_id, fingerprint, parsed)
        if order.request_hash != fingerprint:
            raise InvalidArgument.field(
                "request_id", "was already used for an order with different lines"
            )
        if order.state == OrderState.PENDING:
            order = await self._place(order)
        return _outcome(order)

    async def _store_pending(
        self, user_id: str, request_id: str, fingerprint: str, lines: Sequence[LineRequest]
    ) -> Order:
        """The order for this request: a new PENDING one, or the one a
        previous attempt (or a concurrent twin) stored."""
        now = self._clock()
        order_id = str(uuid.uuid4())
        async with self._db.write_session() as session:
            orders = Orders(session)
            existing = await orders.by_request(user_id, request_id)
            if existing is not None:
                return existing
            try:  # the INSERT (flushed in add) or the commit meets a twin's row
                await orders.add(
                    OrderRow(
                        id=order_id,
                        user_id=user_id,
                        request_id=request_id,
                        request_hash=fingerprint,
                        state=OrderState.PENDING,
                        currency="",
                        total_cents=None,
                        reject_reason="",
                        release_pending=False,
                        reservation_committed=False,
                        revision=1,
                        create_time=now,
                        update_time=now,
                    ),
                    [
                        OrderLineRow(
                            order_id=order_id,
                            position=i,
                            product_id=line.product_id,
                            quantity=line.quantity,
                            unit_price_cents=None,
                            display_name="",
                        )
                        for i, line in enumerate(lines)
                    ],
                )
                await session.commit()
            except IntegrityError as exc:
                if not is_unique_violation(exc):
                    raise
            else:
                order = await Orders(session).get(order_id)
                assert order is not None
                return order
        async with self._db.session() as session:  # a concurrent twin won
            existing = await Orders(session).by_request(user_id, request_id)
        if existing is None:
            raise Aborted("the order was being placed concurrently; retry")
        return existing

    async def _place(self, order: Order) -> Order:
        lines = parse_lines(
            [(f"products/{line.product_id}", line.quantity) for line in order.lines]
        )
        try:
            reservation = await self._stock.reserve(order.id, lines)
        except OutOfStock:
            await self._reject(order.id, RejectReason.OUT_OF_STOCK)
            raise
        except InvalidArgument:
            await self._forget(order.id)  # unknown products: as if never asked
            raise
        self._faults.point("after_reserve")
        if not reservation.holds_stock:  # recovery gave up on this order meanwhile
            return await self._reject(order.id, RejectReason.NOT_RESERVED)
        return await self._confirm(order.id, reservation)

    async def _confirm(self, order_id: str, reservation: Reservation) -> Order:
        now = self._clock()
        prices = {
            line.product_id: (line.unit_price_cents, line.display_name)
            for line in reservation.lines
        }
        total = sum(line.unit_price_cents * line.quantity for line in reservation.lines)
        async with self._db.write_session() as session:
            orders = Orders(session)
            confirmed = await orders.transition(
                order_id,
                [OrderState.PENDING],
                {
                    "state": OrderState.CONFIRMED,
                    "total_cents": total,
                    "currency": reservation.currency,
                },
                now,
            )
            if confirmed:
                await orders.set_line_prices(order_id, prices)
            await session.commit()
        if confirmed:
            log.info("order confirmed", extra={"order_id": order_id})
        await self._commit_reservation(order_id)
        return await self._get(order_id)

    async def _commit_reservation(self, order_id: str) -> None:
        """Tell the product service the stock is sold. Best effort: the
        stock stays held either way, and recovery retries."""
        try:
            await self._stock.commit(order_id)
        except ServiceError as error:
            log.warning(
                "commit of reservation deferred: %s", error.message, extra={"order_id": order_id}
            )
            return
        async with self._db.write_session() as session:
            await Orders(session).mark_committed(order_id)
            await session.commit()

    async def _reject(self, order_id: str, reason: RejectReason, *, release: bool = False) -> Order:
        """PENDING -> REJECTED; `release` marks stock to give back in the same step."""
        async with self._db.write_session() as session:
            await Orders(session).transition(
                order_id,
                [OrderState.PENDING],
                {"state": OrderState.REJECTED, "reject_reason": reason, "release_pending": release},
                self._clock(),
            )
            await session.commit()
        log.info("order rejected", extra={"order_id": order_id, "reason": str(reason)})
        return await self._get(order_id)

    async def _forget(self, order_id: str) -> None:
        async with self._db.write_session() as session:
            await Orders(session).delete_pending(order_id)
            await session.commit()

    async def _get(self, order_id: str) -> Order:
        async with self._db.session() as session:
            order = await Orders(session).get(order_id)
        if order is None:
            raise NotFound("order not found")
        return order

    # ------------------------------------------------------------ read

    async def get(self, caller: Principal | None, name: str) -> Order:
        user_id, order_id = parse_name(name, caller)
        async with self._db.session() as session:
            order = await Orders(session).get(order_id)
        if order is None or order.user_id != user_id:
            raise NotFound("order not found")
        return order

    async def list(
        self,
        caller: Principal | None,
        parent: str,
        page_size: int,
        page_token: str,
        filter_: str,
    ) -> OrderPage:
        user_id = parse_parent(parent, caller)
        size = normalize_page_size(page_size)
        state = _parse_state_filter(filter_)
        fingerprint = request_fingerprint(user_id, filter_)
        after = None
        if page_token:
            cursor = decode_page_token(page_token, fingerprint=fingerprint)
            after = (datetime.fromisoformat(cursor["t"]), str(cursor["id"]))
        async with self._db.session() as session:
            orders = await Orders(session).page(
                None if user_id == ALL_USERS else user_id, state, after, size + 1
            )
        token = ""
        if len(orders) > size:
            orders = orders[:size]
            last = orders[-1]
            token = encode_page_token(
                {"t": last.create_time.isoformat(), "id": last.id}, fingerprint=fingerprint
            )
        return OrderPage(orders, token)

    # ------------------------------------------------------------ cancel

    async def cancel(self, caller: Principal | None, name: str) -> Order:
        order = await self.get(caller, name)
        if order.state == OrderState.CANCELLED:
            return order
        if order.state != OrderState.CONFIRMED:
            raise OrderNotCancellable(f"a {order.state.value} order cannot be cancelled")
        async with self._db.write_session() as session:
            await Orders(session).transition(
                order.id,
                [OrderState.CONFIRMED],
                {"state": OrderState.CANCELLED, "release_pending": True},
                self._clock(),
            )
            await session.commit()
        log.info("order cancelled", extra={"order_id": order.id})
        await self._release(order.id)
        return await self._get(order.id)

    async def _release(self, order_id: str) -> None:
        """Return the order's stock (the product service does it exactly
        once), then clear the mark. If the product service is down, the mark
        stays and recovery retries."""
        try:
            await self._stock.release(order_id)
        except ServiceError as error:
            log.warning("stock release deferred: %s", error.message, extra={"order_id": order_id})
            return
        self._faults.point("after_release")
        async with self._db.write_session() as session:
            await Orders(session).clear_release_pending(order_id)
            await session.commit()

    # ------------------------------------------------------------ recovery

    async def recover(self, grace: timedelta, limit: int = 100) -> int:
        """Drive orders that a crash or an outage left behind, once untouched
        for `grace`: a PENDING order is confirmed if its stock is reserved,
        otherwise rejected and its stock (if a late reserve took any)
        released; pending releases are retried; confirmed orders whose
        reservation was not committed are committed. Returns how many orders
        it looked at."""
        async with self._db.session() as session:
            ids = await Orders(session).stale_ids(self._clock() - grace, limit)
        for order_id in ids:
            order = await self._get(order_id)
            if order.state == OrderState.PENDING:
                reservation = await self._stock.get(order_id)
                if reservation is not None and reservation.holds_stock:
                    await self._confirm(order_id, reservation)
                    continue
                # Rejected before releasing: a request still placing this
                # order can no longer confirm it. The release then returns a
                # late reservation's stock, or leaves a tombstone so that a
                # later reserve takes none.
                rejected = await self._reject(order_id, RejectReason.NOT_RESERVED, release=True)
                if rejected.release_pending:  # else the placing request confirmed it first
                    await self._release(order_id)
            elif order.release_pending:
                await self._release(order_id)
            elif not order.reservation_committed:
                await self._commit_reservation(order_id)
        return len(ids)


def _outcome(order: Order) -> Order:
    """What CreateOrder answers for a stored order: the order itself, or the
    error that rejected it (also for a retry of a rejected request)."""
    if order.state == OrderState.REJECTED:
        if order.reject_reason == RejectReason.OUT_OF_STOCK:
            raise OutOfStock("not enough stock for every line; nothing was reserved")
        raise Aborted(
            "the order could not be placed; retry with a new request_id", reason="ORDER_ABANDONED"
        )
    return order


def _parse_state_filter(filter_: str) -> OrderState | None:
    text = filter_.strip()
    if not text:
        return None
    field, _, value = text.partition("=")
    if field.strip() != "state" or value.strip().strip('"') not in OrderState.__members__:
        raise InvalidArgument.field(
            "filter", "supported: state = PENDING|CONFIRMED|CANCELLED|REJECTED"
        )
    return OrderState(value.strip().strip('"'))
