"""Tables of the product database. Only the product service reads them."""

from __future__ import annotations

from datetime import datetime

from shopmesh_kit.db import metadata_with_conventions
from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = metadata_with_conventions()


class ProductRow(Base):
    """A product; soft-deleted (`delete_time`) so old reservations keep their
    lines. `revision` is the etag: it changes on admin edits, not on stock moves."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_cents > 0", name="price_positive"),
        CheckConstraint("available_quantity >= 0", name="available_quantity_not_negative"),
        Index("ix_products_category", "category"),
        Index("ix_products_create_time", "create_time", "id"),
    )

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(5000))
    category: Mapped[str] = mapped_column(String(63))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    available_quantity: Mapped[int] = mapped_column(BigInteger)
    revision: Mapped[int] = mapped_column(Integer)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delete_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReservationRow(Base):
    """Stock held for one order; the id is the order id."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("state IN ('RESERVED', 'COMMITTED', 'RELEASED')", name="state"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReservationLineRow(Base):
    """One held line, with the product's price and name when it was reserved."""

    __tablename__ = "reservation_lines"
    __table_args__ = (
        CheckConstraint("quantity BETWEEN 1 AND 100", name="quantity_range"),
        Index("ix_reservation_lines_product_id", "product_id"),
    )

    reservation_id: Mapped[str] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(200))
