import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry
from shopmesh_kit.metrics import (
    ServerMetrics,
    split_method,
    start_metrics_server,
    stop_metrics_server,
)


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_split_method() -> None:
    assert split_method("/shopmesh.auth.v1.AuthService/Login") == (
        "shopmesh.auth.v1.AuthService",
        "Login",
    )
    assert split_method("garbage") == ("unknown", "garbage")


def test_started_and_handled_are_counted_per_method_and_code() -> None:
    registry = CollectorRegistry()
    metrics = ServerMetrics(registry)
    method = "/shopmesh.auth.v1.AuthService/Login"
    labels = {"grpc_service": "shopmesh.auth.v1.AuthService", "grpc_method": "Login"}
    for code in ("OK", "OK", "UNAUTHENTICATED"):
        metrics.started(method)
        metrics.handled(method, code, 0.003)
    assert _value(registry, "grpc_server_started_total", grpc_type="unary", **labels) == 3
    assert (
        _value(registry, "grpc_server_handled_total", grpc_type="unary", grpc_code="OK", **labels)
        == 2
    )
    assert _value(
        registry, "grpc_server_handled_total", grpc_type="unary", grpc_code="UNAUTHENTICATED",
        **labels,
    ) == 1  # fmt: skip
    assert _value(registry, "grpc_server_handling_seconds_count", grpc_type="unary", **labels) == 3
    assert _value(
        registry, "grpc_server_handling_seconds_bucket", grpc_type="unary", le="0.0025", **labels
    ) == 0  # fmt: skip
    assert _value(
        registry, "grpc_server_handling_seconds_bucket", grpc_type="unary", le="0.005", **labels
    ) == 3  # fmt: skip
    assert _value(registry, "grpc_server_handling_seconds_sum", grpc_type="unary", **labels) == (
        pytest.approx(0.009)
    )


def test_registries_are_independent() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    ServerMetrics(first).started("/a.B/C")
    ServerMetrics(second)
    labels = {"grpc_service": "a.B", "grpc_method": "C", "grpc_type": "unary"}
    assert _value(first, "grpc_server_started_total", **labels) == 1
    assert _value(second, "grpc_server_started_total", **labels) is None


def test_metrics_are_scraped_over_http_on_an_ephemeral_port() -> None:
    registry = CollectorRegistry()
    metrics = ServerMetrics(registry)
    metrics.started("/shopmesh.user.v1.UserService/GetUser")
    metrics.handled("/shopmesh.user.v1.UserService/GetUser", "NOT_FOUND", 0.02)
    server, port = start_metrics_server(registry, "127.0.0.1", 0)
    try:
        assert port > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert response.status == 200
            body = response.read().decode()
    finally:
        stop_metrics_server(server)
    with pytest.raises(urllib.error.URLError, match="refused"):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert "# TYPE grpc_server_handled_total counter" in body
    assert "# TYPE grpc_server_handling_seconds histogram" in body
    assert (
        'grpc_server_handled_total{grpc_code="NOT_FOUND",grpc_method="GetUser",'
        'grpc_service="shopmesh.user.v1.UserService",grpc_type="unary"} 1.0'
    ) in body
    assert 'grpc_server_started_total{grpc_method="GetUser"' in body
    assert "python_gc" not in body  # only this server's registry is exposed
