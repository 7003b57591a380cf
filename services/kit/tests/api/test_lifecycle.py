"""Server lifecycle: health, graceful drain, reflection, metrics, SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families
from shopmesh.product.v1 import product_service_pb2, product_service_pb2_grpc
from shopmesh.user.v1 import user_service_pb2, user_service_pb2_grpc
from shopmesh_kit.auth import AccessRules
from shopmesh_kit.errors import NotFound
from shopmesh_kit.testing.grpc import serving
from shopmesh_kit.testing.tokens import TestKeys, bearer

from .harness import RULES, SERVICE_NAMES, Backend, Shop, build_server

GET_PRODUCT = product_service_pb2.GetProductRequest(name="products/1")
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def check(channel: grpc.aio.Channel, service: str = "") -> Any:
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    return response.status


async def test_health_reports_serving_for_the_server_and_each_service(shop: Shop) -> None:
    for service in ["", *SERVICE_NAMES]:
        assert await check(shop.channel, service) == SERVING, service


async def test_health_of_an_unknown_service_is_not_found(shop: Shop) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await check(shop.channel, "shopmesh.nothing.v1.NothingService")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_health_needs_no_token(shop: Shop) -> None:
    assert await check(shop.channel) == SERVING
    assert shop.backend.calls == []


async def test_stop_reports_not_serving_then_drains_in_flight_rpcs(
    keys: TestKeys, backend: Backend
) -> None:
    server = build_server(backend, keys)
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        entered.set()
        await release.wait()

    backend.script = slow
    async with serving(server) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
        assert (await watch.read()).status == SERVING
        in_flight = asyncio.ensure_future(
            product_service_pb2_grpc.ProductServiceStub(channel).GetProduct(GET_PRODUCT)
        )
        await entered.wait()

        stopping = asyncio.ensure_future(server.stop(10))
        assert (await asyncio.wait_for(watch.read(), 5)).status == NOT_SERVING
        watch.cancel()
        assert not stopping.done()  # still draining the slow RPC

        release.set()
        assert (await asyncio.wait_for(in_flight, 5)).name == "products/1"
        await asyncio.wait_for(stopping, 5)

    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as fresh:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await check(fresh)
        assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_stop_runs_the_stop_callbacks_once(keys: TestKeys, backend: Backend) -> None:
    events: list[str] = []

    async def on_start() -> None:
        events.append("start")

    async def on_stop() -> None:
        events.append("stop")

    server = build_server(backend, keys, on_start=[on_start], on_stop=[on_stop])
    async with serving(server):
        assert events == ["start"]
        await asyncio.gather(server.stop(0), server.stop(0))
    assert events == ["start", "stop"]


async def list_services(channel: grpc.aio.Channel) -> set[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for response in stub.ServerReflectionInfo(iter([request]), timeout=5):
        return {service.name for service in response.list_services_response.service}
    raise AssertionError("no reflection response")


async def test_reflection_lists_the_services(shop: Shop) -> None:
    assert await list_services(shop.channel) == {
        *SERVICE_NAMES,
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }


async def test_reflection_describes_a_service_and_its_messages(shop: Shop) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(shop.channel)
    request = reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="shopmesh.order.v1.OrderService"
    )
    files = []
    async for response in stub.ServerReflectionInfo(iter([request]), timeout=5):
        for data in response.file_descriptor_response.file_descriptor_proto:
            files.append(descriptor_pb2.FileDescriptorProto.FromString(data))
    [service_file] = [f for f in files if f.name == "shopmesh/order/v1/order_service.proto"]
    [service] = service_file.service
    assert {m.name for m in service.method} >= {"CreateOrder", "GetOrder"}


def test_server_refuses_to_build_when_a_method_has_no_access_rule(
    keys: TestKeys, backend: Backend
) -> None:
    without_create_user = {
        name: rule
        for name, rule in RULES.rules.items()
        if name != "/shopmesh.user.v1.UserInternalService/CreateUser"
    }
    with pytest.raises(ValueError, match=r"UserInternalService/CreateUser"):
        build_server(backend, keys, rules=AccessRules(without_create_user))


def scrape(port: int) -> dict[tuple[str, str], float]:
    """grpc_server_handled_total by (method, code)."""
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    handled: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "grpc_server_handled_total":
                handled[sample.labels["grpc_method"], sample.labels["grpc_code"]] = sample.value
    return handled


async def test_metrics_count_handled_rpcs_by_status_code(keys: TestKeys, backend: Backend) -> None:
    async def not_found_for_users() -> None:
        if backend.calls[-1].method == "GetUser":
            raise NotFound("no such user")

    backend.script = not_found_for_users
    server = build_server(backend, keys, metrics_port=0)
    async with serving(server) as channel:
        products = product_service_pb2_grpc.ProductServiceStub(channel)
        users = user_service_pb2_grpc.UserServiceStub(channel)
        admin = bearer(keys.token("admin-1", ["admin"]))
        await products.GetProduct(GET_PRODUCT)
        await products.GetProduct(GET_PRODUCT)
        for call in (
            users.GetUser(user_service_pb2.GetUserRequest(name="users/B"), metadata=admin),
            users.GetUser(user_service_pb2.GetUserRequest(name="users/B")),
        ):
            with pytest.raises(grpc.aio.AioRpcError):
                await call
        assert server.metrics_port
        handled = await asyncio.to_thread(scrape, server.metrics_port)
    assert handled[("GetProduct", "OK")] == 2
    assert handled[("GetUser", "NOT_FOUND")] == 1
    assert handled[("GetUser", "UNAUTHENTICATED")] == 1


SERVE_SCRIPT = """
    import asyncio
    import logging

    from shopmesh_kit.auth import AccessRules, TokenVerifier
    from shopmesh_kit.server import GrpcServer
    from shopmesh_kit.testing.tokens import TestKeys


    async def main() -> None:
        async def announce() -> None:
            # call_soon: the port is printed once serve() has installed its signal handlers
            asyncio.get_running_loop().call_soon(lambda: print(server.port, flush=True))

        keys = TestKeys()
        server = GrpcServer(
            bindings=[],
            rules=AccessRules(),
            verifier=TokenVerifier(keys, issuer=keys.issuer, audience=keys.audience),
            error_domain="test.shopmesh.dev",
            on_start=[announce],
        )
        await server.serve()


    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
"""


async def test_sigterm_drains_and_exits_cleanly(tmp_path: Path) -> None:
    script = tmp_path / "serve.py"
    script.write_text(textwrap.dedent(SERVE_SCRIPT))
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        port = int(await asyncio.wait_for(process.stdout.readline(), 30))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            assert await check(channel) == SERVING
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert "stopped" in stderr.decode()


async def test_access_log_records_method_code_and_caller(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shopmesh.rpc")
    await shop.products.GetProduct(GET_PRODUCT, metadata=shop.customer("A"))
    [record] = [r for r in caplog.records if r.name == "shopmesh.rpc"]
    rpc: dict[str, Any] = record.rpc  # type: ignore[attr-defined]
    assert rpc["service"] == "shopmesh.product.v1.ProductService"
    assert rpc["method"] == "GetProduct"
    assert rpc["code"] == "OK"
    assert rpc["principal"] == "A"
    assert rpc["duration_ms"] >= 0
