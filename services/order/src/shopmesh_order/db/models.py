"""Tables of the order database. Only the order service reads them."""

from __future__ import annotations

from datetime import datetime

from shopmesh_kit.db import metadata_with_conventions
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = metadata_with_conventions()


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("user_id", "request_id", name="user_request"),
        CheckConstraint("state IN ('PENDING', 'CONFIRMED', 'CANCELLED', 'REJECTED')", name="state"),
        CheckConstraint("total_cents IS NULL OR total_cents >= 0", name="total"),
        Index("ix_orders_user_id_create_time", "user_id", "create_time"),
        Index("ix_orders_state_create_time", "state", "create_time"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(36))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3), default="")
    total_cents: Mapped[int | None] = mapped_column(BigInteger)
    reject_reason: Mapped[str] = mapped_column(String(64), default="")
    release_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    reservation_committed: Mapped[bool] = mapped_column(Boolean, default=False)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderLineRow(Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity BETWEEN 1 AND 100", name="quantity"),)

    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(63))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int | None] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(200), default="")
