"""Typed errors become rich statuses; anything else a fixed INTERNAL."""

from __future__ import annotations

import logging

import grpc
import pytest
from google.rpc import error_details_pb2
from shopmesh.product.v1 import product_service_pb2, product_service_pb2_grpc
from shopmesh.user.v1 import user_service_pb2
from shopmesh_kit.errors import (
    Aborted,
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from shopmesh_kit.testing.grpc import error_info, field_violations, rich_status
from shopmesh_kit.testing.processes import free_port

from .harness import ERROR_DOMAIN, Shop

GET_PRODUCT = product_service_pb2.GetProductRequest(name="products/1")
SECRET = "SELECT secret FROM x at db-host-1"


async def failing_call(shop: Shop, error: BaseException) -> grpc.aio.AioRpcError:
    """The client's error when the servicer raises `error`."""

    async def fail() -> None:
        raise error

    shop.backend.script = fail
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.products.GetProduct(GET_PRODUCT)
    return raised.value


def retry_info(error: grpc.aio.AioRpcError) -> error_details_pb2.RetryInfo | None:
    for detail in rich_status(error).details:
        info = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            return info
    return None


TYPED_ERRORS = [
    NotFound("product products/1 does not exist"),
    InvalidArgument("page_size must be positive"),
    Unauthenticated("token expired", reason="TOKEN_EXPIRED"),
    PermissionDenied("not yours"),
    AlreadyExists("products/1 already exists"),
    FailedPrecondition("not enough stock", reason="OUT_OF_STOCK"),
    Aborted("the etag does not match", reason="ETAG_MISMATCH"),
    ResourceExhausted("too many attempts"),
    Unavailable("the catalog is down"),
    DeadlineExceeded("ran out of time"),
]


@pytest.mark.parametrize("error", TYPED_ERRORS, ids=lambda e: type(e).__name__)
async def test_typed_error_reaches_the_client_with_its_code_message_and_reason(
    shop: Shop, error: ServiceError
) -> None:
    failure = await failing_call(shop, error)
    assert failure.code() == error.code
    assert failure.details() == error.message
    status = rich_status(failure)
    assert (status.code, status.message) == (error.code.value[0], error.message)
    info = error_info(failure)
    assert (info.reason, info.domain, dict(info.metadata)) == (error.reason, ERROR_DOMAIN, {})


def test_every_typed_error_is_covered() -> None:
    assert {type(e) for e in TYPED_ERRORS} == set(ServiceError.__subclasses__())


async def test_invalid_argument_lists_every_violation_in_a_bad_request(shop: Shop) -> None:
    error = InvalidArgument(
        "the product is invalid",
        violations=[("product.price", "must be positive"), ("product.category", "is unknown")],
    )
    failure = await failing_call(shop, error)
    assert failure.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(failure) == {
        "product.price": "must be positive",
        "product.category": "is unknown",
    }
    assert error_info(failure).reason == "INVALID_ARGUMENT"


async def test_invalid_argument_for_one_field_names_it(shop: Shop) -> None:
    failure = await failing_call(shop, InvalidArgument.field("page_token", "is not ours"))
    assert failure.details() == "invalid page_token: is not ours"
    assert field_violations(failure) == {"page_token": "is not ours"}


async def test_failed_precondition_carries_its_reason_and_metadata(shop: Shop) -> None:
    error = FailedPrecondition(
        "not enough stock",
        reason="OUT_OF_STOCK",
        metadata={"product": "products/1", "available": "2"},
    )
    failure = await failing_call(shop, error)
    assert failure.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(failure)
    assert info.reason == "OUT_OF_STOCK"
    assert info.domain == ERROR_DOMAIN
    assert dict(info.metadata) == {"product": "products/1", "available": "2"}


async def test_aborted_tells_the_client_to_retry_after_rereading(shop: Shop) -> None:
    failure = await failing_call(shop, Aborted("the etag does not match", reason="ETAG_MISMATCH"))
    assert failure.code() == grpc.StatusCode.ABORTED
    assert error_info(failure).reason == "ETAG_MISMATCH"


async def test_resource_exhausted_carries_retry_info(shop: Shop) -> None:
    failure = await failing_call(shop, ResourceExhausted("slow down", retry_after_seconds=1.5))
    assert failure.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    info = retry_info(failure)
    assert info is not None
    assert info.retry_delay.ToTimedelta().total_seconds() == 1.5


async def test_resource_exhausted_without_a_delay_has_no_retry_info(shop: Shop) -> None:
    failure = await failing_call(shop, ResourceExhausted("slow down"))
    assert retry_info(failure) is None


async def test_unexpected_error_becomes_a_fixed_internal_error_and_is_logged(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    failure = await failing_call(shop, RuntimeError(SECRET))
    assert failure.code() == grpc.StatusCode.INTERNAL
    assert failure.details() == "internal error"
    status = rich_status(failure)
    assert (status.code, status.message, list(status.details)) == (13, "internal error", [])
    seen_by_client = repr(failure.trailing_metadata()) + (failure.debug_error_string() or "")
    for fragment in ("SELECT", "secret", "db-host-1", "RuntimeError", "Traceback"):
        assert fragment not in seen_by_client
    [record] = [r for r in caplog.records if r.name == "shopmesh.rpc" and r.exc_info]
    assert record.levelno == logging.ERROR
    assert "/shopmesh.product.v1.ProductService/GetProduct" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    assert str(record.exc_info[1]) == SECRET


async def test_unavailable_dependency_becomes_unavailable(shop: Shop) -> None:
    async def call_a_dependency_that_is_down() -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}") as channel:
            stub = product_service_pb2_grpc.ProductServiceStub(channel)
            await stub.GetProduct(GET_PRODUCT, timeout=2)

    shop.backend.script = call_a_dependency_that_is_down
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.products.GetProduct(GET_PRODUCT)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert raised.value.details() == "a dependency is unavailable"
    info = error_info(raised.value)
    assert (info.reason, info.domain) == ("DEPENDENCY_UNAVAILABLE", ERROR_DOMAIN)
    assert "127.0.0.1" not in repr(raised.value.trailing_metadata())


async def test_dependency_failing_otherwise_becomes_a_fixed_internal_error(shop: Shop) -> None:
    async def call_a_dependency_that_refuses() -> None:
        await shop.users.ListUsers(user_service_pb2.ListUsersRequest())  # no token

    shop.backend.script = call_a_dependency_that_refuses
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shop.products.GetProduct(GET_PRODUCT)
    assert raised.value.code() == grpc.StatusCode.INTERNAL
    assert raised.value.details() == "internal error"
