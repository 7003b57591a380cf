"""Tables of the user database. Only the user service reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shopmesh_kit.db import metadata_with_conventions
from sqlalchemy import JSON, CheckConstraint, DateTime, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = metadata_with_conventions()


class UserRow(Base):
    """A profile, keyed by the id of its account. `revision` counts changes
    (the etag); `shipping_addresses` is a JSON list of address objects."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("length(display_name) BETWEEN 1 AND 100", name="display_name"),
        CheckConstraint("revision >= 1", name="revision"),
        Index("ix_users_create_time_id", "create_time", "id"),
        Index("ix_users_email", "email"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(100))
    shipping_addresses: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revision: Mapped[int] = mapped_column(Integer)
