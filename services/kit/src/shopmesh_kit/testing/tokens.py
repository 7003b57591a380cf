"""Test tokens: an in-process ES256 key and JWKS, so service tests can call
protected methods (and forge bad tokens) without running the auth service."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from shopmesh_kit.auth import ALGORITHM, SERVICE, SERVICE_SUBJECT_PREFIX, parse_jwks, public_jwk

ISSUER = "shopmesh-auth"
AUDIENCE = "shopmesh"


class TestKeys:
    """A signing key, its JWKS, and a KeySource over it."""

    __test__ = False  # not a pytest test class

    def __init__(self, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self.kid = uuid.uuid4().hex
        self.private_key = ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.private_key.public_key(), self.kid)]}

    async def get_key(self, kid: str) -> jwt.PyJWK | None:
        return parse_jwks(self.jwks()).get(kid)

    def token(
        self,
        subject: str,
        roles: Iterable[str] = ("customer",),
        *,
        ttl: float = 300,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "roles": list(roles),
            "iat": now,
            "nbf": now,
            "exp": now + int(ttl),
            "jti": uuid.uuid4().hex,
        }
        payload.update(claims)
        return jwt.encode(
            payload,
            self.private_key,
            algorithm=ALGORITHM,
            headers={"kid": self.kid, **(headers or {})},
        )

    def service_token(self, service: str) -> str:
        return self.token(SERVICE_SUBJECT_PREFIX + service, [SERVICE])


def bearer(token: str) -> tuple[tuple[str, str]]:
    """Call metadata carrying a bearer token."""
    return (("authorization", f"Bearer {token}"),)
