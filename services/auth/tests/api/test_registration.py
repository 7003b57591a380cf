from __future__ import annotations

import asyncio

import grpc
import pytest
from shopmesh.auth.v1 import auth_service_pb2
from shopmesh_kit.testing.grpc import error_info, field_violations

from ..conftest import AuthHarness


async def test_register_creates_an_active_customer_and_its_profile(auth: AuthHarness) -> None:
    account = await auth.register(email="  Ada@Example.COM ", name=" Ada ")
    account_id = account.name.removeprefix("accounts/")
    assert account.email == "ada@example.com"
    assert list(account.roles) == ["customer"]
    assert auth.users.profiles[account_id] == ("ada@example.com", "Ada")
    login = await auth.login(email="ADA@example.com")
    assert login.account.name == account.name


async def test_register_refuses_a_taken_email(auth: AuthHarness) -> None:
    await auth.register()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.register(email="ADA@example.com", password="another password")
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(caught.value).reason == "EMAIL_TAKEN"


async def test_concurrent_registrations_of_one_email_create_one_account(auth: AuthHarness) -> None:
    results = await asyncio.gather(
        *(auth.register(password=f"password-{i}") for i in range(5)), return_exceptions=True
    )
    accounts = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(accounts) == 1
    assert len(errors) == 4
    assert {e.code() for e in errors} == {grpc.StatusCode.ALREADY_EXISTS}


@pytest.mark.parametrize(
    ("email", "password", "name", "fields"),
    [
        ("not-an-email", "correct horse", "Ada", {"email"}),
        ("ada@example.com", "short", "Ada", {"password"}),
        ("ada@example.com", "x" * 129, "Ada", {"password"}),
        ("ada@example.com", "correct horse", "x" * 101, {"display_name"}),
        ("", "", "", {"email", "password", "display_name"}),
    ],
)
async def test_register_rejects_bad_input_listing_fields_and_stores_nothing(
    auth: AuthHarness, email: str, password: str, name: str, fields: set[str]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.register(email=email, password=password, name=name)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == fields
    assert auth.users.calls == 0


async def test_password_boundaries_are_accepted(auth: AuthHarness) -> None:
    await auth.register(email="a@example.com", password="x" * 8)
    await auth.register(email="b@example.com", password="y" * 128)


async def test_failed_profile_creation_leaves_no_usable_account_and_retry_completes(
    auth: AuthHarness,
) -> None:
    auth.users.failures_left = 1
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.register()
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(caught.value).reason == "PROFILE_SERVICE_UNAVAILABLE"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await auth.login()
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

    account = await auth.register()
    assert account.email == "ada@example.com"
    assert len(auth.users.profiles) == 1
    assert (await auth.login()).account.name == account.name


async def test_pending_registrations_are_completed_in_the_background(auth: AuthHarness) -> None:
    auth.users.failures_left = 1
    with pytest.raises(grpc.aio.AioRpcError):
        await auth.register()
    assert await auth.app.service.complete_pending() == 1
    assert (await auth.login()).account.email == "ada@example.com"


async def test_seed_admin_is_idempotent_and_grants_admin(auth: AuthHarness) -> None:
    first = await auth.app.service.seed_admin("Root@Example.com", "admin password 1")
    again = await auth.app.service.seed_admin("root@example.com", "admin password 1")
    assert first.id == again.id
    login = await auth.login(email="root@example.com", password="admin password 1")
    assert "admin" in login.account.roles
    changed = await auth.app.service.seed_admin("root@example.com", "admin password 2")
    assert changed.id == first.id
    with pytest.raises(grpc.aio.AioRpcError):
        await auth.login(email="root@example.com", password="admin password 1")
    assert (await auth.login(email="root@example.com", password="admin password 2")).access_token


async def test_errors_carry_no_internals(auth: AuthHarness) -> None:
    await auth.register()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.register()
    details = caught.value.details() or ""
    for leak in ("SELECT", "INSERT", "Traceback", "sqlalchemy", "psycopg", "sqlite"):
        assert leak not in details


async def test_jwks_publishes_the_signing_key(auth: AuthHarness) -> None:
    jwks = await auth.stub.GetJwks(auth_service_pb2.GetJwksRequest())
    assert len(jwks.keys) == 1
    key = jwks.keys[0]
    assert (key.kty, key.alg, key.use, key.crv) == ("EC", "ES256", "sig", "P-256")
    assert key.kid == auth.app.keys.current.kid


async def test_concurrent_retries_with_the_same_password_return_one_account(
    auth: AuthHarness,
) -> None:
    results = await asyncio.gather(*(auth.register() for _ in range(4)), return_exceptions=True)
    accounts = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    # Retries racing each other complete the one pending account; a retry
    # arriving after it became active is told the email is taken.
    assert len({a.name for a in accounts}) == 1
    assert {e.code() for e in refused} <= {grpc.StatusCode.ALREADY_EXISTS}
    assert len(auth.users.profiles) == 1


async def test_retry_of_a_failed_registration_with_another_password_is_refused(
    auth: AuthHarness,
) -> None:
    auth.users.failures_left = 1
    with pytest.raises(grpc.aio.AioRpcError):
        await auth.register()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await auth.register(password="someone else's")
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
