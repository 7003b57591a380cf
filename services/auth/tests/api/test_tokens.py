from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import timedelta

import grpc
import jwt
import pytest
from shopmesh.auth.v1 import auth_service_pb2
from shopmesh_kit.errors import Unauthenticated
from shopmesh_kit.testing.grpc import error_info, rich_status

from ..conftest import AuthHarness


async def test_login_issues_a_verifiable_access_token_and_a_refresh_token(
    auth: AuthHarness,
) -> None:
    account = await auth.register()
    login = await auth.login()
    assert login.token_type == "Bearer"
    assert login.expires_in == 900
    assert login.refresh_token
    principal = await auth.verifier().verify(login.access_token)
    assert principal.subject == account.name.removeprefix("accounts/")
    assert principal.roles == frozenset({"customer"})
    header = jwt.get_unverified_header(login.access_token)
    assert header["alg"] == "ES256"
    assert header["kid"] == auth.app.keys.current.kid


async def test_unknown_email_and_wrong_password_fail_alike(auth: AuthHarness) -> None:
    await auth.register()
    failures = []
    for email, password in (("ada@example.com", "wrong password"), ("nobody@example.com", "x" * 9)):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await auth.login(email=email, password=password)
        failures.append(caught.value)
    assert {f.code() for f in failures} == {grpc.StatusCode.UNAUTHENTICATED}
    assert {f.details() for f in failures} == {"email or password is incorrect"}
    assert {error_info(f).reason for f in failures} == {"INVALID_CREDENTIALS"}


async def test_repeated_failures_throttle_the_account(auth: AuthHarness) -> None:
    await auth.register()
    for _ in range(3):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await auth.login(password="wrong password")
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as throttled:
        await auth.login()  # even the right password waits out the window
    assert throttled.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(throttled.value).reason == "LOGIN_THROTTLED"
    assert any(
        d.type_url.endswith("google.rpc.RetryInfo") for d in rich_status(throttled.value).details
    )


async def test_repeated_failures_throttle_the_client_across_accounts(auth: AuthHarness) -> None:
    for i in range(6):
        with pytest.raises(grpc.aio.AioRpcError):
            await auth.login(email=f"guess{i}@example.com", password="wrong password")
    with pytest.raises(grpc.aio.AioRpcError) as throttled:
        await auth.login(email="another@example.com", password="wrong password")
    assert throttled.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_refresh_rotates_and_the_old_token_is_then_refused(auth: AuthHarness) -> None:
    await auth.register()
    login = await auth.login()
    refreshed = await auth.stub.RefreshToken(
        auth_service_pb2.RefreshTokenRequest(refresh_token=login.refresh_token)
    )
    assert refreshed.refresh_token != login.refresh_token
    assert (await auth.verifier().verify(refreshed.access_token)).roles == {"customer"}
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await auth.stub.RefreshToken(
            auth_service_pb2.RefreshTokenRequest(refresh_token=login.refresh_token)
        )
    assert reused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(reused.value).reason == "REFRESH_TOKEN_REUSED"


async def test_reuse_revokes_the_whole_family(auth: AuthHarness) -> None:
    await auth.register()
    first = await auth.login()
    other_login = await auth.login()
    second = await auth.stub.RefreshToken(
        auth_service_pb2.RefreshTokenRequest(refresh_token=first.refresh_token)
    )
    with pytest.raises(grpc.aio.AioRpcError):  # the stolen first token comes back
        await auth.stub.RefreshToken(
            auth_service_pb2.RefreshTokenRequest(refresh_token=first.refresh_token)
        )
    with pytest.raises(grpc.aio.AioRpcError) as revoked:  # so its successor dies too
        await auth.stub.RefreshToken(
            auth_service_pb2.RefreshTokenRequest(refresh_token=second.refresh_token)
        )
    assert error_info(revoked.value).reason == "INVALID_REFRESH_TOKEN"
    # Another login of the same account is another family and keeps working.
    await auth.stub.RefreshToken(
        auth_service_pb2.RefreshTokenRequest(refresh_token=other_login.refresh_token)
    )


async def test_concurrent_refreshes_of_one_token_succeed_at_most_once(auth: AuthHarness) -> None:
    await auth.register()
    login = await auth.login()
    request = auth_service_pb2.RefreshTokenRequest(refresh_token=login.refresh_token)
    results = await asyncio.gather(
        *(auth.stub.RefreshToken(request) for _ in range(5)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) <= 1


async def test_revoke_ends_the_refresh_token_and_is_idempotent(auth: AuthHarness) -> None:
    await auth.register()
    login = await auth.login()
    revoke = auth_service_pb2.RevokeTokenRequest(refresh_token=login.refresh_token)
    await auth.stub.RevokeToken(revoke)
    await auth.stub.RevokeToken(revoke)
    await auth.stub.RevokeToken(auth_service_pb2.RevokeTokenRequest(refresh_token="unknown"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.stub.RefreshToken(
            auth_service_pb2.RefreshTokenRequest(refresh_token=login.refresh_token)
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_expired_refresh_token_is_refused(auth: AuthHarness) -> None:
    await auth.register()
    auth.clock.offset = -timedelta(days=31)
    login = await auth.login()
    auth.clock.offset = timedelta()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.stub.RefreshToken(
            auth_service_pb2.RefreshTokenRequest(refresh_token=login.refresh_token)
        )
    assert error_info(caught.value).reason == "INVALID_REFRESH_TOKEN"


async def test_key_rotation_keeps_old_tokens_valid_until_they_expire(auth: AuthHarness) -> None:
    await auth.register()
    verifier = auth.verifier()
    old = await auth.login()
    old_kid = auth.app.keys.current.kid
    await verifier.verify(old.access_token)

    await auth.app.keys.rotate()
    new = await auth.login()
    assert jwt.get_unverified_header(new.access_token)["kid"] != old_kid
    # The verifier has cached the old JWKS; an unknown kid makes it refetch.
    await verifier.verify(new.access_token)
    await verifier.verify(old.access_token)
    jwks = await auth.stub.GetJwks(auth_service_pb2.GetJwksRequest())
    assert [k.kid for k in jwks.keys][1] == old_kid

    # Once every token of the old key has expired, the key is withdrawn.
    auth.clock.offset = timedelta(hours=1)
    await auth.app.keys.load()
    jwks = await auth.stub.GetJwks(auth_service_pb2.GetJwksRequest())
    assert old_kid not in [k.kid for k in jwks.keys]


async def test_keys_rotate_when_due(auth: AuthHarness) -> None:
    kid = auth.app.keys.current.kid
    await auth.app.keys.load()
    assert auth.app.keys.current.kid == kid
    auth.clock.offset = timedelta(days=7, seconds=1)
    await auth.app.keys.load()
    assert auth.app.keys.current.kid != kid


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64json(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


async def _refused(auth: AuthHarness, token: str, **verifier_args: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await auth.verifier(**verifier_args).verify(token)
    return caught.value.message


async def test_expired_access_token_is_refused(auth: AuthHarness) -> None:
    await auth.register()
    auth.clock.offset = -timedelta(hours=1)
    login = await auth.login()
    assert await _refused(auth, login.access_token) == "token expired"


async def test_wrong_issuer_or_audience_is_refused(auth: AuthHarness) -> None:
    await auth.register()
    token = (await auth.login()).access_token
    await _refused(auth, token, issuer="someone-else")
    await _refused(auth, token, audience="another-api")


async def test_altered_claims_are_refused(auth: AuthHarness) -> None:
    await auth.register()
    header, payload, signature = _segments((await auth.login()).access_token)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin"]
    forged = ".".join([header, _b64json(claims), signature])
    assert await _refused(auth, forged) == "invalid token"


async def test_unknown_kid_is_refused(auth: AuthHarness) -> None:
    await auth.register()
    _, payload, signature = _segments((await auth.login()).access_token)
    header = _b64json({"alg": "ES256", "kid": "not-a-key", "typ": "JWT"})
    assert await _refused(auth, f"{header}.{payload}.{signature}") == "token signing key is unknown"


async def test_alg_none_is_refused(auth: AuthHarness) -> None:
    await auth.register()
    _, payload, _ = _segments((await auth.login()).access_token)
    header = _b64json({"alg": "none", "kid": auth.app.keys.current.kid})
    assert await _refused(auth, f"{header}.{payload}.") == "token algorithm is not accepted"


async def test_hmac_signed_with_the_public_key_is_refused(auth: AuthHarness) -> None:
    """The classic HS/RS confusion: an HMAC keyed with the public key."""
    await auth.register()
    login = await auth.login()
    claims = jwt.decode(login.access_token, options={"verify_signature": False})
    claims["roles"] = ["admin"]
    public_jwk = json.dumps(auth.app.keys.current.public_jwk()).encode()
    signing_input = ".".join(
        [_b64json({"alg": "HS256", "kid": auth.app.keys.current.kid}), _b64json(claims)]
    )
    mac = hmac.new(public_jwk, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert await _refused(auth, forged) == "token algorithm is not accepted"


async def test_garbage_tokens_are_refused(auth: AuthHarness) -> None:
    for token in ("", "abc", "a.b.c", "a.b"):
        assert await _refused(auth, token) == "malformed token"


async def test_service_token_needs_the_right_secret(auth: AuthHarness) -> None:
    issued = await auth.internal.IssueServiceToken(
        auth_service_pb2.IssueServiceTokenRequest(service="order", secret="order-secret-value")
    )
    principal = await auth.verifier().verify(issued.access_token)
    assert principal.is_service
    assert principal.service_name == "order"
    for service, secret in (("order", "wrong"), ("unknown", "order-secret-value")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await auth.internal.IssueServiceToken(
                auth_service_pb2.IssueServiceTokenRequest(service=service, secret=secret)
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
