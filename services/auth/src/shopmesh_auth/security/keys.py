"""ES256 signing keys: generation, serialisation, JWK export, token signing."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

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
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "EC",
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
            "crv": "P-256",
            "x": _b64(numbers.x),
            "y": _b64(numbers.y),
        }


def _b64(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()


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
