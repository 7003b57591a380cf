"""Helpers for tests that talk to a real server over a real channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from google.rpc import error_details_pb2, status_pb2

from shopmesh_kit.server import GrpcServer


@asynccontextmanager
async def serving(server: GrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    """Start the server (on its port, usually 0) and yield a channel to it."""
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            yield channel
    finally:
        await server.stop(0)


def rich_status(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    """The `google.rpc.Status` in an error's trailing metadata."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status()
            status.ParseFromString(value)
            return status
    raise AssertionError("no grpc-status-details-bin in the trailers")


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    for detail in rich_status(error).details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    raise AssertionError("no ErrorInfo in the status details")


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    for detail in rich_status(error).details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            return {v.field: v.description for v in bad.field_violations}
    raise AssertionError("no BadRequest in the status details")
