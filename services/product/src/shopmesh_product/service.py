"""Product use cases: the catalog (browse, admin edits) and stock
reservation for orders."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from shopmesh_kit.db import Database, is_unique_violation
from shopmesh_kit.errors import Aborted, InvalidArgument
from shopmesh_kit.pagination import normalize_page_size, request_fingerprint
from sqlalchemy.exc import IntegrityError

from shopmesh_product.cache import ProductCache
from shopmesh_product.db.models import ProductRow
from shopmesh_product.db.repository import Products, Reservations, to_product
from shopmesh_product.demo import DEMO_CATALOG
from shopmesh_product.domain.errors import (
    EtagMismatch,
    OutOfStock,
    ProductExists,
    ProductNotFound,
    ReservationNotFound,
    ReservationReleased,
    StockReserved,
)
from shopmesh_product.domain.listing import (
    decode_cursor,
    encode_cursor,
    parse_filter,
    parse_order_by,
)
from shopmesh_product.domain.products import (
    Product,
    ProductFields,
    new_product_id,
    parse_product_name,
    product_name,
    revision_of,
    validate_fields,
    validate_quantity,
)
from shopmesh_product.domain.reservations import (
    LineRequest,
    Reservation,
    ReservationLine,
    ReservationState,
    parse_reservation_name,
    validate_reservation,
)

log = logging.getLogger("shopmesh.product")

RESERVED, COMMITTED, RELEASED = (
    ReservationState.RESERVED,
    ReservationState.COMMITTED,
    ReservationState.RELEASED,
)


@dataclass(frozen=True)
class ProductPage:
    products: list[Product]
    next_page_token: str


class Catalog:
    """Products: anyone reads them, admins change them."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], datetime],
        cache: ProductCache | None = None,
    ) -> None:
        self._db = database
        self._clock = clock
        self._cache = cache or ProductCache(ttl=0)

    async def get(self, name: str) -> Product:
        product_id = parse_product_name(name, "name")
        cached = self._cache.get(product_id)
        if cached is not None:
            return cached
        stamp = self._cache.stamp(product_id)
        async with self._db.session() as session:
            row = await Products(session).get(product_id)
            if row is None:
                raise ProductNotFound(name)
            product = to_product(row)
        self._cache.put(product_id, product, stamp)
        return product

    async def list(
        self, *, page_size: int, page_token: str, filter: str, order_by: str
    ) -> ProductPage:
        size = normalize_page_size(page_size)
        conditions = parse_filter(filter)
        order = parse_order_by(order_by)
        fingerprint = request_fingerprint(filter, order_by)
        after = decode_cursor(page_token, order, fingerprint=fingerprint) if page_token else None
        async with self._db.session() as session:
            rows = await Products(session).page(conditions, order, after, size + 1)
        products = [to_product(row) for row in rows[:size]]
        more = len(rows) > size
        token = encode_cursor(products[-1], order, fingerprint=fingerprint) if more else ""
        return ProductPage(products, token)

    async def create(
        self, fields: ProductFields, *, product_id: str, initial_quantity: int
    ) -> Product:
        fields = ProductFields(
            display_name=fields.display_name or "",
            description=fields.description or "",
            category=fields.category or "",
            price_cents=fields.price_cents or 0,
        )
        validate_fields(fields)
        validate_quantity(initial_quantity, "initial_quantity", minimum=0)
        product_id = new_product_id(product_id)
        now = self._clock()
        row = ProductRow(
            id=product_id,
            **fields.values(),
            available_quantity=initial_quantity,
            revision=1,
            create_time=now,
            update_time=now,
            delete_time=None,
        )
        try:
            async with self._db.session() as session:
                Products(session).add(row)
                await session.commit()
        except IntegrityError as exc:
            if is_unique_violation(exc):  # deleted products keep their ids too
                raise ProductExists(product_name(product_id)) from None
            raise
        log.info("product created", extra={"product_id": product_id})
        return to_product(row)

    async def update(self, name: str, fields: ProductFields, *, etag: str) -> Product:
        """Set the given fields; with an etag, only if nobody changed the product since."""
        product_id = parse_product_name(name, "product.name")
        values = fields.values()
        if not values:
            raise InvalidArgument.field("update_mask", "names no field to update")
        validate_fields(fields)
        revision = revision_of(etag) if etag else None
        async with self._db.write_session() as session:
            products = Products(session)
            row = await products.update_fields(product_id, values, revision, self._clock())
            if row is not None:
                product = to_product(row)
                await session.commit()
                self._cache.evict([product_id])
                return product
            exists = await products.get(product_id) is not None
        raise EtagMismatch(name) if exists else ProductNotFound(name)

    async def delete(self, name: str, *, etag: str) -> None:
        """Soft delete; refused while a RESERVED reservation holds the product.
        The row lock makes a concurrent ReserveStock wait or fail, not slip in."""
        product_id = parse_product_name(name, "name")
        async with self._db.write_session() as session:
            products = Products(session)
            row = await products.lock(product_id)
            if row is None:
                raise ProductNotFound(name)
            if etag and revision_of(etag) != row.revision:
                raise EtagMismatch(name)
            if await products.has_reserved_lines(product_id):
                raise StockReserved(name)
            row.delete_time = row.update_time = self._clock()
            await session.commit()
        self._cache.evict([product_id])
        log.info("product deleted", extra={"product_id": product_id})

    async def restock(self, name: str, quantity: int) -> Product:
        product_id = parse_product_name(name, "name")
        validate_quantity(quantity, "quantity", minimum=1)
        async with self._db.write_session() as session:
            row = await Products(session).restock(product_id, quantity, self._clock())
            if row is None:
                raise ProductNotFound(name)
            product = to_product(row)
            await session.commit()
        self._cache.evict([product_id])
        return product

    async def seed_demo(self) -> int:
        """Fill an empty catalog with the demo products; how many were added.
        Replicas starting together may race: the loser adds nothing."""
        now = self._clock()
        try:
            async with self._db.write_session() as session:
                products = Products(session)
                if await products.any():
                    return 0
                for item in DEMO_CATALOG:
                    products.add(
                        ProductRow(
                            id=item.id,
                            display_name=item.display_name,
                            description=item.description,
                            category=item.category,
                            price_cents=item.price_cents,
                            available_quantity=item.quantity,
                            revision=1,
                            create_time=now,
                            update_time=now,
                            delete_time=None,
                        )
                    )
                await session.commit()
        except IntegrityError as exc:
            if is_unique_violation(exc):
                return 0
            raise
        log.info("demo catalog seeded", extra={"products": len(DEMO_CATALOG)})
        return len(DEMO_CATALOG)


class _ShortLine(Exception):
    """A line could not be met; rolls the reservation back."""

    def __init__(self, index: int) -> None:
        self.index = index


class Stock:
    """Stock held for orders. Every method is idempotent on the reservation
    id (the order id). Locks are taken in one order everywhere: the
    reservation row, then product rows by id, so PostgreSQL never deadlocks."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], datetime],
        cache: ProductCache | None = None,
    ) -> None:
        self._db = database
        self._clock = clock
        self._cache = cache or ProductCache(ttl=0)

    async def reserve(self, reservation_id: str, lines: Sequence[LineRequest]) -> Reservation:
        """Hold every line or none. An existing reservation with this id is
        returned as it is, whatever its state (a RELEASED tombstone included)."""
        validate_reservation(reservation_id, lines)
        existing = await self._find(reservation_id)
        if existing is not None:
            return existing
        now = self._clock()
        try:
            async with self._db.write_session() as session:
                reservations = Reservations(session)
                # First: a concurrent twin fails here (or waits for the winner) before
                # touching stock, and the lock order matches ReleaseReservation's.
                await reservations.insert(reservation_id, RESERVED, now)
                products = Products(session)
                held = []
                for index, line in sorted(enumerate(lines), key=lambda item: item[1].product_id):
                    taken = await products.take(line.product_id, line.quantity)
                    if taken is None:
                        raise _ShortLine(index)
                    held.append(ReservationLine(line.product_id, line.quantity, *taken))
                await reservations.add_lines(reservation_id, held)
                await session.commit()
            self._cache.evict(line.product_id for line in held)
        except _ShortLine as short:
            raise await self._refusal(lines, short.index) from None
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            existing = await self._find(reservation_id)  # the twin that won
            if existing is None:
                raise
            return existing
        log.info("stock reserved", extra={"reservation_id": reservation_id})
        return Reservation(reservation_id, RESERVED, tuple(held), now, now)

    async def _refusal(self, lines: Sequence[LineRequest], index: int) -> Exception:
        """Why line `index` could not be met, checked after the rollback."""
        line = lines[index]
        async with self._db.session() as session:
            product = await Products(session).get(line.product_id)
        if product is None:
            return InvalidArgument(
                f"{line.product} does not exist",
                violations=[(f"lines[{index}].product", "does not exist")],
            )
        return OutOfStock(line.product)

    async def get(self, name: str) -> Reservation:
        reservation = await self._find(parse_reservation_name(name))
        if reservation is None:
            raise ReservationNotFound(name)
        return reservation

    async def commit(self, name: str) -> Reservation:
        """RESERVED -> COMMITTED; committing again returns it unchanged."""
        reservation_id = parse_reservation_name(name)
        async with self._db.write_session() as session:
            reservations = Reservations(session)
            await reservations.change_state(
                reservation_id, COMMITTED, expected=[RESERVED], now=self._clock()
            )
            reservation = await reservations.load(reservation_id)
            await session.commit()
        if reservation is None:
            raise ReservationNotFound(name)
        if reservation.state == RELEASED:
            raise ReservationReleased(name)
        return reservation

    async def release(self, name: str) -> bool:
        """Return the stock of a RESERVED or COMMITTED reservation, exactly
        once; True when this call returned it. An unknown id gets a RELEASED
        tombstone, so a late ReserveStock for it takes nothing."""
        reservation_id = parse_reservation_name(name)
        for _ in range(2):
            try:
                return await self._release(reservation_id)
            except IntegrityError as exc:
                # A ReserveStock created it between our UPDATE and INSERT:
                # go again, and release what it reserved.
                if not is_unique_violation(exc):
                    raise
        raise Aborted("the reservation changed concurrently; retry")

    async def _release(self, reservation_id: str) -> bool:
        now = self._clock()
        async with self._db.write_session() as session:
            reservations = Reservations(session)
            released = await reservations.change_state(
                reservation_id, RELEASED, expected=[RESERVED, COMMITTED], now=now
            )
            if released:
                reservation = await reservations.load(reservation_id)
                products = Products(session)
                lines = reservation.lines if reservation else ()
                for line in lines:  # sorted by product id
                    await products.give_back(line.product_id, line.quantity)
                log.info("stock released", extra={"reservation_id": reservation_id})
            elif await reservations.state(reservation_id) is None:
                await reservations.insert(reservation_id, RELEASED, now)
            await session.commit()
        if released:
            self._cache.evict(line.product_id for line in lines)
        return released

    async def _find(self, reservation_id: str) -> Reservation | None:
        async with self._db.session() as session:
            return await Reservations(session).load(reservation_id)
