"""Auth use cases: register, login, refresh, revoke, JWKS, service tokens."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from shopmesh_kit.auth import SERVICE, SERVICE_SUBJECT_PREFIX
from shopmesh_kit.db import Database, as_utc, is_unique_violation
from sqlalchemy.exc import IntegrityError

from shopmesh_auth.db.models import AccountRow, RefreshTokenRow
from shopmesh_auth.db.repository import Accounts, RefreshTokens, to_account
from shopmesh_auth.domain.accounts import (
    Account,
    AccountStatus,
    Role,
    normalize_email,
    validate_password_length,
    validate_registration,
)
from shopmesh_auth.domain.errors import (
    EmailTaken,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidServiceCredentials,
    LoginThrottled,
    RefreshTokenReused,
)
from shopmesh_auth.domain.throttle import FailureWindow
from shopmesh_auth.keyring import KeyRing
from shopmesh_auth.security.keys import TokenIssuer
from shopmesh_auth.security.passwords import PasswordHasher

log = logging.getLogger("shopmesh.auth")


class UserDirectory(Protocol):
    """The user service, as registration needs it. Idempotent on `user_id`."""

    async def create_profile(self, user_id: str, email: str, display_name: str) -> None: ...


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    account: Account


@dataclass(frozen=True)
class AuthPolicy:
    access_token_ttl: timedelta
    refresh_token_ttl: timedelta
    service_token_ttl: timedelta
    account_failure_limit: int = 5
    client_failure_limit: int = 20
    failure_window_seconds: float = 900.0


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    def __init__(
        self,
        *,
        database: Database,
        users: UserDirectory,
        hasher: PasswordHasher,
        keys: KeyRing,
        issuer: TokenIssuer,
        policy: AuthPolicy,
        service_secrets: Mapping[str, str],
        clock: Callable[[], datetime],
    ) -> None:
        self._db = database
        self._users = users
        self._hasher = hasher
        self._keys = keys
        self._issuer = issuer
        self._policy = policy
        self._service_secrets = dict(service_secrets)
        self._clock = clock
        self._account_failures = FailureWindow(
            policy.account_failure_limit, policy.failure_window_seconds
        )
        self._client_failures = FailureWindow(
            policy.client_failure_limit, policy.failure_window_seconds
        )

    # ------------------------------------------------------------ registration

    async def register(self, email: str, password: str, display_name: str) -> Account:
        """Create a customer account and its profile. The account stays
        PENDING (unable to log in) until the profile exists, so a failed
        registration leaves nothing usable behind. Retrying with the same
        email and password completes it; another password gets EMAIL_TAKEN."""
        email = normalize_email(email)
        display_name = display_name.strip()
        validate_registration(email, password, display_name)
        account = await self._existing_registration(email, password)
        if account is None:
            account = await self._store_pending(
                email, await self._hasher.hash(password), display_name
            )
            if account is None:  # a concurrent registration of this email won
                account = await self._existing_registration(email, password)
                if account is None:
                    raise EmailTaken()
        return await self._complete(account)

    async def _existing_registration(self, email: str, password: str) -> Account | None:
        """The pending account a retry may complete; None when there is none.
        Raises EmailTaken for an active account or another password."""
        async with self._db.session() as session:
            row = await Accounts(session).by_email(email)
            if row is None:
                return None
            account = to_account(row)
        if account.status == AccountStatus.ACTIVE:
            raise EmailTaken()
        if not await self._hasher.verify(account.password_hash, password):
            raise EmailTaken()
        return account

    async def _store_pending(
        self, email: str, password_hash: str, display_name: str
    ) -> Account | None:
        row = AccountRow(
            id=str(uuid.uuid4()),
            email=email,
            display_name=display_name,
            password_hash=password_hash,
            roles=Role.CUSTOMER.value,
            status=AccountStatus.PENDING,
            create_time=self._clock(),
        )
        async with self._db.session() as session:
            Accounts(session).add(row)
            try:
                await session.commit()
            except IntegrityError as exc:
                if is_unique_violation(exc):
                    return None
                raise
        return to_account(row)

    async def _complete(self, account: Account) -> Account:
        await self._users.create_profile(account.id, account.email, account.display_name)
        async with self._db.session() as session:
            await Accounts(session).activate(account.id)
            await session.commit()
        log.info("account registered", extra={"account_id": account.id})
        return replace(account, status=AccountStatus.ACTIVE)

    async def complete_pending(self, limit: int = 100) -> int:
        """Finish registrations whose profile creation failed; returns how
        many were completed. Run periodically and at start."""
        async with self._db.session() as session:
            ids = await Accounts(session).pending_ids(limit)
        done = 0
        for account_id in ids:
            async with self._db.session() as session:
                row = await Accounts(session).by_id(account_id)
                if row is None or row.status != AccountStatus.PENDING:
                    continue
                account = to_account(row)
            try:
                await self._complete(account)
                done += 1
            except Exception:
                log.warning("profile creation still failing", extra={"account_id": account_id})
                break
        return done

    async def seed_admin(self, email: str, password: str) -> Account:
        """Make sure an admin account with this email and password exists.
        Idempotent; the password given wins over a stored one."""
        email = normalize_email(email)
        validate_registration(email, password, "Administrator")
        async with self._db.session() as session:
            row = await Accounts(session).by_email(email)
            if (
                row is not None
                and Role.ADMIN in row.roles.split(",")
                and row.status == AccountStatus.ACTIVE
                and await self._hasher.verify(row.password_hash, password)
            ):
                return to_account(row)
        password_hash = await self._hasher.hash(password)
        async with self._db.write_session() as session:
            accounts = Accounts(session)
            row = await accounts.by_email(email)
            if row is None:
                row = AccountRow(
                    id=str(uuid.uuid4()),
                    email=email,
                    display_name="Administrator",
                    roles="",
                    create_time=self._clock(),
                    status=AccountStatus.PENDING,
                )
                accounts.add(row)
            row.password_hash = password_hash
            row.roles = ",".join(sorted({*row.roles.split(","), Role.ADMIN} - {""}))
            await session.commit()
            account = to_account(row)
        if account.status == AccountStatus.PENDING:
            account = await self._complete(account)
        return account

    # ------------------------------------------------------------ login

    async def login(self, email: str, password: str, client: str) -> TokenPair:
        """Unknown email and wrong password cost the same and fail alike.
        Failures are throttled per account (email) and per client."""
        email = normalize_email(email)
        validate_password_length(password)
        for window, key in ((self._account_failures, email), (self._client_failures, client)):
            wait = window.retry_after(key)
            if wait is not None:
                raise LoginThrottled(wait)
        async with self._db.session() as session:
            row = await Accounts(session).by_email(email)
            account = to_account(row) if row is not None else None
        usable = account is not None and account.status == AccountStatus.ACTIVE
        ok = await self._hasher.verify(
            account.password_hash if usable and account else None, password
        )
        if not ok or account is None:
            self._account_failures.record_failure(email)
            self._client_failures.record_failure(client)
            raise InvalidCredentials()
        self._account_failures.reset(email)
        if self._hasher.needs_rehash(account.password_hash):
            await self._rehash(account.id, password)
        return await self._issue_pair(account, family_id=str(uuid.uuid4()))

    async def _rehash(self, account_id: str, password: str) -> None:
        new_hash = await self._hasher.hash(password)
        async with self._db.write_session() as session:
            row = await Accounts(session).by_id(account_id)
            if row is not None:
                row.password_hash = new_hash
                await session.commit()

    async def _issue_pair(self, account: Account, family_id: str) -> TokenPair:
        now = self._clock()
        refresh_token = secrets.token_urlsafe(32)
        async with self._db.session() as session:
            RefreshTokens(session).add(
                RefreshTokenRow(
                    id=str(uuid.uuid4()),
                    token_hash=_hash_token(refresh_token),
                    account_id=account.id,
                    family_id=family_id,
                    create_time=now,
                    expire_time=now + self._policy.refresh_token_ttl,
                    use_time=None,
                    revoke_time=None,
                )
            )
            await session.commit()
        ttl = self._policy.access_token_ttl
        access = self._issuer.sign(
            self._keys.current, subject=account.id, roles=account.roles, ttl=ttl, now=now
        )
        return TokenPair(access, refresh_token, int(ttl.total_seconds()), account)

    # ------------------------------------------------------------ refresh tokens

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is spent and a new pair issued. A spent
        token presented again revokes its whole family."""
        now = self._clock()
        async with self._db.write_session() as session:
            tokens = RefreshTokens(session)
            row = await tokens.by_hash(_hash_token(refresh_token))
            if row is None or row.revoke_time is not None or as_utc(row.expire_time) <= now:
                raise InvalidRefreshToken()
            if not await tokens.claim(row.id, now):
                await tokens.revoke_family(row.family_id, now)
                await session.commit()
                log.warning("refresh token reuse", extra={"family_id": row.family_id})
                raise RefreshTokenReused()
            account_row = await Accounts(session).by_id(row.account_id)
            if account_row is None or account_row.status != AccountStatus.ACTIVE:
                raise InvalidRefreshToken()
            account = to_account(account_row)
            family_id = row.family_id
            await session.commit()
        return await self._issue_pair(account, family_id)

    async def revoke(self, refresh_token: str) -> None:
        """Revoke the token's family. Unknown tokens are ignored (RFC 7009)."""
        async with self._db.write_session() as session:
            tokens = RefreshTokens(session)
            row = await tokens.by_hash(_hash_token(refresh_token))
            if row is not None:
                await tokens.revoke_family(row.family_id, self._clock())
                await session.commit()

    # ------------------------------------------------------------ keys

    def jwks(self) -> list[dict[str, str]]:
        return self._keys.jwks()

    async def issue_service_token(self, service: str, secret: str) -> tuple[str, int]:
        expected = self._service_secrets.get(service)
        if expected is None or not hmac.compare_digest(expected.encode(), secret.encode()):
            raise InvalidServiceCredentials()
        return self.mint_service_token(service)

    def mint_service_token(self, service: str) -> tuple[str, int]:
        """A service token signed here, for this service's own outbound calls."""
        ttl = self._policy.service_token_ttl
        token = self._issuer.sign(
            self._keys.current,
            subject=SERVICE_SUBJECT_PREFIX + service,
            roles=[SERVICE],
            ttl=ttl,
            now=self._clock(),
        )
        return token, int(ttl.total_seconds())
