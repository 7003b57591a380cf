"""REST benchmark (`make bench-rest`): the REST edge, the gateway binary of
`make gateway`, in front of the services. Prints; never asserts.

1. GET /v1/products/{id} (requests/s, p50, p99): the gateway in front of the
   real product service on PostgreSQL (demo catalog) versus the same
   gateway binary in front of `go/cmd/productstub`, a minimal Go gRPC server
   answering GetProduct with the Product the real service returned.
   Targets: ratio >= 0.20, p99 < 50 ms (at the concurrency shown).
2. POST /v1/users/me/orders through the gateway and all four services, as
   many customers on many products of large stock: orders/s, p50, p99 and
   answers by HTTP status, after a warm-up; then the confirmed orders and
   the products' stock are read back through the REST API, and the units
   sold must equal the stock taken. Targets: >= 400 orders/s, no oversell.

Load comes from `go/cmd/restload` (Go, net/http keep-alive, a fixed count
from N workers, log-linear latency histogram) in its own process; it
prints JSON, which this driver parses. Rows without a target say where the
CPU went per request, by process (from /proc), as in `make bench`, and how
many cores all of them kept busy during the run: near the machine's count,
the figure is bounded by the CPU of the whole stack, not by one process.

One Python process per service. The gateway takes one gRPC target per
service and dials it with grpc-go's default pick_first policy, which sends
every call over one connection to one address; grpc-go has no static
multi-address resolver and the gateway sets no service config, so several
order or product processes cannot be put behind it without changing the
gateway. The figures are therefore for one process per service.

Processes, PostgreSQL and clean-up come from `bench_platform` (run this
module as `python -m tools.bench.bench_rest` from the repository root).
Everything listens on and talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import grpc
import httpx
import psycopg
from shopmesh.product.v1 import product_service_pb2, product_service_pb2_grpc
from shopmesh_kit.testing.postgres import LocalPostgres
from shopmesh_kit.testing.processes import free_port

from tools.bench.bench_platform import (
    DEMO_PRODUCT,
    ROOT,
    SERVICES,
    STOCK,
    Children,
    Figure,
    Platform,
    Snapshot,
    bench_main,
    bench_products,
    compare,
    cpu_meter,
    cpu_model,
    per_unit,
    prepare_stack,
    say,
    start_platform,
    wait_serving,
)

PLACES = {
    "gateway": "gateway",
    "server": "upstream (service / stub)",
    "auth": "auth service",
    "user": "user service",
    "product": "product service",
    "order": "order service",
    "postgres": "PostgreSQL",
    "load": "load generator (Go)",
}
P99_TARGET_MS = 50.0
ORDERS_TARGET = 400.0
PAGE = 1000  # the largest page ListOrders and ListProducts return


# ---------------------------------------------------------------- processes


@dataclass(frozen=True)
class Bench:
    args: argparse.Namespace
    children: Children
    tmp: Path  # plans and the stub's answer
    platform: Platform

    def binary(self, name: str) -> str:
        return str(self.args.bin_dir / name)


def gateway_env(port: int, targets: Mapping[str, str]) -> dict[str, str]:
    """The gateway's environment: our ports and upstreams; inherited
    SHOPMESH_* and OTEL_* variables dropped (no span exporter)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPMESH_", "OTEL_"))}
    env["SHOPMESH_GATEWAY_ADDR"] = f"127.0.0.1:{port}"
    env["SHOPMESH_GATEWAY_METRICS_ADDR"] = f"127.0.0.1:{free_port()}"
    for service, target in targets.items():
        env[f"SHOPMESH_GATEWAY_{service.upper()}_TARGET"] = target
    return env


async def start_gateway(bench: Bench, name: str, targets: Mapping[str, str]) -> str:
    """Start a gateway in front of `targets`; its base URL once /readyz is 200."""
    port = free_port()
    bench.children.start(name, [bench.binary("shopmesh-gateway")], gateway_env(port, targets))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=base, timeout=2, trust_env=False) as http:
        while True:
            bench.children.check(name)
            try:
                if (await http.get("/readyz")).status_code == 200:
                    return base
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not ready after 30 s:\n{bench.children.log(name)}")
            await asyncio.sleep(0.2)


@dataclass(frozen=True)
class LoadRun:
    result: dict[str, Any]  # restload's JSON
    cpu: dict[str, float]  # CPU seconds per request by place, warm-up included
    cores: float  # CPU seconds of every place per second of the run: how busy the machine was

    def answered(self, phase: str, ok: bool = True) -> int:
        """Requests of `phase` ("status" or "warmup_status") answered 2xx, or not."""
        return sum(n for key, n in self.result[phase].items() if key.startswith("2") == ok)


async def run_load(
    bench: Bench,
    name: str,
    base: str,
    plan: Sequence[Mapping[str, object]],
    counts: tuple[int, int, int],  # requests, warm-up, concurrency
    meter: Snapshot,
) -> LoadRun:
    """Run restload against `base`; its figures, and the CPU it cost where."""
    requests, warmup, concurrency = counts
    plan_file = bench.tmp / f"{name}.json"
    plan_file.write_text(json.dumps(plan))
    before, started = meter(), time.monotonic()
    bench.children.start(
        name,
        [
            bench.binary("restload"),
            f"--base-url={base}",
            f"--plan={plan_file}",
            f"--requests={requests}",
            f"--warmup={warmup}",
            f"--concurrency={concurrency}",
        ],
    )
    result = await bench.children.result(name, limit=bench.args.time_limit)
    after, elapsed = meter(), time.monotonic() - started
    busy = sum(after[place] - before[place] for place in PLACES if place in before)
    return LoadRun(result, per_unit(before, after, requests + warmup), busy / elapsed)


def cpu_rows(
    what: str, scale: float, ours: dict[str, float], base: dict[str, float] | None = None
) -> list[Figure]:
    """One row per place where CPU was spent, per request (times `scale`)."""

    def number(cpu: dict[str, float] | None, place: str) -> str:
        if cpu is None or place not in cpu:
            return "-"
        value = cpu[place] * scale
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"

    return [
        Figure(f"{what}, {label}", number(ours, place), number(base, place))
        for place, label in PLACES.items()
        if place in ours or (base and place in base)
    ]


def cores_row(what: str, ours: LoadRun, base: LoadRun | None = None) -> Figure:
    cores = len(os.sched_getaffinity(0))
    return Figure(
        f"{what} cores busy (of {cores}), all rows",
        f"{ours.cores:.2f}",
        f"{base.cores:.2f}" if base else "-",
    )


def statuses(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{key}: {n}" for key, n in sorted(counts.items())) or "-"


# ---------------------------------------------------------------- 1. GET /v1/products/{id}


async def fetch_product(platform_: Platform, name: str) -> bytes:
    """The serialized Product the real service answers, over gRPC."""
    async with grpc.aio.insecure_channel(platform_.target("product")) as channel:
        stub = product_service_pb2_grpc.ProductServiceStub(channel)
        product = await stub.GetProduct(
            product_service_pb2.GetProductRequest(name=name), timeout=10
        )
    if product.name != name:
        raise RuntimeError(f"GetProduct did not return {name}")
    answer: bytes = product.SerializeToString()
    return answer


async def rest_json(base: str, path: str) -> Any:
    async with httpx.AsyncClient(base_url=base, timeout=10, trust_env=False) as http:
        reply = await http.get(path)
        reply.raise_for_status()
        return reply.json()


async def bench_get_product(bench: Bench, gateway: str) -> list[Figure]:
    args, children, platform_ = bench.args, bench.children, bench.platform
    name = f"products/{DEMO_PRODUCT}"
    path = f"/v1/{name}"
    plan = [{"method": "GET", "path": path}]
    counts = (args.get_requests, args.get_warmup, args.get_concurrency)

    say(f"GET {path} through the gateway: the product service")
    places = {"gateway": children.pid("gateway"), "server": children.pid("product")}
    ours = await run_load(bench, "load-get", gateway, plan, counts, cpu_meter(platform_.pg, places))

    answer = bench.tmp / "product.bin"
    answer.write_bytes(await fetch_product(platform_, name))
    port = free_port()
    stub = [bench.binary("productstub"), f"--addr=127.0.0.1:{port}", f"--answer={answer}"]
    children.start("stub", stub)
    await wait_serving(children, "stub", port)
    targets = {s: platform_.target(s) for s in SERVICES} | {"product": f"127.0.0.1:{port}"}
    stub_gateway = await start_gateway(bench, "gateway-stub", targets)
    say(f"GET {path} through the same gateway binary: the Go stub")
    places = {"gateway": children.pid("gateway-stub"), "server": children.pid("stub")}
    base = await run_load(
        bench, "load-get-stub", stub_gateway, plan, counts, cpu_meter(platform_.pg, places)
    )
    same = await rest_json(gateway, path) == await rest_json(stub_gateway, path)
    children.stop("gateway-stub")
    children.stop("stub")

    ours_p99, base_p99 = ours.result["p99_ms"], base.result["p99_ms"]
    figures = [
        compare(
            "GET product req/s (vs gateway + Go stub)",
            ours.result["rate"],
            base.result["rate"],
            ".0f",
            0.20,
        ),
        Figure(
            "GET product p50 ms", f"{ours.result['p50_ms']:.2f}", f"{base.result['p50_ms']:.2f}"
        ),
        Figure(
            "GET product p99 ms",
            f"{ours_p99:.2f}",
            f"{base_p99:.2f}",
            target=f"< {P99_TARGET_MS:.0f} ms",
            verdict="meets" if ours_p99 < P99_TARGET_MS else "ABOVE",
        ),
        Figure("GET product: same JSON from both", "yes" if same else "NO", ""),
        *cpu_rows("GET product CPU us/request", 1e6, ours.cpu, base.cpu),
        cores_row("GET product CPU:", ours, base),
    ]
    if ours.answered("status", ok=False) or base.answered("status", ok=False):
        figures.append(
            Figure(
                "GET product answers by status",
                statuses(ours.result["status"]),
                statuses(base.result["status"]),
            )
        )
    return figures


# ---------------------------------------------------------------- 2. POST orders


def order_plan(
    args: argparse.Namespace, tokens: Sequence[str], ids: Sequence[str]
) -> list[dict[str, object]]:
    """One request per order, warm-up first: a fresh requestId each, the
    customers taking turns, `--lines` distinct products of one unit each."""
    rng = random.Random(20_260_101)  # noqa: S311 - the shape of the load, not security
    plan: list[dict[str, object]] = []
    for i in range(args.order_warmup + args.orders):
        lines = [{"product": f"products/{p}", "quantity": 1} for p in rng.sample(ids, args.lines)]
        plan.append(
            {
                "method": "POST",
                "path": f"/v1/users/me/orders?requestId={uuid.uuid4()}",
                "headers": {"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
                "body": json.dumps({"lines": lines}),
            }
        )
    return plan


async def pages(http: httpx.AsyncClient, path: str, key: str, **params: str) -> list[Any]:
    """Every item of a paginated REST list."""
    items: list[Any] = []
    query = {**params, "pageSize": str(PAGE)}
    while True:
        reply = await http.get(path, params=query)
        reply.raise_for_status()
        body = reply.json()
        items += body.get(key, [])
        if not body.get("nextPageToken"):
            return items
        query["pageToken"] = body["nextPageToken"]


@dataclass(frozen=True)
class ReadBack:
    orders: dict[str, int]  # orders by state
    sold: int  # units in confirmed orders
    taken: int  # stock the bench products lost


async def read_back(base: str, platform_: Platform, ids: Sequence[str]) -> ReadBack:
    """Every order and the bench products' stock, as the admin sees them
    through the REST API."""
    async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as http:
        email, password = platform_.admin
        login = await http.post("/v1/accounts:login", json={"email": email, "password": password})
        login.raise_for_status()
        http.headers["Authorization"] = f"Bearer {login.json()['accessToken']}"
        orders = await pages(http, "/v1/users/-/orders", "orders")
        products = await pages(http, "/v1/products", "products", filter='category = "bench"')
    states: Counter[str] = Counter(order["state"] for order in orders)
    sold = sum(
        int(line["quantity"])
        for order in orders
        if order["state"] == "CONFIRMED"
        for line in order["lines"]
    )
    wanted = {f"products/{i}" for i in ids}
    available = [int(p.get("availableQuantity", 0)) for p in products if p["name"] in wanted]
    if len(available) != len(wanted):
        raise RuntimeError(f"read back {len(available)} of the {len(wanted)} bench products")
    return ReadBack(dict(states), sold, sum(STOCK - units for units in available))


async def bench_orders(bench: Bench, gateway: str) -> list[Figure]:
    args, children, platform_ = bench.args, bench.children, bench.platform
    products = bench_products(args.products)
    ids = [product_id for product_id, _ in products]
    say(f"registering {args.customers} customers, creating {len(ids)} products")
    tokens = await prepare_stack(args, platform_, products)

    say("POST /v1/users/me/orders through the gateway and the four services")
    places = {"gateway": children.pid("gateway")} | {s: children.pid(s) for s in SERVICES}
    run = await run_load(
        bench,
        "load-orders",
        gateway,
        order_plan(args, tokens, ids),
        (args.orders, args.order_warmup, args.order_concurrency),
        cpu_meter(platform_.pg, places),
    )
    say("reading the orders and the stock back through the REST API")
    back = await read_back(gateway, platform_, ids)

    rate, confirmed = run.result["rate"], back.orders.get("CONFIRMED", 0)
    answered = run.answered("status") + run.answered("warmup_status")
    oversold = back.sold != back.taken
    return [
        Figure(
            "POST order orders/s",
            f"{rate:.1f}",
            "-",
            target=f">= {ORDERS_TARGET:.0f}",
            verdict="meets" if rate >= ORDERS_TARGET else "BELOW",
        ),
        Figure("POST order p50 ms", f"{run.result['p50_ms']:.1f}", "-"),
        Figure("POST order p99 ms", f"{run.result['p99_ms']:.1f}", "-"),
        Figure("POST order answers by status, timed", statuses(run.result["status"]), "-"),
        Figure("POST order answers by status, warm-up", statuses(run.result["warmup_status"]), "-"),
        Figure("orders read back, by state", statuses(back.orders), "-"),
        Figure(
            "orders read back CONFIRMED = 2xx answers",
            f"{confirmed} {'=' if confirmed == answered else '!='} {answered}",
            "-",
        ),
        Figure(
            "stock: confirmed units = stock taken",
            f"ok {back.sold} = {back.taken}" if not oversold else f"{back.sold} != {back.taken}",
            "-",
            target="equal",
            verdict="OVERSOLD" if back.sold > back.taken else ("MISSED" if oversold else "meets"),
        ),
        *cpu_rows("POST order CPU ms/order", 1e3, run.cpu),
        cores_row("POST order CPU:", run),
    ]


# ---------------------------------------------------------------- main


def go_version(binary: Path) -> str:
    """The Go release a binary was built with, as `go version` reads it."""
    found = subprocess.run(  # noqa: S603 - the go tool on our own builds
        ["go", "version", str(binary)],  # noqa: S607 - the go on PATH, as make's
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip().rpartition(" ")[2] or "?"


async def facts(bench: Bench, load: tuple[float, float, float]) -> list[str]:
    args = bench.args
    conninfo = bench.platform.conninfo("postgres")
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        row = await (await conn.execute("SELECT version()")).fetchone()
    postgres = str(row[0]).split(" on ")[0] if row else "PostgreSQL ?"
    gateway, restload = (go_version(args.bin_dir / b) for b in ("shopmesh-gateway", "restload"))
    return [
        f"machine    {len(os.sched_getaffinity(0))} usable cores of {os.cpu_count()}, "
        f"{cpu_model()}; load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        f"software   python {platform.python_version()}, gateway {gateway}, "
        f"restload {restload}, {postgres} (throwaway, fsync off)",
        "processes  one per service and one gateway (access log to a file); restload in its "
        "own process; everything on 127.0.0.1"
        + ("; services UNDER cPROFILE: figures not comparable" if args.profile_dir else ""),
        f"load       GET: {args.get_requests} requests after {args.get_warmup}, "
        f"{args.get_concurrency} in flight on keep-alive connections, the same for both",
        f"           POST order: {args.orders} orders of {args.lines} line(s) x 1 unit after "
        f"{args.order_warmup}, {args.order_concurrency} in flight, {args.customers} customers, "
        f"{args.products} products of {STOCK} units",
    ]


async def run(
    args: argparse.Namespace,
    pg: LocalPostgres,
    children: Children,
    tmp: Path,
    load: tuple[float, float, float],
) -> tuple[list[str], list[Figure]]:
    async with asyncio.timeout(args.time_limit):
        say("starting auth, user, product and order")
        bench = Bench(args, children, tmp, await start_platform(args, pg, children))
        targets = {s: bench.platform.target(s) for s in SERVICES}
        gateway = await start_gateway(bench, "gateway", targets)
        figures = await bench_get_product(bench, gateway)
        figures += await bench_orders(bench, gateway)
        return await facts(bench, load), figures


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every cleanup below


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.bench_rest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The defaults take about 2 minutes on 2 idle cores.",
    )
    add = parser.add_argument
    add(
        "--bin-dir",
        type=Path,
        default=ROOT / ".bin",
        help="holds shopmesh-gateway, restload and productstub (default: .bin)",
    )
    add("--get-requests", type=int, default=10_000, help="timed GETs per gateway (10000)")
    add("--get-warmup", type=int, default=1_000, help="untimed GETs first (1000)")
    add("--get-concurrency", type=int, default=32, help="GETs in flight (32)")
    add("--orders", type=int, default=1_500, help="timed orders (1500)")
    add("--order-warmup", type=int, default=64, help="untimed orders first (64)")
    add("--order-concurrency", type=int, default=32, help="orders in flight (32)")
    add("--lines", type=int, default=1, help="lines per order, distinct products, 1 unit (1)")
    add("--customers", type=int, default=48, help="customers registered and logged in (48)")
    add("--products", type=int, default=1_000, help=f"products of {STOCK} units (1000)")
    add("--log-level", help="services' log level (default: theirs, INFO)")
    add("--log-dir", type=Path, help="keep the logs here (default: removed)")
    add(
        "--profile-dir",
        type=Path,
        help="run the services under cProfile (figures not comparable); .prof and .txt here",
    )
    add("--time-limit", type=float, default=170, help="give up after this many seconds (170)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    needed = ("shopmesh-gateway", "restload", "productstub")
    missing = [name for name in needed if not (args.bin_dir / name).exists()]
    if missing:
        sys.exit(f"bench-rest: no {', '.join(missing)} in {args.bin_dir}: run make bench-rest")
    bench_main("bench-rest", args, run)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything is cleaned up by then
        sys.exit(130)
