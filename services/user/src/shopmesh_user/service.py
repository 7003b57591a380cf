"""User use cases: get, list and update profiles; create one on registration."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from shopmesh_kit.db import Database, is_unique_violation
from shopmesh_kit.errors import InvalidArgument
from shopmesh_kit.pagination import (
    decode_page_token,
    encode_page_token,
    normalize_page_size,
    request_fingerprint,
)
from sqlalchemy.exc import IntegrityError

from shopmesh_user.db.models import UserRow
from shopmesh_user.db.repository import Users, profile_columns, to_user
from shopmesh_user.domain.errors import EtagMismatch, UserNotFound
from shopmesh_user.domain.filters import parse_filter
from shopmesh_user.domain.profiles import (
    ME,
    UPDATABLE,
    Profile,
    User,
    fields_to_update,
    normalize_email,
    normalize_profile,
    user_id_of,
    user_name,
    validate_new_user,
    validate_profile,
)

log = logging.getLogger("shopmesh.user")
USER = "user."  # the profile's field in CreateUserRequest and UpdateUserRequest


class UserService:
    def __init__(self, *, database: Database, clock: Callable[[], datetime]) -> None:
        self._db = database
        self._clock = clock

    async def get_user(self, name: str, *, caller: str) -> User:
        return await self._get(_resolve(name, "name", caller))

    async def list_users(
        self, page_size: int, page_token: str, filter_: str
    ) -> tuple[list[User], str]:
        """A page of profiles in creation order and the next page's token
        (empty on the last page)."""
        limit = normalize_page_size(page_size)
        parsed = parse_filter(filter_)
        fingerprint = request_fingerprint(filter_)
        after = None
        if page_token:
            after = _cursor(decode_page_token(page_token, fingerprint=fingerprint))
        async with self._db.session() as session:
            rows = await Users(session).page(parsed, after, limit + 1)
            users = [to_user(row) for row in rows[:limit]]
        next_token = ""
        if len(rows) > limit:
            last = users[-1]
            next_token = encode_page_token(
                {"t": last.create_time.isoformat(), "id": last.id}, fingerprint=fingerprint
            )
        return users, next_token

    async def update_user(
        self, name: str, profile: Profile, paths: Sequence[str], etag: str, *, caller: str
    ) -> User:
        """Change the fields named in `paths` (AIP-134). A non-empty `etag`
        must be the current one. Everything is validated before any write."""
        user_id = _resolve(name, USER + "name", caller)
        changed = fields_to_update(paths, profile)
        profile = normalize_profile(profile)
        validate_profile(profile, changed, prefix=USER)
        now = self._clock()
        async with self._db.write_session() as session:
            users = Users(session)
            row = await users.by_id(user_id, for_update=True)
            if row is None:
                raise UserNotFound(user_name(user_id))
            current = to_user(row)
            if etag and etag != current.etag:
                raise EtagMismatch(current.name)
            if not changed:
                return current
            # The lock above serializes writers; the revision check is the
            # last line of defence should anything bypass it.
            if not await users.update(
                user_id, row.revision, profile_columns(profile, changed), now
            ):
                raise EtagMismatch(current.name)
            await session.commit()
        values = {f: getattr(profile, f) for f in changed}
        return replace(
            current,
            profile=replace(current.profile, **values),
            update_time=now,
            revision=current.revision + 1,
        )

    async def create_user(self, user_id: str, email: str, profile: Profile) -> User:
        """Create the profile of a new account. Idempotent on `user_id`: when
        it exists (a retry, or a concurrent create) it is returned unchanged."""
        email = normalize_email(email)
        profile = normalize_profile(profile)
        validate_new_user(user_id, email, profile, prefix=USER)
        now = self._clock()
        row = UserRow(
            id=user_id,
            email=email,
            **profile_columns(profile, UPDATABLE),
            create_time=now,
            update_time=now,
            revision=1,
        )
        if not await self._insert(row):  # it exists: a retry, or a concurrent create won
            return await self._get(user_id)
        log.info("profile created", extra={"user_id": user_id})
        return to_user(row)

    async def _get(self, user_id: str) -> User:
        async with self._db.session() as session:
            row = await Users(session).by_id(user_id)
            if row is None:
                raise UserNotFound(user_name(user_id))
            return to_user(row)

    async def _insert(self, row: UserRow) -> bool:
        """False when a profile with this id exists."""
        async with self._db.session() as session:
            Users(session).add(row)
            try:
                await session.commit()
            except IntegrityError as exc:
                if is_unique_violation(exc):
                    return False
                raise
        return True


def _resolve(name: str, field: str, caller: str) -> str:
    user_id = user_id_of(name, field)
    return caller if user_id == ME else user_id


def _cursor(cursor: dict[str, Any]) -> tuple[datetime, str]:
    """The keyset of a decoded page token; tokens are not signed, so checked."""
    try:
        create_time = datetime.fromisoformat(cursor["t"])
        user_id = cursor["id"]
    except (KeyError, TypeError, ValueError):
        raise InvalidArgument.field("page_token", "is not a valid page token") from None
    if create_time.tzinfo is None or not isinstance(user_id, str):
        raise InvalidArgument.field("page_token", "is not a valid page token")
    return create_time, user_id
