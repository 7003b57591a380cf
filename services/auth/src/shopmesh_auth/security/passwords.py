"""argon2id password hashing, off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet minimum for argon2id: m=19 MiB, t=2, p=1.
OWASP_MEMORY_KIB = 19_456
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1


class PasswordHasher:
    """argon2id with parameters at or above OWASP's minimum. Hashing runs in
    a worker thread so logins never block the event loop."""

    def __init__(
        self,
        *,
        memory_kib: int = OWASP_MEMORY_KIB,
        time_cost: int = OWASP_TIME_COST,
        parallelism: int = OWASP_PARALLELISM,
    ) -> None:
        if memory_kib < OWASP_MEMORY_KIB or time_cost < OWASP_TIME_COST or parallelism < 1:
            raise ValueError("argon2id parameters below the OWASP minimum")
        self._hasher = _Argon2(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # Verified against when the email is unknown, so both paths cost the same.
        self._dummy_hash = self._hasher.hash("shopmesh-dummy-password")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant work whether or not the account exists (pass None)."""
        target = password_hash or self._dummy_hash
        try:
            await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
