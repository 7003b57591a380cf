"""The server interceptor chain, identical in every service.

Order (outermost first): OpenTelemetry tracing (added by `server.py`), then
access log and RED metrics, typed-error mapping, authentication,
authorization, request validation, and finally the servicer. Each link wraps
the unary-unary behaviour of the method handler; streaming handlers (health
Watch, reflection) pass through untouched.
"""

from __future__ import annotations

import logging
import time
from abc import abstractmethod
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2

from shopmesh_kit import deadlines
from shopmesh_kit.auth import AccessRules, TokenVerifier, current_principal, set_principal
from shopmesh_kit.errors import (
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
)
from shopmesh_kit.metrics import ServerMetrics
from shopmesh_kit.rpc import Context
from shopmesh_kit.validation import validate_required

log = logging.getLogger("shopmesh.rpc")

Behavior = Callable[[Any, Context], Awaitable[Any]]
INTERNAL_MESSAGE = "internal error"
# Infrastructure services that need no token: probes and grpcurl exploration.
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class _UnaryInterceptor(grpc.aio.ServerInterceptor):
    """Wraps the unary-unary behaviour of every method with `around`. The
    wrapped handler is built once per method and reused while the handler
    beneath stays the same object (it does: grpc and every link cache them)."""

    def __init__(self) -> None:
        self._built: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method: str = handler_call_details.method
        cached = self._built.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped_handler = self._wrap(method, handler)
        self._built[method] = (handler, wrapped_handler)
        return wrapped_handler

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        behavior: Behavior = handler.unary_unary

        async def wrapped(request: Any, context: Context) -> Any:
            return await self.around(method, request, context, behavior)

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    @abstractmethod
    async def around(
        self, method: str, request: Any, context: Context, behavior: Behavior
    ) -> Any: ...


def _split(method: str) -> tuple[str, str]:
    service, _, name = method.lstrip("/").partition("/")
    return service, name


class ObservabilityInterceptor(_UnaryInterceptor):
    """One JSON access-log line and the RED metrics per RPC; also records the
    RPC's deadline for outbound calls."""

    def __init__(self, metrics: ServerMetrics | None) -> None:
        super().__init__()
        self._metrics = metrics

    async def around(self, method: str, request: Any, context: Context, behavior: Behavior) -> Any:
        deadlines.set_inbound_deadline(context.time_remaining())
        if self._metrics:
            self._metrics.started(method)
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            return await behavior(request, context)
        except BaseException:
            code = context.code() or (
                grpc.StatusCode.CANCELLED if context.cancelled() else grpc.StatusCode.UNKNOWN
            )
            raise
        finally:
            elapsed = time.perf_counter() - started
            if self._metrics:
                self._metrics.handled(method, code.name, elapsed)
            principal = current_principal()
            service, name = _split(method)
            log.info(
                "%s %s",
                method,
                code.name,
                extra={
                    "rpc": {
                        "service": service,
                        "method": name,
                        "code": code.name,
                        "duration_ms": round(elapsed * 1000, 3),
                        "peer": context.peer(),
                        "principal": principal.subject if principal else None,
                    }
                },
            )


class ErrorInterceptor(_UnaryInterceptor):
    """Typed errors become `google.rpc.Status` with an `ErrorInfo`; anything
    else is logged with its traceback and reaches the client as a fixed
    INTERNAL message."""

    def __init__(self, domain: str) -> None:
        super().__init__()
        self._domain = domain

    async def around(self, method: str, request: Any, context: Context, behavior: Behavior) -> Any:
        try:
            return await behavior(request, context)
        except ServiceError as error:
            status = to_status(error, self._domain)
        except grpc.aio.AioRpcError as error:
            status = _dependency_status(error, method, self._domain)
        except (grpc.aio.AbortError, grpc.aio.UsageError):
            raise
        except Exception:
            log.exception("unhandled error in %s", method)
            status = status_pb2.Status(code=code_pb2.INTERNAL, message=INTERNAL_MESSAGE)
        await context.abort(
            _CODES[status.code],
            status.message,
            trailing_metadata=(("grpc-status-details-bin", status.SerializeToString()),),
        )
        raise AssertionError("context.abort() returned")  # it always raises


_CODES: dict[int, grpc.StatusCode] = {c.value[0]: c for c in grpc.StatusCode}


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(error: ServiceError, domain: str) -> status_pb2.Status:
    """The rich status for a typed error."""
    details = [
        _pack(
            error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=error.metadata)
        )
    ]
    if isinstance(error, InvalidArgument) and error.violations:
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                        for f, d in error.violations
                    ]
                )
            )
        )
    if isinstance(error, ResourceExhausted) and error.retry_after_seconds is not None:
        delay = duration_pb2.Duration()
        delay.FromTimedelta(timedelta(seconds=max(error.retry_after_seconds, 0.0)))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=error.code.value[0], message=error.message, details=details)


def _dependency_status(error: grpc.aio.AioRpcError, method: str, domain: str) -> status_pb2.Status:
    """A dependency failed and the service did not handle it: outages become
    UNAVAILABLE (retryable), anything else INTERNAL. Nothing of the
    dependency's message is passed on."""
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        log.warning("dependency unavailable in %s: %s", method, error.code().name)
        info = error_details_pb2.ErrorInfo(reason="DEPENDENCY_UNAVAILABLE", domain=domain)
        return status_pb2.Status(
            code=code_pb2.UNAVAILABLE, message="a dependency is unavailable", details=[_pack(info)]
        )
    log.error("dependency error in %s: %s %s", method, error.code().name, error.details())
    return status_pb2.Status(code=code_pb2.INTERNAL, message=INTERNAL_MESSAGE)


class AuthenticationInterceptor(_UnaryInterceptor):
    """Verifies the bearer token, if any, and makes its Principal current.

    A missing token leaves the caller anonymous (authorization decides). A
    bad token is refused with UNAUTHENTICATED, except on public methods,
    where it is ignored: a client holding an expired access token must still
    be able to refresh it.
    """

    def __init__(self, verifier: TokenVerifier, rules: AccessRules) -> None:
        super().__init__()
        self._verifier = verifier
        self._rules = rules

    async def around(self, method: str, request: Any, context: Context, behavior: Behavior) -> Any:
        set_principal(None)
        if method.startswith(OPEN_SERVICES):
            return await behavior(request, context)
        try:
            token = bearer_token(context.invocation_metadata())
            if token is not None:
                set_principal(await self._verifier.verify(token))
        except Unauthenticated:
            rule = self._rules.get(method)
            if rule is None or not rule.public:
                raise
        return await behavior(request, context)


def bearer_token(metadata: Any) -> str | None:
    for key, value in metadata or ():
        if key == "authorization":
            scheme, _, token = str(value).partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("authorization must be 'Bearer <token>'")
            return token.strip()
    return None


class AuthorizationInterceptor(_UnaryInterceptor):
    """Applies the method's access rule. Methods without a rule are refused."""

    def __init__(self, rules: AccessRules) -> None:
        super().__init__()
        self._rules = rules

    async def around(self, method: str, request: Any, context: Context, behavior: Behavior) -> Any:
        if not method.startswith(OPEN_SERVICES):
            rule = self._rules.get(method)
            principal = current_principal()
            if rule is None or not rule.allows(principal, request):
                if principal is None and not (rule and rule.public):
                    raise Unauthenticated("this method needs a bearer token")
                raise PermissionDenied("the caller may not call this method")
        return await behavior(request, context)


class ValidationInterceptor(_UnaryInterceptor):
    """Rejects requests missing REQUIRED fields before any side effect."""

    async def around(self, method: str, request: Any, context: Context, behavior: Behavior) -> Any:
        if isinstance(request, Message) and not method.startswith(OPEN_SERVICES):
            validate_required(request)
        return await behavior(request, context)
