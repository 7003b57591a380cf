"""The signing key ring: the current key signs, every published key verifies.

Keys live in the auth database so every replica signs with the same key.
A new key is made when the current one is older than the rotation interval;
the old one is retired but stays published until every token it signed has
expired.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import jwt
from shopmesh_kit.db import Database, as_utc

from shopmesh_auth.db.models import SigningKeyRow
from shopmesh_auth.db.repository import SigningKeys
from shopmesh_auth.security.keys import ALGORITHM, SigningKey


class KeyRing:
    def __init__(
        self,
        database: Database,
        *,
        rotation_interval: timedelta,
        max_token_ttl: timedelta,
        passphrase: bytes | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = database
        self._rotation_interval = rotation_interval
        self._max_token_ttl = max_token_ttl
        self._passphrase = passphrase
        self._clock = clock
        self._keys: list[SigningKey] = []
        self._lock = asyncio.Lock()

    @property
    def current(self) -> SigningKey:
        if not self._keys:
            raise RuntimeError("key ring not loaded")
        return self._keys[0]

    def jwks(self) -> list[dict[str, str]]:
        return [key.public_jwk() for key in self._keys]

    async def get_key(self, kid: str) -> jwt.PyJWK | None:
        """KeySource for verifying tokens inside the auth service itself."""
        for key in self._keys:
            if key.kid == kid:
                return jwt.PyJWK(key.public_jwk(), algorithm=ALGORITHM)
        return None

    async def load(self) -> None:
        """Load the ring, first making a new key when none is active or the
        current one is due for rotation."""
        await self._refresh(force_rotation=False)

    async def rotate(self) -> None:
        """Make a new current key now (for example after a suspected leak);
        the previous keys stay published until their tokens expire."""
        await self._refresh(force_rotation=True)

    async def _refresh(self, *, force_rotation: bool) -> None:
        async with self._lock:
            now = self._clock()
            async with self._db.write_session() as session:
                repo = SigningKeys(session)
                rows = await repo.published(now - self._max_token_ttl)
                active = [r for r in rows if r.retire_time is None]
                due = not active or now - as_utc(active[0].create_time) >= self._rotation_interval
                if force_rotation or due:
                    fresh = SigningKey.generate(now)
                    repo.add(
                        SigningKeyRow(
                            kid=fresh.kid,
                            private_pem=fresh.to_pem(self._passphrase),
                            create_time=now,
                            retire_time=None,
                        )
                    )
                    await session.flush()
                    await repo.retire_all_but(fresh.kid, now)
                    await session.commit()
                    rows = await repo.published(now - self._max_token_ttl)
            loaded = {key.kid: key.private_key for key in self._keys}
            keys = [
                SigningKey(
                    kid=row.kid,
                    private_key=loaded.get(row.kid)
                    or SigningKey.load_private_key(row.private_pem, self._passphrase),
                    create_time=as_utc(row.create_time),
                    retire_time=as_utc(row.retire_time) if row.retire_time else None,
                )
                for row in rows
            ]
            keys.sort(key=lambda k: (k.retire_time is None, k.create_time), reverse=True)
            self._keys = keys
