"""Run the Shopmesh platform locally: `make run` calls this.

Starts every service that exists as a child process on the embedded SQLite
default, prefixes their logs, waits until each reports SERVING on the gRPC
health check, prints the endpoints with copy-paste examples, and stops them
all cleanly (SIGTERM, then the drain) on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
COLORS = ["\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m"]
RESET = "\033[0m"


@dataclass(frozen=True)
class Service:
    name: str
    module: str
    port: int


SERVICES = [
    Service("auth", "shopmesh_auth", 50051),
    Service("user", "shopmesh_user", 50052),
    Service("product", "shopmesh_product", 50053),
    Service("order", "shopmesh_order", 50054),
]


def _env(service: Service, args: argparse.Namespace) -> dict[str, str]:
    prefix = f"SHOPMESH_{service.name.upper()}_"
    env = dict(os.environ)
    env.setdefault(f"{prefix}PORT", str(service.port))
    for other in SERVICES:  # every service finds the others on their ports
        port = os.environ.get(f"SHOPMESH_{other.name.upper()}_PORT", str(other.port))
        env.setdefault(f"{prefix}{other.name.upper()}_SERVICE_TARGET", f"127.0.0.1:{port}")
    env.setdefault(
        f"{prefix}DATABASE_URL", f"sqlite+aiosqlite:///{args.data_dir}/{service.name}.db"
    )
    env.setdefault(f"{prefix}LOG_JSON", "false" if sys.stdout.isatty() else "true")
    return env


async def _pump(name: str, color: str, stream: asyncio.StreamReader) -> None:
    width = max(len(s.name) for s in SERVICES)
    while line := await stream.readline():
        sys.stdout.write(f"{color}{name:<{width}} |{RESET} {line.decode(errors='replace')}")
        sys.stdout.flush()


async def _wait_serving(port: int, limit: float = 60.0) -> None:
    # Short reconnect backoff: the server is expected to come up any moment.
    options = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 500)]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        deadline = asyncio.get_running_loop().time() + limit
        while True:
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"nothing SERVING on port {port} after {limit} s")
            await asyncio.sleep(0.2)


def _banner(ports: dict[str, int], admin_email: str, admin_password: str, generated: bool) -> str:
    auth, product, order = ports["auth"], ports["product"], ports["order"]
    password = admin_password if generated else "$SHOPMESH_ADMIN_PASSWORD"
    register = '{"email": "ada@example.com", "password": "correct horse", "display_name": "Ada"}'
    login = '{"email": "ada@example.com", "password": "correct horse"}'
    order_body = (
        '{"parent": "users/me", "request_id": "\'$(uuidgen)\'", '
        '"order": {"lines": [{"product": "products/espresso-cup", "quantity": 2}]}}'
    )
    lines = [
        "",
        "Shopmesh is running. Ctrl-C stops everything.",
        *(f"  {name:<8} gRPC  127.0.0.1:{port}" for name, port in ports.items()),
        f"  admin    {admin_email}  password: {password}"
        + ("  (generated for this run)" if generated else ""),
        "",
        "Try it with grpcurl (server reflection is on):",
        f"  grpcurl -plaintext 127.0.0.1:{product} list",
        f"  grpcurl -plaintext -d '{{\"page_size\": 3}}' 127.0.0.1:{product} "
        "shopmesh.product.v1.ProductService/ListProducts",
        f"  grpcurl -plaintext -d '{register}' 127.0.0.1:{auth} "
        "shopmesh.auth.v1.AuthService/RegisterAccount",
        f"  TOKEN=$(grpcurl -plaintext -d '{login}' 127.0.0.1:{auth} "
        "shopmesh.auth.v1.AuthService/Login | jq -r .accessToken)",
        f"  grpcurl -plaintext -H \"authorization: Bearer $TOKEN\" -d '{order_body}' "
        f"127.0.0.1:{order} shopmesh.order.v1.OrderService/CreateOrder",
        "",
    ]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    args.data_dir.mkdir(parents=True, exist_ok=True)
    admin_email = os.environ.get("SHOPMESH_ADMIN_EMAIL", "admin@shopmesh.local")
    admin_password = os.environ.get("SHOPMESH_ADMIN_PASSWORD", "")
    generated = not admin_password
    if generated:
        admin_password = secrets.token_urlsafe(12)
    # The order service proves itself to auth with a secret made for this run.
    order_secret = secrets.token_urlsafe(24)
    shared = {
        "SHOPMESH_ADMIN_EMAIL": admin_email,
        "SHOPMESH_ADMIN_PASSWORD": admin_password,
        "SHOPMESH_AUTH_SERVICE_SECRETS": json.dumps({"order": order_secret}),
        "SHOPMESH_ORDER_SERVICE_SECRET": order_secret,
        "SHOPMESH_PRODUCT_SEED_DEMO_CATALOG": "true",
    }
    children: list[asyncio.subprocess.Process] = []
    pumps = []
    for i, service in enumerate(SERVICES):
        env = _env(service, args)
        env.update({k: v for k, v in shared.items() if k not in os.environ})
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            service.module,
            "serve",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        children.append(child)
        assert child.stdout is not None
        pumps.append(
            asyncio.create_task(_pump(service.name, COLORS[i % len(COLORS)], child.stdout))
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    exited = [asyncio.create_task(c.wait()) for c in children]
    try:
        ports = {s.name: int(_env(s, args)[f"SHOPMESH_{s.name.upper()}_PORT"]) for s in SERVICES}
        ready = asyncio.ensure_future(asyncio.gather(*map(_wait_serving, ports.values())))
        waiting: list[asyncio.Future[Any]] = [ready, asyncio.create_task(stop.wait()), *exited]
        done, _ = await asyncio.wait(
            waiting,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if ready in done and not stop.is_set():
            print(_banner(ports, admin_email, admin_password, generated), flush=True)
            waiting = [asyncio.create_task(stop.wait()), *exited]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for child in children:
            if child.returncode is None:
                child.send_signal(signal.SIGTERM)
        await asyncio.gather(*(c.wait() for c in children))
        await asyncio.gather(*pumps)
    failed = [
        s.name for s, c in zip(SERVICES, children, strict=True) if c.returncode not in (0, -15)
    ]
    if failed and not stop.is_set():
        print(f"stopped because {', '.join(failed)} exited", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT / "var",
        help="where the SQLite databases live (default: var/)",
    )
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
