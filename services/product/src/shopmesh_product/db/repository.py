"""Queries of the product database, one session (unit of work) per call site.

Stock only moves through conditional UPDATEs (`available_quantity >= :q`),
never read-then-write in Python; the CHECK constraint is the last line of defence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from shopmesh_kit.db import as_utc, is_check_violation
from sqlalchemy import ColumnElement, and_, exists, false, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shopmesh_product.db.models import ProductRow, ReservationLineRow, ReservationRow
from shopmesh_product.domain.listing import (
    CategoryIs,
    Condition,
    Cursor,
    PriceCompare,
    SortField,
    SortKey,
    TextMatch,
)
from shopmesh_product.domain.products import Product
from shopmesh_product.domain.reservations import Reservation, ReservationLine, ReservationState

_SORT_COLUMNS: dict[SortField, InstrumentedAttribute[Any]] = {
    SortField.DISPLAY_NAME: ProductRow.display_name,
    SortField.PRICE: ProductRow.price_cents,
    SortField.CREATE_TIME: ProductRow.create_time,
}


def to_product(row: ProductRow) -> Product:
    return Product(
        id=row.id,
        display_name=row.display_name,
        description=row.description,
        category=row.category,
        price_cents=row.price_cents,
        available_quantity=row.available_quantity,
        revision=row.revision,
        create_time=as_utc(row.create_time),
        update_time=as_utc(row.update_time),
    )


class Products:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, product_id: str) -> ProductRow | None:
        """The product unless it is deleted."""
        return await self._s.scalar(
            select(ProductRow).where(ProductRow.id == product_id, ProductRow.delete_time.is_(None))
        )

    async def lock(self, product_id: str) -> ProductRow | None:
        """Like `get`, holding the row lock until the transaction ends (PostgreSQL)."""
        return await self._s.scalar(
            select(ProductRow)
            .where(ProductRow.id == product_id, ProductRow.delete_time.is_(None))
            .with_for_update()
        )

    async def any(self) -> bool:
        """Whether any product, deleted or not, was ever created."""
        return bool(await self._s.scalar(select(exists().where(ProductRow.id.is_not(None)))))

    def add(self, row: ProductRow) -> None:
        self._s.add(row)

    async def update_fields(
        self, product_id: str, values: Mapping[str, object], revision: int | None, now: datetime
    ) -> ProductRow | None:
        """Set `values` and bump the revision, only if the product exists and,
        when `revision` is given, still has it. None when nothing matched."""
        conditions = [ProductRow.id == product_id, ProductRow.delete_time.is_(None)]
        if revision is not None:
            conditions.append(ProductRow.revision == revision)
        return await self._s.scalar(
            update(ProductRow)
            .where(*conditions)
            .values(**values, revision=ProductRow.revision + 1, update_time=now)
            .returning(ProductRow)
            .execution_options(synchronize_session=False)
        )

    async def restock(self, product_id: str, quantity: int, now: datetime) -> ProductRow | None:
        return await self._s.scalar(
            update(ProductRow)
            .where(ProductRow.id == product_id, ProductRow.delete_time.is_(None))
            .values(available_quantity=ProductRow.available_quantity + quantity, update_time=now)
            .returning(ProductRow)
            .execution_options(synchronize_session=False)
        )

    async def take(self, product_id: str, quantity: int) -> tuple[int, str] | None:
        """Take `quantity` units if available: (unit price, display name), or
        None when the product is short, deleted or missing."""
        statement = (
            update(ProductRow)
            .where(
                ProductRow.id == product_id,
                ProductRow.delete_time.is_(None),
                ProductRow.available_quantity >= quantity,
            )
            .values(available_quantity=ProductRow.available_quantity - quantity)
            .returning(ProductRow.price_cents, ProductRow.display_name)
            .execution_options(synchronize_session=False)
        )
        try:
            row = (await self._s.execute(statement)).one_or_none()
        except IntegrityError as exc:
            if is_check_violation(exc):  # the constraint caught what the WHERE should have
                return None
            raise
        return None if row is None else (row.price_cents, row.display_name)

    async def give_back(self, product_id: str, quantity: int) -> None:
        """Return units to stock, deleted products included."""
        await self._s.execute(
            update(ProductRow)
            .where(ProductRow.id == product_id)
            .values(available_quantity=ProductRow.available_quantity + quantity)
            .execution_options(synchronize_session=False)
        )

    async def has_reserved_lines(self, product_id: str) -> bool:
        held = (
            select(ReservationLineRow.product_id)
            .join(ReservationRow, ReservationRow.id == ReservationLineRow.reservation_id)
            .where(
                ReservationLineRow.product_id == product_id,
                ReservationRow.state == ReservationState.RESERVED,
            )
        )
        return bool(await self._s.scalar(select(held.exists())))

    async def page(
        self,
        conditions: Iterable[Condition],
        order: Sequence[SortKey],
        after: Cursor | None,
        limit: int,
    ) -> Sequence[ProductRow]:
        """Up to `limit` live products matching every condition, in `order`
        then by id, strictly after `after` (keyset pagination)."""
        statement = select(ProductRow).where(
            ProductRow.delete_time.is_(None), *(_condition(c) for c in conditions)
        )
        if after is not None:
            statement = statement.where(_after(order, after))
        columns = [_SORT_COLUMNS[key.field] for key in order]
        statement = statement.order_by(
            *(
                c.desc() if key.descending else c.asc()
                for c, key in zip(columns, order, strict=True)
            ),
            ProductRow.id.asc(),
        ).limit(limit)
        return (await self._s.scalars(statement)).all()


def _condition(condition: Condition) -> ColumnElement[bool]:
    match condition:
        case CategoryIs(category):
            return ProductRow.category == category
        case PriceCompare(operator, cents):
            column = ProductRow.price_cents
            return {
                "=": column == cents,
                "<": column < cents,
                "<=": column <= cents,
                ">": column > cents,
                ">=": column >= cents,
            }[operator]
        case TextMatch(text):
            return or_(
                ProductRow.display_name.icontains(text, autoescape=True),
                ProductRow.description.icontains(text, autoescape=True),
            )


def _after(order: Sequence[SortKey], cursor: Cursor) -> ColumnElement[bool]:
    """Rows after the cursor: for keys k1..kn then id,
    k1 beyond v1, or k1 = v1 and k2 beyond v2, ..., or all equal and id > cursor id.
    Written out (not as a row comparison) so mixed directions work everywhere."""
    keys: list[tuple[Any, bool, Any]] = [
        (_SORT_COLUMNS[key.field], key.descending, value)
        for key, value in zip(order, cursor.values, strict=True)
    ]
    keys.append((ProductRow.id, False, cursor.id))
    alternatives = []
    for i, (column, descending, value) in enumerate(keys):
        equal = [c == v for c, _, v in keys[:i]]
        beyond = column < value if descending else column > value
        alternatives.append(and_(*equal, beyond))
    return or_(false(), *alternatives)


class Reservations:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def load(self, reservation_id: str) -> Reservation | None:
        row = await self._s.get(ReservationRow, reservation_id, populate_existing=True)
        if row is None:
            return None
        lines = await self._s.scalars(
            select(ReservationLineRow)
            .where(ReservationLineRow.reservation_id == reservation_id)
            .order_by(ReservationLineRow.product_id)
        )
        return Reservation(
            id=row.id,
            state=ReservationState(row.state),
            lines=tuple(
                ReservationLine(
                    product_id=line.product_id,
                    quantity=line.quantity,
                    unit_price_cents=line.unit_price_cents,
                    display_name=line.display_name,
                )
                for line in lines
            ),
            create_time=as_utc(row.create_time),
            update_time=as_utc(row.update_time),
        )

    async def state(self, reservation_id: str) -> ReservationState | None:
        state = await self._s.scalar(
            select(ReservationRow.state).where(ReservationRow.id == reservation_id)
        )
        return None if state is None else ReservationState(state)

    async def insert(self, reservation_id: str, state: ReservationState, now: datetime) -> None:
        """Insert at once, so a duplicate id fails (or waits for its twin) here."""
        await self._s.execute(
            insert(ReservationRow).values(
                id=reservation_id, state=state, create_time=now, update_time=now
            )
        )

    async def add_lines(self, reservation_id: str, lines: Iterable[ReservationLine]) -> None:
        await self._s.execute(
            insert(ReservationLineRow),
            [
                {
                    "reservation_id": reservation_id,
                    "product_id": line.product_id,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                    "display_name": line.display_name,
                }
                for line in lines
            ],
        )

    async def change_state(
        self,
        reservation_id: str,
        to: ReservationState,
        *,
        expected: Iterable[ReservationState],
        now: datetime,
    ) -> bool:
        """Move to `to` if the current state is one of `expected`; whether it moved."""
        result = await self._s.execute(
            update(ReservationRow)
            .where(ReservationRow.id == reservation_id, ReservationRow.state.in_(list(expected)))
            .values(state=to, update_time=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
