"""The load generator of `make bench`: one process, one event loop, a fixed
number of unary calls with `--concurrency` in flight over `--channels`
separate HTTP/2 connections, after a warm-up at the same concurrency.

Request and response stay raw bytes (no protobuf work here), so the client
costs the same whichever server answers. Prints one JSON object: calls,
seconds, calls per second, p50 and p99 latency in milliseconds, errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Iterator
from typing import Any

import grpc


async def _drive(
    calls: list[Any], request: bytes, count: int, concurrency: int
) -> tuple[float, list[float], int]:
    """Make `count` calls; (elapsed seconds, latencies in seconds, errors)."""
    work: Iterator[int] = iter(range(count))
    latencies: list[float] = []
    errors = 0

    async def worker(call: Any) -> None:
        nonlocal errors
        for _ in work:
            started = time.perf_counter()
            try:
                await call(request, timeout=30)
            except grpc.aio.AioRpcError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(calls[i % len(calls)]) for i in range(concurrency)))
    return time.perf_counter() - started, latencies, errors


async def run(args: argparse.Namespace) -> dict[str, float]:
    request = bytes.fromhex(args.request_hex)
    # A local subchannel pool per channel: otherwise channels to one target
    # share one TCP connection.
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [
        grpc.aio.insecure_channel(args.target, options=options) for _ in range(args.channels)
    ]
    try:
        for channel in channels:
            await asyncio.wait_for(channel.channel_ready(), timeout=10)
        calls = [channel.unary_unary(args.method) for channel in channels]
        await _drive(calls, request, args.warmup, args.concurrency)
        seconds, latencies, errors = await _drive(calls, request, args.calls, args.concurrency)
    finally:
        for channel in channels:
            await channel.close()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if latencies else [0.0] * 99
    return {
        "calls": args.calls,
        "seconds": seconds,
        "rate": len(latencies) / seconds,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="host:port, e.g. 127.0.0.1:50053")
    parser.add_argument("--method", required=True, help="full method, /pkg.Service/Method")
    parser.add_argument("--request-hex", required=True, help="serialized request, in hex")
    parser.add_argument("--calls", type=int, default=10_000, help="timed calls (default 10000)")
    parser.add_argument("--warmup", type=int, default=1_000, help="untimed calls first")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight")
    parser.add_argument("--channels", type=int, default=4, help="HTTP/2 connections")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
