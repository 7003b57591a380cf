"""ES256 signing keys: generation, serialisation, JWK export, token signing."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from shopmesh_kit.auth import public_jwk

ALGORITHM = "ES256"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    create_time: datetime
    retire_time: datetime | None = None

    @classmethod
    def generate(cls, now: datetime) -> SigningKey:
        return cls(
            kid=uuid.uuid4().hex,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            create_time=now,
        )

    def to_pem(self, passphrase: bytes | None) -> str:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        ).decode()

    @staticmethod
    def load_private_key(pem: str, passphrase: bytes | None) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(pem.encode(), password=passphrase)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("signing key is not an EC key")
        return key

    def public_jwk(self) -> dict[str, str]:
        return public_jwk(self.private_key.public_key(), self.kid)


@dataclass(frozen=True)
class TokenIssuer:
    """Signs access tokens with the current key of a key ring."""

    issuer: str
    audience: str

    def sign(
        self,
        key: SigningKey,
        *,
        subject: str,
        roles: Sequence[str],
        ttl: timedelta,
        now: datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        issued = now or datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "roles": list(roles),
            "iat": int(issued.timestamp()),
            "nbf": int(issued.timestamp()),
            "exp": int((issued + ttl).timestamp()),
            "jti": secrets.token_urlsafe(12),
            **(extra or {}),
        }
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
