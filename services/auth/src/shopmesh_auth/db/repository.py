"""Queries of the auth database, one session (unit of work) per call site."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shopmesh_kit.db import as_utc
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shopmesh_auth.db.models import AccountRow, RefreshTokenRow, SigningKeyRow
from shopmesh_auth.domain.accounts import Account, AccountStatus


def to_account(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        roles=tuple(r for r in row.roles.split(",") if r),
        status=AccountStatus(row.status),
        password_hash=row.password_hash,
        create_time=as_utc(row.create_time),
    )


class Accounts:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def by_email(self, email: str) -> AccountRow | None:
        return await self._s.scalar(select(AccountRow).where(AccountRow.email == email))

    async def by_id(self, account_id: str) -> AccountRow | None:
        return await self._s.get(AccountRow, account_id)

    def add(self, row: AccountRow) -> None:
        self._s.add(row)

    async def pending_ids(self, limit: int) -> Sequence[str]:
        rows = await self._s.scalars(
            select(AccountRow.id)
            .where(AccountRow.status == AccountStatus.PENDING)
            .order_by(AccountRow.create_time)
            .limit(limit)
        )
        return rows.all()

    async def activate(self, account_id: str) -> None:
        await self._s.execute(
            update(AccountRow)
            .where(AccountRow.id == account_id)
            .values(status=AccountStatus.ACTIVE)
        )


class RefreshTokens:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def by_hash(self, token_hash: str) -> RefreshTokenRow | None:
        return await self._s.scalar(
            select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
        )

    def add(self, row: RefreshTokenRow) -> None:
        self._s.add(row)

    async def claim(self, token_id: str, now: datetime) -> bool:
        """Mark a token used if nobody did yet; False means it was reused."""
        result = await self._s.execute(
            update(RefreshTokenRow)
            .where(
                RefreshTokenRow.id == token_id,
                RefreshTokenRow.use_time.is_(None),
                RefreshTokenRow.revoke_time.is_(None),
            )
            .values(use_time=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_family(self, family_id: str, now: datetime) -> None:
        await self._s.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.family_id == family_id, RefreshTokenRow.revoke_time.is_(None))
            .values(revoke_time=now)
            .execution_options(synchronize_session=False)
        )


class SigningKeys:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def published(self, retired_after: datetime) -> Sequence[SigningKeyRow]:
        """Active keys, and retired keys whose tokens may still be valid."""
        rows = await self._s.scalars(
            select(SigningKeyRow)
            .where(
                or_(SigningKeyRow.retire_time.is_(None), SigningKeyRow.retire_time > retired_after)
            )
            .order_by(SigningKeyRow.create_time.desc())
        )
        return rows.all()

    def add(self, row: SigningKeyRow) -> None:
        self._s.add(row)

    async def retire_all_but(self, kid: str, now: datetime) -> None:
        await self._s.execute(
            update(SigningKeyRow)
            .where(SigningKeyRow.kid != kid, SigningKeyRow.retire_time.is_(None))
            .values(retire_time=now)
            .execution_options(synchronize_session=False)
        )
