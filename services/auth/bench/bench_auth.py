"""Auth benchmark (`make bench-auth`): login/s and token verifications/s,
each next to the raw library cost measured in the same run.

- login/s: real gRPC Login calls against a real server (SQLite), versus
  bare argon2id verifications with the same parameters and concurrency.
  Login is bound by argon2id by design; the ratio shows our overhead.
- verifications/s: `TokenVerifier.verify` (header checks, cached JWKS key,
  claim checks) versus a bare `jwt.decode` with the key in hand.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import grpc
import jwt
from argon2 import PasswordHasher as Argon2
from shopmesh.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from shopmesh_auth.app import build_app
from shopmesh_auth.security.passwords import OWASP_MEMORY_KIB, OWASP_PARALLELISM, OWASP_TIME_COST
from shopmesh_auth.settings import AuthSettings
from shopmesh_kit.auth import JwksCache, TokenVerifier
from shopmesh_kit.db import Database


class RecordingUserDirectory:
    """Profiles are not part of what is measured; this records them in memory
    so the benchmark needs no user service."""

    async def create_profile(self, user_id: str, email: str, display_name: str) -> None:
        return None


async def _rate(count: int, concurrency: int, call: object) -> float:
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            await call()  # type: ignore[operator]

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def main(logins: int, verifications: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'auth.db'}"
        settings = AuthSettings(
            port=0,
            database_url=url,
            login_failures_per_client=10**9,
            admin_email=None,
            admin_password=None,
        )
        app = await build_app(settings, database=Database(url), users=RecordingUserDirectory())
        await app.server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{app.server.port}") as channel:
                stub = auth_service_pb2_grpc.AuthServiceStub(channel)
                email, password = "bench@example.com", "bench password"
                await stub.RegisterAccount(
                    auth_service_pb2.RegisterAccountRequest(
                        email=email, password=password, display_name="Bench"
                    )
                )
                request = auth_service_pb2.LoginRequest(email=email, password=password)
                login_rate = await _rate(logins, concurrency, lambda: stub.Login(request))
                token = (await stub.Login(request)).access_token

                hasher = Argon2(
                    time_cost=OWASP_TIME_COST,
                    memory_cost=OWASP_MEMORY_KIB,
                    parallelism=OWASP_PARALLELISM,
                )
                stored = hasher.hash(password)
                argon_rate = await _rate(
                    logins, concurrency, lambda: asyncio.to_thread(hasher.verify, stored, password)
                )

                async def fetch() -> dict[str, object]:
                    reply = await stub.GetJwks(auth_service_pb2.GetJwksRequest())
                    return {"keys": [{f.name: v for f, v in k.ListFields()} for k in reply.keys]}

                verifier = TokenVerifier(
                    JwksCache(fetch), issuer=settings.jwt_issuer, audience=settings.jwt_audience
                )
                await verifier.verify(token)  # warm the JWKS cache
                verify_rate = await _rate(verifications, 1, lambda: verifier.verify(token))
                key = app.keys.current.private_key.public_key()

                async def raw_decode() -> None:
                    jwt.decode(
                        token,
                        key,
                        algorithms=["ES256"],
                        audience=settings.jwt_audience,
                        issuer=settings.jwt_issuer,
                    )

                raw_rate = await _rate(verifications, 1, raw_decode)
        finally:
            await app.server.stop(0)

    print(f"{'measure':<34}{'shopmesh':>12}{'baseline':>12}{'ratio':>8}")
    print(
        f"{'login/s (gRPC vs bare argon2id)':<34}{login_rate:>12.1f}{argon_rate:>12.1f}"
        f"{login_rate / argon_rate:>8.2f}"
    )
    print(
        f"{'verifications/s (vs jwt.decode)':<34}{verify_rate:>12.0f}{raw_rate:>12.0f}"
        f"{verify_rate / raw_rate:>8.2f}"
    )
    print(
        f"argon2id m={OWASP_MEMORY_KIB} KiB t={OWASP_TIME_COST} p={OWASP_PARALLELISM}; "
        f"{logins} logins at concurrency {concurrency}; {verifications} verifications"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--verifications", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.logins, args.verifications, args.concurrency))
