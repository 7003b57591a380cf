"""Queries of the user database, one session (unit of work) per call site."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from shopmesh_kit.db import as_utc
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopmesh_user.db.models import UserRow
from shopmesh_user.domain.filters import UserFilter
from shopmesh_user.domain.profiles import Address, Profile, User, make_address


def address_to_json(address: Address) -> dict[str, Any]:
    """Only the fields that are set, so the stored JSON stays small."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(address).items() if v}


def address_from_json(data: dict[str, Any]) -> Address:
    return make_address(data)


def to_user(row: UserRow) -> User:
    return User(
        id=row.id,
        email=row.email,
        profile=Profile(
            display_name=row.display_name,
            shipping_addresses=tuple(address_from_json(a) for a in row.shipping_addresses),
        ),
        create_time=as_utc(row.create_time),
        update_time=as_utc(row.update_time),
        revision=row.revision,
    )


def profile_columns(profile: Profile, changed: Sequence[str]) -> dict[str, Any]:
    """Column values of the `changed` profile fields."""
    values: dict[str, Any] = {
        "display_name": profile.display_name,
        "shipping_addresses": [address_to_json(a) for a in profile.shipping_addresses],
    }
    return {column: values[column] for column in changed}


class Users:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def by_id(self, user_id: str, *, for_update: bool = False) -> UserRow | None:
        query = select(UserRow).where(UserRow.id == user_id)
        if for_update:
            query = query.with_for_update()
        return await self._s.scalar(query)

    def add(self, row: UserRow) -> None:
        self._s.add(row)

    async def update(
        self, user_id: str, revision: int, values: dict[str, Any], now: datetime
    ) -> bool:
        """Apply `values` and bump the revision if it is still `revision`;
        False when someone else changed the profile first."""
        result = await self._s.execute(
            update(UserRow)
            .where(UserRow.id == user_id, UserRow.revision == revision)
            .values(**values, update_time=now, revision=revision + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def page(
        self, filter_: UserFilter, after: tuple[datetime, str] | None, limit: int
    ) -> Sequence[UserRow]:
        """Up to `limit` profiles in (create_time, id) order, after the keyset `after`."""
        query = select(UserRow).order_by(UserRow.create_time, UserRow.id).limit(limit)
        if filter_.email is not None:
            query = query.where(UserRow.email == filter_.email)
        if filter_.text is not None:
            query = query.where(
                or_(
                    UserRow.display_name.icontains(filter_.text, autoescape=True),
                    UserRow.email.icontains(filter_.text, autoescape=True),
                )
            )
        if after is not None:
            create_time, user_id = after
            query = query.where(
                or_(
                    UserRow.create_time > create_time,
                    and_(UserRow.create_time == create_time, UserRow.id > user_id),
                )
            )
        return (await self._s.scalars(query)).all()
