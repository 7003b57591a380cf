"""Prometheus RED metrics for a gRPC server, named like go-grpc-prometheus.

Each server gets its own `CollectorRegistry`, so several servers can live in one process
(tests) without clashing.
"""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

# 1 ms to 10 s.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def split_method(full_method: str) -> tuple[str, str]:
    """`/pkg.Service/Method` -> (`pkg.Service`, `Method`)."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return (service or "unknown", method or "unknown")


class ServerMetrics:
    """Started/handled counters and a latency histogram, labelled per RPC method."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ("grpc_service", "grpc_method", "grpc_type")
        self.started_total = Counter(
            "grpc_server_started",
            "RPCs started on the server.",
            labels,
            registry=registry,
        )
        self.handled_total = Counter(
            "grpc_server_handled",
            "RPCs completed on the server, by status code.",
            (*labels, "grpc_code"),
            registry=registry,
        )
        self.handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time the server took to handle an RPC.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def started(self, full_method: str, *, grpc_type: str = "unary") -> None:
        """Count an RPC as started."""
        service, method = split_method(full_method)
        self.started_total.labels(service, method, grpc_type).inc()

    def handled(
        self, full_method: str, code_name: str, seconds: float, *, grpc_type: str = "unary"
    ) -> None:
        """Count an RPC as finished with status `code_name` (e.g. `OK`) after `seconds`."""
        service, method = split_method(full_method)
        self.handled_total.labels(service, method, grpc_type, code_name).inc()
        self.handling_seconds.labels(service, method, grpc_type).observe(seconds)


def start_metrics_server(
    registry: CollectorRegistry, host: str, port: int
) -> tuple[WSGIServer, int]:
    """Serve `registry` on http://host:port/metrics in a daemon thread; port 0 picks one."""
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server, server.server_port


def stop_metrics_server(server: WSGIServer) -> None:
    """Stop serving and close the listening socket."""
    server.shutdown()
    server.server_close()
