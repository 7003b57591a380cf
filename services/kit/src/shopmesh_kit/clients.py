"""Channels for service-to-service calls.

`create_channel` gives every outbound call the same treatment: the service
token attached, a timeout taken from the caller's remaining deadline (see
`deadlines`), trace context propagated by OpenTelemetry, and retries with
exponential backoff on UNAVAILABLE for the methods named idempotent, done by
gRPC's own retry policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from shopmesh_kit.deadlines import outbound_timeout

TokenFetcher = Callable[[], Awaitable[tuple[str, float]]]


class ServiceToken:
    """Caches a service token from `fetch` (returns token, lifetime in
    seconds) and renews it when less than a fifth of its lifetime is left."""

    def __init__(self, fetch: TokenFetcher, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._token = ""
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        if self._clock() < self._renew_at:
            return self._token
        async with self._lock:
            if self._clock() >= self._renew_at:
                token, lifetime = await self._fetch()
                self._token = token
                self._renew_at = self._clock() + lifetime * 0.8
        return self._token


class _OutboundInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, token: ServiceToken | None, default_timeout: float) -> None:
        self._token = token
        self._default_timeout = default_timeout

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        timeout = outbound_timeout(client_call_details.timeout or self._default_timeout)
        metadata = list(client_call_details.metadata or ())
        if self._token is not None and not any(k == "authorization" for k, _ in metadata):
            metadata.append(("authorization", f"Bearer {await self._token.get()}"))
        details = grpc.aio.ClientCallDetails(
            client_call_details.method,
            timeout,
            metadata,
            client_call_details.credentials,
            client_call_details.wait_for_ready,
        )
        return await continuation(details, request)


def retry_service_config(idempotent: Iterable[tuple[str, str]], max_attempts: int = 4) -> str:
    """gRPC service config retrying the given (service, method) pairs on
    UNAVAILABLE with exponential backoff; nothing else is retried."""
    names = [{"service": s, "method": m} for s, m in idempotent]
    config: dict[str, Any] = {"methodConfig": []}
    if names:
        config["methodConfig"].append(
            {
                "name": names,
                "retryPolicy": {
                    "maxAttempts": max_attempts,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        )
    return json.dumps(config)


def create_channel(
    target: str,
    *,
    token: ServiceToken | None = None,
    default_timeout: float = 5.0,
    idempotent: Iterable[tuple[str, str]] = (),
) -> grpc.aio.Channel:
    """An insecure channel (the mesh adds mTLS) with the outbound chain."""
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.service_config", retry_service_config(idempotent)),
            ("grpc.enable_retries", 1),
            ("grpc.keepalive_time_ms", 30_000),
        ],
        interceptors=[*aio_client_interceptors(), _OutboundInterceptor(token, default_timeout)],
    )


async def wait_serving(
    target: str, *, limit: float = 60.0, check: Callable[[], None] | None = None
) -> None:
    """Wait until `target`'s gRPC health check reports SERVING; TimeoutError
    after `limit` seconds. `check` runs before every attempt, e.g. to raise
    when the process being waited for has died."""
    # A short reconnect backoff: the server is expected up any moment.
    options = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 500)]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    async with grpc.aio.insecure_channel(target, options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if check is not None:
                check()
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            if loop.time() > deadline:
                raise TimeoutError(f"{target} not SERVING after {limit} s")
            await asyncio.sleep(0.1)
