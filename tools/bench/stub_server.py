"""The floor for `make bench`: a minimal grpc.aio server that answers
ProductService.GetProduct with one precomputed, already serialized Product.

No interceptors, no database, no protobuf work per call (a generic handler
with raw bytes in and out), plus the standard health service so the bench
waits for it like for a real service. Stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

METHOD = "/shopmesh.product.v1.ProductService/GetProduct"


class _GetProduct(grpc.GenericRpcHandler):  # type: ignore[misc]
    def __init__(self, answer: bytes) -> None:
        self._handler = grpc.unary_unary_rpc_method_handler(self._get)
        self._answer = answer

    async def _get(self, request: bytes, context: Any) -> bytes:
        return self._answer

    def service(self, handler_call_details: Any) -> Any:
        return self._handler if handler_call_details.method == METHOD else None


async def serve(port: int, answer: bytes) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((_GetProduct(answer),))
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        raise OSError(f"cannot listen on 127.0.0.1:{port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    await stop.wait()
    await server.stop(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument(
        "--answer", type=Path, required=True, help="file holding the serialized Product to return"
    )
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.answer.read_bytes()))


if __name__ == "__main__":
    main()
