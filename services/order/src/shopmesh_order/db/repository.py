"""Queries of the order database. State changes are conditional updates, so
concurrent requests and the recovery loop never both apply one transition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shopmesh_kit.db import as_utc
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopmesh_order.db.models import OrderLineRow, OrderRow
from shopmesh_order.domain.orders import Order, OrderLine, OrderState


class Orders:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, order: OrderRow, lines: Sequence[OrderLineRow]) -> None:
        self._s.add(order)
        await self._s.flush()
        self._s.add_all(lines)

    async def get(self, order_id: str) -> Order | None:
        row = await self._s.get(OrderRow, order_id)
        return None if row is None else await self._load(row)

    async def by_request(self, user_id: str, request_id: str) -> Order | None:
        row = await self._s.scalar(
            select(OrderRow).where(OrderRow.user_id == user_id, OrderRow.request_id == request_id)
        )
        return None if row is None else await self._load(row)

    async def page(
        self,
        user_id: str | None,
        state: OrderState | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Order]:
        """Newest first; `after` is the (create_time, id) of the previous page's last order."""
        query = select(OrderRow)
        if user_id is not None:
            query = query.where(OrderRow.user_id == user_id)
        if state is not None:
            query = query.where(OrderRow.state == state)
        if after is not None:
            time, order_id = after
            query = query.where(
                or_(
                    OrderRow.create_time < time,
                    and_(OrderRow.create_time == time, OrderRow.id < order_id),
                )
            )
        rows = await self._s.scalars(
            query.order_by(OrderRow.create_time.desc(), OrderRow.id.desc()).limit(limit)
        )
        return [await self._load(row) for row in rows.all()]

    async def stale_ids(self, cutoff: datetime, limit: int) -> list[str]:
        """Orders the recovery loop must drive, untouched since `cutoff`:
        PENDING ones, ones whose stock is still to be released (cancelled or
        abandoned), and CONFIRMED ones whose reservation is not committed."""
        rows = await self._s.scalars(
            select(OrderRow.id)
            .where(
                OrderRow.update_time < cutoff,
                or_(
                    OrderRow.state == OrderState.PENDING,
                    OrderRow.release_pending,
                    and_(OrderRow.state == OrderState.CONFIRMED, ~OrderRow.reservation_committed),
                ),
            )
            .order_by(OrderRow.update_time)
            .limit(limit)
        )
        return list(rows.all())

    async def clear_release_pending(self, order_id: str) -> None:
        await self._s.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id)
            .values(release_pending=False)
            .execution_options(synchronize_session=False)
        )

    async def transition(
        self,
        order_id: str,
        from_states: Sequence[OrderState],
        values: Mapping[str, Any],
        now: datetime,
    ) -> bool:
        """Apply `values` if the order is in one of `from_states`; False if not."""
        result = await self._s.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id, OrderRow.state.in_(list(from_states)))
            .values(**values, update_time=now, revision=OrderRow.revision + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_line_prices(self, order_id: str, prices: Mapping[str, tuple[int, str]]) -> None:
        for product_id, (cents, display_name) in prices.items():
            await self._s.execute(
                update(OrderLineRow)
                .where(OrderLineRow.order_id == order_id, OrderLineRow.product_id == product_id)
                .values(unit_price_cents=cents, display_name=display_name)
                .execution_options(synchronize_session=False)
            )

    async def mark_committed(self, order_id: str) -> None:
        await self._s.execute(
            update(OrderRow)
            .where(OrderRow.id == order_id)
            .values(reservation_committed=True)
            .execution_options(synchronize_session=False)
        )

    async def delete_pending(self, order_id: str) -> None:
        await self._s.execute(
            delete(OrderRow).where(OrderRow.id == order_id, OrderRow.state == OrderState.PENDING)
        )

    async def _load(self, row: OrderRow) -> Order:
        lines = await self._s.scalars(
            select(OrderLineRow)
            .where(OrderLineRow.order_id == row.id)
            .order_by(OrderLineRow.position)
        )
        return Order(
            id=row.id,
            user_id=row.user_id,
            request_id=row.request_id,
            request_hash=row.request_hash,
            state=OrderState(row.state),
            lines=tuple(
                OrderLine(
                    product_id=line.product_id,
                    quantity=line.quantity,
                    unit_price_cents=line.unit_price_cents,
                    display_name=line.display_name,
                )
                for line in lines.all()
            ),
            currency=row.currency,
            total_cents=row.total_cents,
            reject_reason=row.reject_reason,
            release_pending=row.release_pending,
            reservation_committed=row.reservation_committed,
            revision=row.revision,
            create_time=as_utc(row.create_time),
            update_time=as_utc(row.update_time),
        )
