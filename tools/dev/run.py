"""Run the Shopmesh platform locally: `make run` calls this.

Starts the four services on the embedded SQLite default and the REST
gateway in front of them, as child processes with prefixed logs; waits until
every service reports SERVING on the gRPC health check and the gateway's
/readyz answers; prints the endpoints with copy-paste curl and grpcurl
examples; and stops everything cleanly (SIGTERM, then the drain) on Ctrl-C.
Ports come from SHOPMESH_<SVC>_PORT and SHOPMESH_GATEWAY_ADDR, databases from
SHOPMESH_<SVC>_DATABASE_URL (default: SQLite files in --data-dir).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopmesh_kit.clients import wait_serving

ROOT = Path(__file__).resolve().parents[2]
COLORS = ["\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m"]
RESET = "\033[0m"
GATEWAY = "gateway"


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


def _port(service: Service) -> int:
    return int(os.environ.get(f"SHOPMESH_{service.name.upper()}_PORT", service.port))


def _service_env(service: Service, data_dir: Path) -> dict[str, str]:
    prefix = f"SHOPMESH_{service.name.upper()}_"
    env = {f"{prefix}PORT": str(_port(service))}
    for other in SERVICES:  # every service finds the others on their ports
        env[f"{prefix}{other.name.upper()}_SERVICE_TARGET"] = f"127.0.0.1:{_port(other)}"
    env[f"{prefix}DATABASE_URL"] = f"sqlite+aiosqlite:///{data_dir}/{service.name}.db"
    env[f"{prefix}LOG_JSON"] = "false" if sys.stdout.isatty() else "true"
    return env


def _gateway_env() -> dict[str, str]:
    env = {f"SHOPMESH_GATEWAY_{s.name.upper()}_TARGET": f"127.0.0.1:{_port(s)}" for s in SERVICES}
    env["SHOPMESH_GATEWAY_ADDR"] = "127.0.0.1:8080"
    return env


async def _pump(name: str, color: str, stream: asyncio.StreamReader) -> None:
    width = len(GATEWAY)
    while line := await stream.readline():
        sys.stdout.write(f"{color}{name:<{width}} |{RESET} {line.decode(errors='replace')}")
        sys.stdout.flush()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:  # noqa: S310 (loopback http)
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


async def _wait_ready(url: str, limit: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not await asyncio.to_thread(_ready, url):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{url} not ready after {limit} s")
        await asyncio.sleep(0.2)


def _banner(gateway: str, ports: dict[str, int], admin: str, password: str) -> str:
    base = f"http://{gateway}"
    product = ports["product"]
    register = '{"email": "ada@example.com", "password": "correct horse", "displayName": "Ada"}'
    login = '{"email": "ada@example.com", "password": "correct horse"}'
    order = '{"lines": [{"product": "products/espresso-cup", "quantity": 2}]}'
    lines = [
        "",
        "Shopmesh is running. Ctrl-C stops everything.",
        f"  REST     {base}   (OpenAPI: {base}/openapi.json)",
        *(f"  {name:<8} gRPC  127.0.0.1:{port}" for name, port in ports.items()),
        f"  admin    {admin}  password: {password}",
        "",
        "Try it:",
        f"  curl -s '{base}/v1/products?pageSize=3'",
        f"  curl -s -X POST {base}/v1/accounts:register -d '{register}'",
        f"  TOKEN=$(curl -s -X POST {base}/v1/accounts:login -d '{login}' "
        "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"accessToken\"])')",
        f'  curl -s -X POST "{base}/v1/users/me/orders?requestId=$(python3 -c '
        '\'import uuid; print(uuid.uuid4())\')" -H "Authorization: Bearer $TOKEN" '
        f"-d '{order}'",
        f"  grpcurl -plaintext 127.0.0.1:{product} list        (grpcurl: .bin/grpcurl)",
        f"  grpcurl -plaintext -d '{{\"page_size\": 3}}' 127.0.0.1:{product} "
        "shopmesh.product.v1.ProductService/ListProducts",
        "",
    ]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> int:
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if not args.gateway.exists():
        print(f"{args.gateway} is missing: run `make gateway`", file=sys.stderr)
        return 2
    admin_email = os.environ.get("SHOPMESH_ADMIN_EMAIL", "admin@shopmesh.local")
    admin_password = os.environ.get("SHOPMESH_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    generated = "SHOPMESH_ADMIN_PASSWORD" not in os.environ
    order_secret = secrets.token_urlsafe(24)  # the order service's identity, for this run
    shared = {
        "SHOPMESH_ADMIN_EMAIL": admin_email,
        "SHOPMESH_ADMIN_PASSWORD": admin_password,
        "SHOPMESH_AUTH_SERVICE_SECRETS": json.dumps({"order": order_secret}),
        "SHOPMESH_ORDER_SERVICE_SECRET": order_secret,
        "SHOPMESH_PRODUCT_SEED_DEMO_CATALOG": "true",
        # Logins arrive through the gateway: throttle by the client it names.
        "SHOPMESH_AUTH_TRUST_FORWARDED_FOR": "true",
    }
    commands: list[tuple[str, list[str], dict[str, str]]] = [
        (s.name, [sys.executable, "-m", s.module, "serve"], _service_env(s, args.data_dir))
        for s in SERVICES
    ]
    commands.append((GATEWAY, [str(args.gateway)], _gateway_env()))
    children: list[asyncio.subprocess.Process] = []
    pumps = []
    for i, (name, argv, defaults) in enumerate(commands):
        env = {**defaults, **shared, **os.environ}  # the caller's environment wins
        child = await asyncio.create_subprocess_exec(
            *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        children.append(child)
        assert child.stdout is not None
        pumps.append(asyncio.create_task(_pump(name, COLORS[i % len(COLORS)], child.stdout)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    exited = [asyncio.create_task(c.wait()) for c in children]
    gateway = os.environ.get("SHOPMESH_GATEWAY_ADDR", _gateway_env()["SHOPMESH_GATEWAY_ADDR"])
    ports = {s.name: _port(s) for s in SERVICES}
    ready = asyncio.ensure_future(
        asyncio.gather(
            *(wait_serving(f"127.0.0.1:{p}") for p in ports.values()),
            _wait_ready(f"http://{gateway}/readyz"),
        )
    )
    try:
        waiting: list[asyncio.Future[Any]] = [ready, asyncio.create_task(stop.wait()), *exited]
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if ready in done and not stop.is_set():
            shown = admin_password if generated else "$SHOPMESH_ADMIN_PASSWORD"
            print(_banner(gateway, ports, admin_email, shown), flush=True)
            waiting = [asyncio.create_task(stop.wait()), *exited]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not ready.done():
            ready.cancel()
        await asyncio.gather(ready, return_exceptions=True)
        for child in children:
            if child.returncode is None:
                child.send_signal(signal.SIGTERM)
        await asyncio.gather(*(c.wait() for c in children))
        await asyncio.gather(*pumps)
    failed = [
        name
        for (name, _, _), child in zip(commands, children, strict=True)
        if child.returncode not in (0, -signal.SIGTERM)
    ]
    if failed and not stop.is_set():
        print(f"stopped because {', '.join(failed)} exited", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog="\n".join(__doc__.splitlines()[2:])
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT / "var",
        help="where the SQLite databases live (default: var/)",
    )
    parser.add_argument(
        "--gateway",
        type=Path,
        default=ROOT / ".bin" / "shopmesh-gateway",
        help="the gateway binary (default: .bin/shopmesh-gateway, built by `make gateway`)",
    )
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
