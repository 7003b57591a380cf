"""Caller identity: JWT verification against the auth service's JWKS, and
the per-method access rules every service declares.

Tokens are ES256 JWTs signed by the auth service. Verification pins the
algorithm, requires `iss`, `aud`, `exp`, `nbf`, `iat` and `sub`, and looks the
key up by `kid` in a JWKS that is cached and refreshed when an unknown `kid`
shows up (key rotation).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message

from shopmesh_kit.errors import Unauthenticated, Unavailable

ALGORITHM = "ES256"
ADMIN = "admin"
CUSTOMER = "customer"
SERVICE = "service"
SERVICE_SUBJECT_PREFIX = "services/"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account (`subject` is its id) or a workload
    (`subject` is `services/{name}`)."""

    subject: str
    roles: frozenset[str]
    token_id: str = ""

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def is_service(self) -> bool:
        return SERVICE in self.roles and self.subject.startswith(SERVICE_SUBJECT_PREFIX)

    @property
    def service_name(self) -> str | None:
        return self.subject.removeprefix(SERVICE_SUBJECT_PREFIX) if self.is_service else None


_principal: ContextVar[Principal | None] = ContextVar("shopmesh_principal", default=None)


def current_principal() -> Principal | None:
    """The caller of the RPC being served, or None when anonymous."""
    return _principal.get()


def set_principal(principal: Principal | None) -> None:
    _principal.set(principal)


# ---------------------------------------------------------------- keys


class KeySource(Protocol):
    """Looks up a verification key by `kid`; None when unknown."""

    async def get_key(self, kid: str) -> jwt.PyJWK | None: ...


JwksFetcher = Callable[[], Awaitable[Mapping[str, Any]]]


class JwksCache:
    """Keys from a JWKS, cached for `ttl` seconds. An unknown `kid` triggers
    a refresh, at most once per `min_refresh_interval`, so a rotated key is
    picked up without letting garbage `kid`s hammer the auth service."""

    def __init__(
        self,
        fetch: JwksFetcher,
        *,
        ttl: float = 300.0,
        min_refresh_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._min_refresh_interval = min_refresh_interval
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at = float("-inf")  # end of the last refresh, even a failed one
        self._lock = asyncio.Lock()

    async def get_key(self, kid: str) -> jwt.PyJWK | None:
        now = self._clock()
        stale = self._fetched_at is None or now - self._fetched_at > self._ttl
        unknown = kid not in self._keys
        may_refresh = now - self._attempted_at >= self._min_refresh_interval
        if self._fetched_at is None or ((stale or unknown) and may_refresh):
            await self._refresh(now)
        return self._keys.get(kid)

    async def _refresh(self, started: float) -> None:
        async with self._lock:
            if self._fetched_at is not None and self._attempted_at >= started:
                return  # another caller refreshed (or tried to) while we waited
            try:
                jwks = await self._fetch()
            except Exception as exc:
                self._attempted_at = self._clock()
                if self._fetched_at is None:
                    raise Unavailable("token keys are unavailable") from exc
                return  # keep serving the keys we have
            self._keys = parse_jwks(jwks)
            self._fetched_at = self._attempted_at = self._clock()


def public_jwk(public_key: ec.EllipticCurvePublicKey, kid: str) -> dict[str, str]:
    """The JWK (RFC 7517/7518) of a P-256 verification key, as a JWKS lists it."""
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "kid": kid,
        "use": "sig",
        "alg": ALGORITHM,
        "crv": "P-256",
        "x": _b64_coordinate(numbers.x),
        "y": _b64_coordinate(numbers.y),
    }


def _b64_coordinate(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()


def parse_jwks(jwks: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """The ES256 signing keys of a JWK Set, by `kid`; other keys are skipped."""
    keys: dict[str, jwt.PyJWK] = {}
    for data in jwks.get("keys", []):
        if (
            data.get("kty") != "EC"
            or data.get("alg", ALGORITHM) != ALGORITHM
            or not data.get("kid")
        ):
            continue
        keys[data["kid"]] = jwt.PyJWK(dict(data), algorithm=ALGORITHM)
    return keys


# ---------------------------------------------------------------- verification


class TokenVerifier:
    """Verifies bearer tokens and returns the Principal they carry."""

    def __init__(
        self, keys: KeySource, *, issuer: str, audience: str, leeway_seconds: float = 30.0
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("token algorithm is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("token has no key id")
        key = await self._keys.get_key(kid)
        if key is None:
            raise Unauthenticated("token signing key is unknown")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired", reason="TOKEN_EXPIRED") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid token") from exc
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated("invalid token")
        return Principal(
            subject=str(claims["sub"]), roles=frozenset(roles), token_id=str(claims.get("jti", ""))
        )


# ---------------------------------------------------------------- access rules


@dataclass(frozen=True)
class Rule:
    """Who may call one method.

    - `public`: anyone, with or without a token.
    - `roles`: callers holding any of these roles.
    - `owner_field`: also the owner, i.e. a caller whose id is the `users/{id}`
      segment of the resource name in this (dotted) request field; `users/me`
      names the caller.
    - `services`: for the `service` role, the workload names allowed.
    """

    public: bool = False
    roles: frozenset[str] = frozenset()
    owner_field: str | None = None
    services: frozenset[str] = frozenset()

    def allows(self, principal: Principal | None, request: Message) -> bool:
        if self.public:
            return True
        if principal is None:
            return False
        if principal.is_service:
            return SERVICE in self.roles and principal.service_name in self.services
        if self.roles & (principal.roles - {SERVICE}):  # `service` counts only for workloads
            return True
        if self.owner_field is not None:
            owner = owner_of(_field_value(request, self.owner_field))
            return owner is not None and owner in (principal.subject, "me")
        return False


PUBLIC = Rule(public=True)


def roles(*names: str, owner_field: str | None = None) -> Rule:
    """Callers with any of `names`, plus the owner when `owner_field` is set."""
    return Rule(roles=frozenset(names), owner_field=owner_field)


def owner(field_path: str, *, or_roles: Iterable[str] = ()) -> Rule:
    """The owner of the resource named in `field_path`, plus `or_roles`."""
    return Rule(roles=frozenset(or_roles), owner_field=field_path)


def services(*names: str) -> Rule:
    """Internal methods: only the named workloads, with a service token."""
    return Rule(roles=frozenset({SERVICE}), services=frozenset(names))


def owner_of(resource_name: str) -> str | None:
    """The user id in `users/{id}[/...]`, or None for another shape or `users/-`."""
    parts = resource_name.split("/")
    if len(parts) < 2 or parts[0] != "users" or not parts[1] or parts[1] == "-":
        return None
    return parts[1]


def _field_value(message: Message, path: str) -> str:
    value: Any = message
    for part in path.split("."):
        value = getattr(value, part)
    return str(value)


@dataclass(frozen=True)
class AccessRules:
    """The rule of every method of the services a server exposes, by full
    method name (`/pkg.Service/Method`)."""

    rules: Mapping[str, Rule] = field(default_factory=dict)

    @classmethod
    def for_services(
        cls, tables: Sequence[tuple[ServiceDescriptor, Mapping[str, Rule]]]
    ) -> AccessRules:
        """Build from one `{method name: rule}` table per service, refusing
        tables that name unknown methods or miss any."""
        rules: dict[str, Rule] = {}
        for service, table in tables:
            methods = {m.name for m in service.methods}
            unknown = set(table) - methods
            missing = methods - set(table)
            if unknown or missing:
                raise ValueError(
                    f"access rules of {service.full_name}: "
                    f"missing {sorted(missing)}, unknown {sorted(unknown)}"
                )
            for name, rule in table.items():
                rules[f"/{service.full_name}/{name}"] = rule
        return cls(rules)

    def get(self, method: str) -> Rule | None:
        return self.rules.get(method)


def full_method_names(services: Iterable[ServiceDescriptor]) -> list[str]:
    """Every RPC of the given services as `/pkg.Service/Method`."""
    return [f"/{s.full_name}/{m.name}" for s in services for m in s.methods]
