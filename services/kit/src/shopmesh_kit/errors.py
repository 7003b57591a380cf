"""Typed errors raised by domain and service code, mapped once to gRPC status.

Code below the servicers raises these; `shopmesh_kit.interceptors` turns them
into a `google.rpc.Status` with an `ErrorInfo` (and `BadRequest` for
validation errors). Anything else becomes a fixed INTERNAL message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grpc


class ServiceError(Exception):
    """Base of every error a client may see. `reason` is UPPER_SNAKE_CASE."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    default_reason: str = "ERROR"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata = dict(metadata or {})


class InvalidArgument(ServiceError):
    """The request is malformed; `violations` lists (field path, description)."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"

    def __init__(
        self,
        message: str,
        *,
        violations: Sequence[tuple[str, str]] = (),
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.violations = list(violations)

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        """One bad field: the message names it, the violation describes it."""
        return cls(f"invalid {field}: {description}", violations=[(field, description)])


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class PermissionDenied(ServiceError):
    code = grpc.StatusCode.PERMISSION_DENIED
    default_reason = "PERMISSION_DENIED"


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND
    default_reason = "NOT_FOUND"


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"


class Aborted(ServiceError):
    """A concurrency conflict, such as a stale etag: re-read and retry."""

    code = grpc.StatusCode.ABORTED
    default_reason = "ABORTED"


class ResourceExhausted(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_reason = "RESOURCE_EXHAUSTED"

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: float | None = None,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(ServiceError):
    """A dependency is down; the call may be retried later."""

    code = grpc.StatusCode.UNAVAILABLE
    default_reason = "UNAVAILABLE"


class DeadlineExceeded(ServiceError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    default_reason = "DEADLINE_EXCEEDED"
