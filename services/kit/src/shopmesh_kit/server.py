"""gRPC server lifecycle, identical in every service.

`GrpcServer` wires the interceptor chain, health and reflection around the
servicers a composition root hands it. After `start()` every service reports
SERVING; on SIGTERM (or `stop()`) health flips to NOT_SERVING so load
balancers stop routing, then `stop(grace)` lets in-flight RPCs finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor, filters
from prometheus_client import CollectorRegistry

from shopmesh_kit.auth import AccessRules, TokenVerifier
from shopmesh_kit.interceptors import (
    AuthenticationInterceptor,
    AuthorizationInterceptor,
    ErrorInterceptor,
    ObservabilityInterceptor,
    ValidationInterceptor,
)
from shopmesh_kit.metrics import ServerMetrics, start_metrics_server
from shopmesh_kit.settings import ServiceSettings

log = logging.getLogger("shopmesh.server")


@dataclass(frozen=True)
class Binding:
    """One gRPC service to expose: its descriptor, the generated
    `add_*Servicer_to_server` function and the servicer instance."""

    descriptor: ServiceDescriptor
    register: Callable[[Any, grpc.aio.Server], None]
    servicer: object


class GrpcServer:
    def __init__(
        self,
        *,
        bindings: Sequence[Binding],
        rules: AccessRules,
        verifier: TokenVerifier,
        error_domain: str,
        host: str = "127.0.0.1",
        port: int = 0,
        metrics_host: str = "127.0.0.1",
        metrics_port: int | None = None,
        grace_seconds: float = 10.0,
        on_start: Sequence[Callable[[], Awaitable[None]]] = (),
        on_stop: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self.registry = CollectorRegistry()
        self._metrics_address = (metrics_host, metrics_port)
        self._metrics_http: Any = None
        self.metrics_port: int | None = None
        self._grace = grace_seconds
        self._on_start = list(on_start)
        self._on_stop = list(on_stop)
        self._stopped = asyncio.Event()
        self._stopping = False
        self.service_names = [b.descriptor.full_name for b in bindings]
        missing = [
            f"/{b.descriptor.full_name}/{m.name}"
            for b in bindings
            for m in b.descriptor.methods
            if rules.get(f"/{b.descriptor.full_name}/{m.name}") is None
        ]
        if missing:
            raise ValueError(f"methods without an access rule: {missing}")
        self._server = grpc.aio.server(
            interceptors=[
                # Health is not traced: OTel's aio interceptor breaks Watch, which
                # writes with context.write() instead of yielding (otel-contrib #3066).
                aio_server_interceptor(
                    filter_=filters.negate(filters.service_name("grpc.health.v1.Health"))
                ),
                ObservabilityInterceptor(ServerMetrics(self.registry)),
                ErrorInterceptor(error_domain),
                AuthenticationInterceptor(verifier, rules),
                AuthorizationInterceptor(rules),
                ValidationInterceptor(),
            ],
            options=[("grpc.so_reuseport", 0)],
        )
        for binding in bindings:
            binding.register(binding.servicer, self._server)
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        reflection.enable_server_reflection(
            [
                *self.service_names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            self._server,
        )
        self.port = self._server.add_insecure_port(f"{host}:{port}")
        if self.port == 0:
            raise OSError(f"cannot listen on {host}:{port}")

    @classmethod
    def from_settings(
        cls,
        settings: ServiceSettings,
        *,
        bindings: Sequence[Binding],
        rules: AccessRules,
        verifier: TokenVerifier,
        error_domain: str,
        on_start: Sequence[Callable[[], Awaitable[None]]] = (),
        on_stop: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> GrpcServer:
        """A server listening where the service's settings say."""
        return cls(
            bindings=bindings,
            rules=rules,
            verifier=verifier,
            error_domain=error_domain,
            host=settings.host,
            port=settings.port,
            metrics_host=settings.metrics_host,
            metrics_port=settings.metrics_port,
            grace_seconds=settings.grace_period_seconds,
            on_start=on_start,
            on_stop=on_stop,
        )

    async def start(self) -> None:
        await self._server.start()
        host, port = self._metrics_address
        if port is not None:
            self._metrics_http, self.metrics_port = start_metrics_server(self.registry, host, port)
        for name in ("", *self.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        for callback in self._on_start:
            await callback()
        log.info("serving", extra={"grpc_port": self.port, "metrics_port": self.metrics_port})

    async def stop(self, grace: float | None = None) -> None:
        """Report NOT_SERVING, drain in-flight RPCs for `grace` seconds, stop."""
        if self._stopping:
            await self._stopped.wait()
            return
        self._stopping = True
        await self.health.enter_graceful_shutdown()
        await self._server.stop(self._grace if grace is None else grace)
        if self._metrics_http is not None:
            await asyncio.to_thread(self._metrics_http.shutdown)  # polls every 0.5 s
            self._metrics_http.server_close()
        for callback in self._on_stop:
            await callback()
        log.info("stopped")
        self._stopped.set()

    async def serve(self) -> None:
        """Start, then run until SIGTERM or SIGINT, then drain and stop."""
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop_requested.set)
        await self.start()
        stopped = asyncio.ensure_future(self._stopped.wait())
        requested = asyncio.ensure_future(stop_requested.wait())
        await asyncio.wait([stopped, requested], return_when=asyncio.FIRST_COMPLETED)
        requested.cancel()
        await self.stop()
