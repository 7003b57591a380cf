"""Platform benchmark (`make bench`): each figure next to a baseline measured
in the same run, and the target it is compared with. Prints; never asserts.

1. gRPC GetProduct (calls/s, p50, p99): the real product service process on
   PostgreSQL (demo catalog) versus `stub_server.py`, a bare grpc.aio server
   returning the same serialized Product. Both are driven by the same separate
   client process (`grpc_load.py`). Target: ratio >= 0.8.
2. GetProduct read path, in this process, one call at a time: the service's
   `Catalog.get` (SQLAlchemy async session, mapping to the domain Product)
   versus the same SELECT through a raw, prepared psycopg async connection.
   Target: ratio >= 0.85.
3. CreateOrder orders/s through the real stack (auth, user, product and order
   processes; customers registered and logged in first; many products with
   large stock), versus the saga's writes run directly with psycopg against
   two other databases of the same schema, at the same concurrency. Also
   checks that stock sold equals stock taken, on both. Target: ratio >= 0.25.
4. RSS of each service process after the load, versus the stub server's.
   Target: <= 100 MiB each.

Rows without a target say where the CPU went, per call or per order, by
process (from /proc: the services, every PostgreSQL backend, the clients):
on a small machine that, more than wall time, shows what a layer costs.

Everything listens on and talks to 127.0.0.1. The throwaway PostgreSQL
(kit's `start_local_postgres`) runs with fsync and synchronous_commit off.
Child processes run in their own process groups and are stopped, and the
PostgreSQL server removed, on every exit path.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import json
import os
import platform
import pstats
import random
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import grpc
import psycopg
import sqlalchemy
from google.protobuf import __version__ as protobuf_version
from psycopg import sql
from shopmesh.auth.v1 import auth_service_pb2, auth_service_pb2_grpc
from shopmesh.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from shopmesh.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from shopmesh_kit.clients import wait_serving as grpc_wait_serving
from shopmesh_kit.db import Database
from shopmesh_kit.migrations import upgrade_async
from shopmesh_kit.money import to_money
from shopmesh_kit.testing.postgres import LocalPostgres, find_bindir, start_local_postgres
from shopmesh_kit.testing.processes import free_port
from shopmesh_order.app import MIGRATIONS as ORDER_MIGRATIONS
from shopmesh_order.db.models import OrderLineRow, OrderRow
from shopmesh_product.app import MIGRATIONS as PRODUCT_MIGRATIONS
from shopmesh_product.db.models import ProductRow, ReservationLineRow, ReservationRow
from shopmesh_product.service import Catalog

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SERVICES = ("auth", "user", "product", "order")
GET_PRODUCT = "/shopmesh.product.v1.ProductService/GetProduct"
DEMO_PRODUCT = "espresso-cup"  # in the demo catalog the product service seeds
STOCK = 1_000_000  # per benchmark product: no order ever runs short
LOCAL = [("grpc.use_local_subchannel_pool", 1)]  # one TCP connection per channel


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Figure:
    name: str
    ours: str
    baseline: str
    ratio: str = ""
    target: str = ""
    verdict: str = ""


def compare(name: str, ours: float, baseline: float, fmt: str, minimum: float) -> Figure:
    """A higher-is-better figure with its ratio to the baseline."""
    ratio = ours / baseline if baseline else 0.0
    return Figure(
        name,
        format(ours, fmt),
        format(baseline, fmt),
        f"{ratio:.2f}",
        f">= {minimum:.2f}",
        "meets" if ratio >= minimum else "BELOW",
    )


def print_table(figures: Sequence[Figure]) -> None:
    head = ("figure", "shopmesh", "baseline", "ratio", "target", "")
    widths = (48, 16, 16, 7, 10, 6)
    rows = [head, *((f.name, f.ours, f.baseline, f.ratio, f.target, f.verdict) for f in figures)]
    for row in rows:
        cells = [f"{row[0]:<{widths[0]}}"]
        cells += [f"{cell:>{width}}" for cell, width in zip(row[1:], widths[1:], strict=True)]
        print(" ".join(cells).rstrip())


# ---------------------------------------------------------------- processes


class Children:
    """Child processes, each the leader of its own process group, logging
    to files; `stop_all` ends every group (SIGTERM, then SIGKILL)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        with (self.log_dir / f"{name}.log").open("wb") as log:
            self._procs[name] = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def pid(self, name: str) -> int:
        return self._procs[name].pid

    def log(self, name: str, lines: int = 20) -> str:
        text = (self.log_dir / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def check(self, name: str) -> None:
        code = self._procs[name].poll()
        if code is not None:
            raise RuntimeError(f"{name} exited with {code}; its last lines:\n{self.log(name)}")

    async def result(self, name: str, limit: float) -> dict[str, Any]:
        """Wait up to `limit` seconds for a one-shot child; the JSON object it
        printed last. Polls, so that a signal can cancel the wait at once."""
        deadline = time.monotonic() + limit
        while (code := self._procs[name].poll()) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} still running after {limit} s")
            await asyncio.sleep(0.1)
        if code != 0:
            raise RuntimeError(f"{name} failed ({code}):\n{self.log(name)}")
        result: dict[str, Any] = json.loads(self.log(name, 1))
        return result

    def stop(self, name: str) -> None:
        proc = self._procs.pop(name)
        try:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:  # the group is gone already
            proc.wait()

    def stop_all(self) -> None:
        for name in reversed(list(self._procs)):
            self.stop(name)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User and system CPU of a live process so far (plus, with `reaped`,
    of its children it has waited for); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu(pg: LocalPostgres) -> float:
    """CPU of the postmaster and every backend, live or gone."""
    postmaster = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
    total = cpu_seconds(postmaster, reaped=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == postmaster:
            total += cpu_seconds(int(stat.parent.name))
    return total


Snapshot = Callable[[], dict[str, float]]


def cpu_meter(pg: LocalPostgres, processes: dict[str, int]) -> Snapshot:
    """CPU seconds so far of `processes`, of PostgreSQL, of this process
    (`client`) and of its waited-for children (`load`)."""

    def snapshot() -> dict[str, float]:
        cpu = {name: cpu_seconds(pid) for name, pid in processes.items()}
        cpu["postgres"] = postgres_cpu(pg)
        cpu["client"] = time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu["load"] = children.ru_utime + children.ru_stime
        return cpu

    return snapshot


CPU_PLACES = {
    "server": "server process",
    "order": "order service",
    "product": "product service",
    "auth": "auth service",
    "user": "user service",
    "postgres": "PostgreSQL",
    "load": "load generator process",
    "client": "this process",
}


def cpu_figures(
    what: str, scale: float, ours: dict[str, float], base: dict[str, float], places: Sequence[str]
) -> list[Figure]:
    """One row per place where CPU was spent, per unit of work (times `scale`)."""
    return [
        Figure(
            f"{what}, {CPU_PLACES[place]}",
            _number(ours[place] * scale) if place in ours else "-",
            _number(base[place] * scale) if place in base else "-",
        )
        for place in places
    ]


def _number(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def per_unit(before: dict[str, float], after: dict[str, float], units: int) -> dict[str, float]:
    return {name: (after[name] - before[name]) / units for name in before}


async def wait_serving(children: Children, name: str, port: int, limit: float = 90) -> None:
    try:
        await grpc_wait_serving(
            f"127.0.0.1:{port}", limit=limit, check=lambda: children.check(name)
        )
    except TimeoutError:
        raise TimeoutError(f"{name} not SERVING after {limit} s:\n{children.log(name)}") from None


# ---------------------------------------------------------------- the platform


@dataclass(frozen=True)
class Platform:
    pg: LocalPostgres
    ports: dict[str, int]
    databases: dict[str, str]
    admin: tuple[str, str]  # email, password
    order_secret: str  # what the order service trades for a service token

    def target(self, service: str) -> str:
        return f"127.0.0.1:{self.ports[service]}"

    def conninfo(self, database: str) -> str:
        return psycopg.conninfo.make_conninfo(
            host=self.pg.host, port=self.pg.port, user=self.pg.user, dbname=database
        )


def service_env(name: str, platform_: Platform, log_level: str | None) -> dict[str, str]:
    """The environment `make run` would give the service, pointed at our
    ports and databases; inherited SHOPMESH_* variables are dropped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPMESH_")}
    env.update(
        SHOPMESH_ADMIN_EMAIL=platform_.admin[0],
        SHOPMESH_ADMIN_PASSWORD=platform_.admin[1],
        SHOPMESH_AUTH_SERVICE_SECRETS=json.dumps({"order": platform_.order_secret}),
        SHOPMESH_ORDER_SERVICE_SECRET=platform_.order_secret,
        SHOPMESH_PRODUCT_SEED_DEMO_CATALOG="true",
    )
    prefix = f"SHOPMESH_{name.upper()}_"
    env[f"{prefix}PORT"] = str(platform_.ports[name])
    env[f"{prefix}DATABASE_URL"] = platform_.pg.url(platform_.databases[name])
    env[f"{prefix}LOG_JSON"] = "true"
    env[f"{prefix}GRACE_PERIOD_SECONDS"] = "1"
    if log_level:
        env[f"{prefix}LOG_LEVEL"] = log_level
    for other in SERVICES:
        if other != name:
            env[f"{prefix}{other.upper()}_SERVICE_TARGET"] = platform_.target(other)
    return env


async def start_platform(
    args: argparse.Namespace, pg: LocalPostgres, children: Children
) -> Platform:
    databases = {name: f"bench_{name}" for name in SERVICES}
    for database in databases.values():
        pg.create_database_sync(database)
    platform_ = Platform(
        pg,
        ports={name: free_port() for name in SERVICES},
        databases=databases,
        admin=("bench-admin@shopmesh.local", secrets.token_urlsafe(16)),
        order_secret=secrets.token_urlsafe(24),
    )
    for name in SERVICES:
        env = service_env(name, platform_, args.log_level)
        program = ["-m", f"shopmesh_{name}", "serve"]
        if args.profile_dir:
            program = ["-m", "cProfile", "-o", str(args.profile_dir / f"{name}.prof"), *program]
        children.start(name, [sys.executable, *program], env)
    for name in SERVICES:
        await wait_serving(children, name, platform_.ports[name])
    return platform_


# ---------------------------------------------------------------- 1. gRPC GetProduct


async def run_load(
    args: argparse.Namespace, children: Children, name: str, target: str, request: bytes
) -> dict[str, Any]:
    """Run the load generator; its results."""
    children.start(
        name,
        [
            sys.executable,
            str(HERE / "grpc_load.py"),
            f"--target={target}",
            f"--method={GET_PRODUCT}",
            f"--request-hex={request.hex()}",
            f"--calls={args.grpc_calls}",
            f"--warmup={args.grpc_warmup}",
            f"--concurrency={args.grpc_concurrency}",
            f"--channels={args.grpc_channels}",
        ],
    )
    return await children.result(name, limit=120)


async def bench_get_product(
    args: argparse.Namespace, platform_: Platform, children: Children, tmp: Path
) -> tuple[list[Figure], float]:
    """Figures of step 1, and the stub server's RSS after its load."""
    request = product_service_pb2.GetProductRequest(name=f"products/{DEMO_PRODUCT}")
    async with grpc.aio.insecure_channel(platform_.target("product")) as channel:
        answer: bytes = await channel.unary_unary(GET_PRODUCT)(
            request.SerializeToString(), timeout=10
        )
    if product_pb2.Product.FromString(answer).name != request.name:
        raise RuntimeError(f"GetProduct did not return {request.name}")
    (tmp / "product.bin").write_bytes(answer)
    stub_port = free_port()
    stub = [sys.executable, str(HERE / "stub_server.py"), f"--port={stub_port}"]
    children.start("stub", [*stub, f"--answer={tmp / 'product.bin'}"])
    await wait_serving(children, "stub", stub_port)
    calls = args.grpc_calls + args.grpc_warmup
    runs = []
    for server, target in (
        ("product", platform_.target("product")),
        ("stub", f"127.0.0.1:{stub_port}"),
    ):
        meter = cpu_meter(platform_.pg, {"server": children.pid(server)})
        before = meter()
        result = await run_load(
            args, children, f"load-{server}", target, request.SerializeToString()
        )
        runs.append((result, per_unit(before, meter(), calls)))
    (ours, ours_cpu), (base, base_cpu) = runs
    stub_rss = rss_mib(children.pid("stub"))
    children.stop("stub")
    errors = int(ours["errors"]) + int(base["errors"])
    name = "GetProduct gRPC calls/s (vs bare grpc.aio)"
    figures = [
        compare(name, ours["rate"], base["rate"], ".0f", 0.8),
        Figure("GetProduct gRPC p50 ms", f"{ours['p50_ms']:.2f}", f"{base['p50_ms']:.2f}"),
        Figure("GetProduct gRPC p99 ms", f"{ours['p99_ms']:.2f}", f"{base['p99_ms']:.2f}"),
        *cpu_figures(
            "GetProduct CPU us/call", 1e6, ours_cpu, base_cpu, ["server", "postgres", "load"]
        ),
    ]
    if errors:
        figures.append(Figure("GetProduct gRPC errors", str(ours["errors"]), str(base["errors"])))
    return figures, stub_rss


# ---------------------------------------------------------------- 2. read path


SELECT_PRODUCT = (
    "SELECT id, display_name, description, category, price_cents, available_quantity,"
    " revision, create_time, update_time, delete_time"
    " FROM products WHERE id = %s AND delete_time IS NULL"
)


async def sequential_rate(
    calls: int, call: Callable[[], Awaitable[object]], meter: Snapshot, profile: Path | None
) -> tuple[float, dict[str, float]]:
    """Calls per second, one at a time, after a warm-up of a tenth; CPU
    seconds per call by place."""
    for _ in range(max(calls // 10, 50)):
        await call()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    before = meter()
    started = time.perf_counter()
    for _ in range(calls):
        await call()
    elapsed = time.perf_counter() - started
    cpu = per_unit(before, meter(), calls)
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    return calls / elapsed, cpu


async def bench_read_path(args: argparse.Namespace, platform_: Platform) -> list[Figure]:
    database = Database(platform_.pg.url(platform_.databases["product"]))
    catalog = Catalog(database, clock=lambda: datetime.now(UTC))
    name = f"products/{DEMO_PRODUCT}"
    profile = args.profile_dir / "read_path.prof" if args.profile_dir else None
    meter = cpu_meter(platform_.pg, {})
    try:
        ours, ours_cpu = await sequential_rate(
            args.db_calls, lambda: catalog.get(name), meter, profile
        )
    finally:
        await database.dispose()
    conninfo = platform_.conninfo(platform_.databases["product"])
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:

        async def raw() -> object:
            cursor = await conn.execute(SELECT_PRODUCT, (DEMO_PRODUCT,), prepare=True)
            return await cursor.fetchone()

        base, base_cpu = await sequential_rate(args.db_calls, raw, meter, None)
    return [
        compare("GetProduct read path calls/s (vs psycopg)", ours, base, ".0f", 0.85),
        *cpu_figures("read path CPU us/call", 1e6, ours_cpu, base_cpu, ["client", "postgres"]),
    ]


# ---------------------------------------------------------------- 3. CreateOrder


Lines = list[tuple[str, int]]


def bench_products(count: int) -> list[tuple[str, int]]:
    """(id, price in cents) of the products orders are placed on."""
    return [(f"bench-{i:04d}", 500 + (i * 37) % 9500) for i in range(count)]


def order_mix(products: Sequence[str], count: int, lines: int) -> list[Lines]:
    rng = random.Random(20_260_101)  # noqa: S311 - the shape of the load, not security
    return [[(p, rng.randint(1, 3)) for p in rng.sample(products, lines)] for _ in range(count)]


@dataclass(frozen=True)
class OrderRun:
    rate: float  # confirmed orders per second, timed part only
    failures: Counter[str]  # orders not confirmed, by reason, warm-up included
    cpu: dict[str, float]  # CPU seconds per order, by place, warm-up included


async def drive_orders(
    mix: Sequence[Lines],
    warmup: int,
    concurrency: int,
    place: Callable[[int, int, Lines], Awaitable[str | None]],
    meter: Snapshot,
) -> OrderRun:
    """Place the first `warmup` orders untimed, then the rest timed, with
    `concurrency` workers; `place(worker, index, lines)` returns None when
    the order was confirmed, else why not."""
    failures: Counter[str] = Counter()

    async def run(indexes: range) -> None:
        work = iter(indexes)

        async def worker(w: int) -> None:
            for i in work:
                failure = await place(w, i, mix[i])
                if failure is not None:
                    failures[failure] += 1

        await asyncio.gather(*(worker(w) for w in range(concurrency)))

    before = meter()
    await run(range(warmup))
    failed_in_warmup = failures.total()
    started = time.perf_counter()
    await run(range(warmup, len(mix)))
    seconds = time.perf_counter() - started
    confirmed = len(mix) - warmup - (failures.total() - failed_in_warmup)
    return OrderRun(confirmed / seconds, failures, per_unit(before, meter(), len(mix)))


async def prepare_stack(
    args: argparse.Namespace, platform_: Platform, products: Sequence[tuple[str, int]]
) -> list[str]:
    """Create the products as the admin; register and log in the customers.
    Their access tokens."""
    async with grpc.aio.insecure_channel(platform_.target("auth")) as channel:
        auth = auth_service_pb2_grpc.AuthServiceStub(channel)
        await create_products(platform_, await admin_token(auth, *platform_.admin), products)
        semaphore = asyncio.Semaphore(4)  # argon2id: a few at a time on a small machine

        async def customer(i: int) -> str:
            email, password = f"customer{i}@bench.example", f"bench password {i}"
            async with semaphore:
                await auth.RegisterAccount(
                    auth_service_pb2.RegisterAccountRequest(
                        email=email, password=password, display_name=f"Customer {i}"
                    ),
                    timeout=30,
                )
                reply = await auth.Login(
                    auth_service_pb2.LoginRequest(email=email, password=password), timeout=30
                )
            token: str = reply.access_token
            return token

        return list(await asyncio.gather(*(customer(i) for i in range(args.customers))))


async def create_products(
    platform_: Platform, admin: str, products: Sequence[tuple[str, int]]
) -> None:
    """CreateProduct for each (id, cents), 32 at a time, with `STOCK` units."""
    metadata = (("authorization", f"Bearer {admin}"),)
    async with grpc.aio.insecure_channel(platform_.target("product")) as channel:
        catalog = product_service_pb2_grpc.ProductServiceStub(channel)
        for chunk in range(0, len(products), 32):
            requests = [
                product_service_pb2.CreateProductRequest(
                    product_id=product_id,
                    initial_quantity=STOCK,
                    product=product_pb2.Product(
                        display_name=f"Bench product {product_id}",
                        category="bench",
                        price=to_money(cents, "USD"),
                    ),
                )
                for product_id, cents in products[chunk : chunk + 32]
            ]
            await asyncio.gather(
                *(catalog.CreateProduct(r, metadata=metadata, timeout=10) for r in requests)
            )


async def admin_token(auth: Any, email: str, password: str) -> str:
    """The admin's access token; the auth service seeds the admin in the
    background right after it starts, so the first attempts may fail."""
    for _ in range(15):
        try:
            reply = await auth.Login(
                auth_service_pb2.LoginRequest(email=email, password=password), timeout=30
            )
            token: str = reply.access_token
            return token
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAUTHENTICATED:
                raise
        await asyncio.sleep(1)
    raise TimeoutError("the admin account was not seeded")


async def orders_through_stack(
    args: argparse.Namespace,
    platform_: Platform,
    tokens: Sequence[str],
    mix: Sequence[Lines],
    meter: Snapshot,
) -> OrderRun:
    """CreateOrder through the order service over 4 connections, the
    customers taking turns."""
    channels = [
        grpc.aio.insecure_channel(platform_.target("order"), options=LOCAL) for _ in range(4)
    ]
    stubs = [order_service_pb2_grpc.OrderServiceStub(channel) for channel in channels]

    async def place(worker: int, i: int, lines: Lines) -> str | None:
        request = order_service_pb2.CreateOrderRequest(
            parent="users/me",
            request_id=str(uuid.uuid4()),
            order=order_pb2.Order(
                lines=[order_pb2.OrderLine(product=f"products/{p}", quantity=q) for p, q in lines]
            ),
        )
        metadata = (("authorization", f"Bearer {tokens[i % len(tokens)]}"),)
        try:
            order = await stubs[worker % len(stubs)].CreateOrder(
                request, metadata=metadata, timeout=30
            )
        except grpc.aio.AioRpcError as error:
            return str(error.code().name)
        return None if order.state == order_pb2.Order.CONFIRMED else "not confirmed"

    try:
        return await drive_orders(mix, args.order_warmup, args.order_concurrency, place, meter)
    finally:
        for channel in channels:
            await channel.close()


def insert_sql(table: Any) -> str:
    """An INSERT of every column of a model's table, with named placeholders,
    so the baseline follows the schema the services' models define."""
    names = [column.name for column in table.columns]
    return (
        sql.SQL("INSERT INTO {} ({}) VALUES ({})")
        .format(
            sql.Identifier(table.name),
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(map(sql.Placeholder, names)),
        )
        .as_string()
    )


def row(table: Any, **values: object) -> dict[str, object]:
    """`values`, the model's scalar defaults, NULL for the rest (as the ORM fills a row)."""
    filled = {}
    for column in table.columns:
        if column.name in values:
            filled[column.name] = values[column.name]
        elif column.default is not None and column.default.is_scalar:
            filled[column.name] = column.default.arg
        elif column.nullable:
            filled[column.name] = None
        else:
            raise KeyError(f"no value for {table.name}.{column.name}")
    return filled


class SagaSql:
    """The writes of the order saga as the services issue them, straight
    through psycopg (statements prepared after a few uses, psycopg's
    default): one connection to each database."""

    def __init__(self, orders: psycopg.AsyncConnection[Any], stock: psycopg.AsyncConnection[Any]):
        self._orders = orders
        self._stock = stock
        self._insert = {
            "orders": insert_sql(OrderRow.__table__),
            "order_lines": insert_sql(OrderLineRow.__table__),
            "reservations": insert_sql(ReservationRow.__table__),
            "reservation_lines": insert_sql(ReservationLineRow.__table__),
        }

    async def close(self) -> None:
        await self._orders.close()
        await self._stock.close()

    async def place(self, user_id: str, lines: Lines) -> str | None:
        order_id = str(uuid.uuid4())
        await self._insert_pending(order_id, user_id, lines)
        held = await self._reserve(order_id, lines)
        async with self._orders.transaction():  # 3. confirm with the reserved prices
            await self._orders.execute(
                "UPDATE orders SET state = %s, currency = %s, total_cents = %s,"
                " revision = revision + 1, update_time = %s WHERE id = %s AND state IN (%s)",
                (
                    "CONFIRMED",
                    "USD",
                    sum(q * cents for _, q, cents, _ in held),
                    datetime.now(UTC),
                    order_id,
                    "PENDING",
                ),
            )
            for product_id, _, cents, display_name in held:
                await self._orders.execute(
                    "UPDATE order_lines SET unit_price_cents = %s, display_name = %s"
                    " WHERE order_id = %s AND product_id = %s",
                    (cents, display_name, order_id, product_id),
                )
        async with self._stock.transaction():  # 4. commit the reservation
            await self._stock.execute(
                "UPDATE reservations SET state = %s, update_time = %s"
                " WHERE id = %s AND state IN (%s)",
                ("COMMITTED", datetime.now(UTC), order_id, "RESERVED"),
            )
        async with self._orders.transaction():  # 5. record that it is committed
            await self._orders.execute(
                "UPDATE orders SET reservation_committed = %s WHERE id = %s", (True, order_id)
            )
        return None

    async def _insert_pending(self, order_id: str, user_id: str, lines: Lines) -> None:
        """1. The order and its lines, PENDING."""
        now = datetime.now(UTC)
        fingerprint = hashlib.sha256(";".join(f"{p}={q}" for p, q in sorted(lines)).encode())
        order = row(
            OrderRow.__table__,
            id=order_id,
            user_id=user_id,
            request_id=str(uuid.uuid4()),
            request_hash=fingerprint.hexdigest(),
            state="PENDING",
            revision=1,
            create_time=now,
            update_time=now,
        )
        async with self._orders.transaction():
            await self._orders.execute(self._insert["orders"], order)
            async with self._orders.cursor() as cursor:
                await cursor.executemany(
                    self._insert["order_lines"],
                    [
                        row(
                            OrderLineRow.__table__,
                            order_id=order_id,
                            position=i,
                            product_id=p,
                            quantity=q,
                        )
                        for i, (p, q) in enumerate(lines)
                    ],
                )

    async def _reserve(self, order_id: str, lines: Lines) -> list[tuple[str, int, int, str]]:
        """2. Every line or none, in product id order: (id, quantity, cents, name)."""
        held = []
        now = datetime.now(UTC)
        reservation = row(
            ReservationRow.__table__,
            id=order_id,
            state="RESERVED",
            create_time=now,
            update_time=now,
        )
        async with self._stock.transaction():
            await self._stock.execute(self._insert["reservations"], reservation)
            for product_id, quantity in sorted(lines):
                cursor = await self._stock.execute(
                    "UPDATE products SET available_quantity = available_quantity - %s"
                    " WHERE id = %s AND delete_time IS NULL AND available_quantity >= %s"
                    " RETURNING price_cents, display_name",
                    (quantity, product_id, quantity),
                )
                found = await cursor.fetchone()
                if found is None:
                    raise RuntimeError(f"{product_id} ran short")  # rolls back
                held.append((product_id, quantity, int(found[0]), str(found[1])))
            async with self._stock.cursor() as cursor:
                await cursor.executemany(
                    self._insert["reservation_lines"],
                    [
                        row(
                            ReservationLineRow.__table__,
                            reservation_id=order_id,
                            product_id=product_id,
                            quantity=quantity,
                            unit_price_cents=cents,
                            display_name=name,
                        )
                        for product_id, quantity, cents, name in held
                    ],
                )
        return held


SQL_DATABASES = {"order": "bench_order_sql", "product": "bench_product_sql"}


async def orders_through_sql(
    args: argparse.Namespace,
    platform_: Platform,
    products: Sequence[tuple[str, int]],
    mix: Sequence[Lines],
    meter: Snapshot,
) -> OrderRun:
    """The saga's writes against two fresh databases migrated like the services'."""
    for service, migrations in (("order", ORDER_MIGRATIONS), ("product", PRODUCT_MIGRATIONS)):
        await upgrade_async(platform_.pg.create_database_sync(SQL_DATABASES[service]), migrations)
    now = datetime.now(UTC)
    stock_db = platform_.conninfo(SQL_DATABASES["product"])
    async with await psycopg.AsyncConnection.connect(stock_db) as conn:
        async with conn.cursor() as cursor:
            await cursor.executemany(
                insert_sql(ProductRow.__table__),
                [
                    row(
                        ProductRow.__table__,
                        id=product_id,
                        display_name=f"Bench product {product_id}",
                        description="",
                        category="bench",
                        price_cents=cents,
                        available_quantity=STOCK,
                        revision=1,
                        create_time=now,
                        update_time=now,
                    )
                    for product_id, cents in products
                ],
            )
        await conn.commit()
    users = [str(uuid.uuid4()) for _ in range(args.customers)]
    sagas: list[SagaSql] = []
    try:
        for _ in range(args.order_concurrency):
            orders = await psycopg.AsyncConnection.connect(
                platform_.conninfo(SQL_DATABASES["order"]), autocommit=True
            )
            stock = await psycopg.AsyncConnection.connect(stock_db, autocommit=True)
            sagas.append(SagaSql(orders, stock))

        async def place(worker: int, i: int, lines: Lines) -> str | None:
            try:
                return await sagas[worker].place(users[i % len(users)], lines)
            except (psycopg.Error, RuntimeError) as error:
                return type(error).__name__

        return await drive_orders(mix, args.order_warmup, args.order_concurrency, place, meter)
    finally:
        for saga in sagas:
            await saga.close()


async def scalar(conninfo: str, query: str, params: Sequence[Any] = ()) -> int:
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        row = await (await conn.execute(query, params)).fetchone()
    return int(row[0]) if row else 0


async def stock_check(platform_: Platform, databases: dict[str, str], ids: list[str]) -> str:
    """Whether the units of confirmed orders equal the stock the products lost."""
    sold = await scalar(
        platform_.conninfo(databases["order"]),
        "SELECT coalesce(sum(l.quantity), 0) FROM order_lines l"
        " JOIN orders o ON o.id = l.order_id WHERE o.state = 'CONFIRMED'",
    )
    taken = await scalar(
        platform_.conninfo(databases["product"]),
        "SELECT coalesce(sum(%s - available_quantity), 0) FROM products WHERE id = ANY(%s)",
        (STOCK, ids),
    )
    return f"ok {sold} = {taken}" if sold == taken else f"OVERSOLD {sold} != {taken}"


async def bench_create_order(
    args: argparse.Namespace, platform_: Platform, children: Children
) -> list[Figure]:
    products = bench_products(args.products)
    ids = [product_id for product_id, _ in products]
    say(f"registering {args.customers} customers, creating {len(products)} products")
    tokens = await prepare_stack(args, platform_, products)
    mix = order_mix(ids, args.order_warmup + args.orders, args.lines)
    say("CreateOrder through the stack")
    services = {name: children.pid(name) for name in SERVICES}
    ours = await orders_through_stack(
        args, platform_, tokens, mix, cpu_meter(platform_.pg, services)
    )
    ours_stock = await stock_check(platform_, platform_.databases, ids)
    say("CreateOrder saga SQL through psycopg")
    base = await orders_through_sql(args, platform_, products, mix, cpu_meter(platform_.pg, {}))
    base_stock = await stock_check(platform_, SQL_DATABASES, ids)
    figures = [
        compare("CreateOrder orders/s (vs the saga's SQL)", ours.rate, base.rate, ".1f", 0.25),
        Figure("stock: confirmed units = stock taken", ours_stock, base_stock),
        *cpu_figures(
            "CreateOrder CPU ms/order",
            1e3,
            ours.cpu,
            base.cpu,
            [*SERVICES, "postgres", "client"],
        ),
    ]
    if ours.failures or base.failures:
        figures.append(
            Figure("CreateOrder failures", _counts(ours.failures), _counts(base.failures))
        )
    return figures


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in counter.most_common()) or "0"


# ---------------------------------------------------------------- 4. RSS, environment


def rss_figures(children: Children, stub_rss: float) -> list[Figure]:
    figures = []
    for name in SERVICES:
        rss = rss_mib(children.pid(name))
        figures.append(
            Figure(
                f"RSS {name} MiB (vs bare grpc.aio server)",
                f"{rss:.1f}",
                f"{stub_rss:.1f}",
                f"{rss / stub_rss:.2f}",
                "<= 100 MiB",
                "meets" if rss <= 100 else "ABOVE",
            )
        )
    return figures


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


async def environment(
    args: argparse.Namespace, platform_: Platform, load: tuple[float, float, float]
) -> list[str]:
    cpu = cpu_model()
    async with await psycopg.AsyncConnection.connect(platform_.conninfo("postgres")) as conn:
        settings = []
        for name in ("server_version", "fsync", "synchronous_commit", "shared_buffers"):
            row = await (await conn.execute(f"SHOW {name}")).fetchone()
            settings.append(str(row[0]) if row else "?")
    version, fsync, sync_commit, buffers = settings
    return [
        f"machine    {len(os.sched_getaffinity(0))} usable cores of {os.cpu_count()}, {cpu}; "
        f"load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(other work on the machine skews every figure)",
        f"python     {platform.python_version()} ({sys.executable})",
        f"libraries  grpcio {grpc.__version__}, protobuf {protobuf_version}, "
        f"SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__} "
        f"({psycopg.pq.__impl__})",
        f"database   PostgreSQL {version}, throwaway on 127.0.0.1: fsync={fsync}, "
        f"synchronous_commit={sync_commit}, shared_buffers={buffers}",
        f"services   log level {args.log_level or 'INFO (default)'}, JSON logs to files, "
        "no trace exporter, no metrics port"
        + ("; UNDER cPROFILE: figures not comparable" if args.profile_dir else ""),
        f"load       GetProduct {args.grpc_calls} calls after {args.grpc_warmup}, "
        f"{args.grpc_concurrency} in flight over {args.grpc_channels} connections, "
        f"client in its own process; read path {args.db_calls} calls, one at a time",
        f"           CreateOrder {args.orders} orders of {args.lines} lines after "
        f"{args.order_warmup}, {args.order_concurrency} in flight, {args.customers} customers, "
        f"{args.products} products of {STOCK} units",
    ]  # fmt: skip


def summarize_profiles(directory: Path) -> None:
    """Next to each .prof, a .txt of the top functions by cumulative and own time."""
    for profile in sorted(directory.glob("*.prof")):
        with profile.with_suffix(".txt").open("w") as out:
            stats = pstats.Stats(str(profile), stream=out)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(40)


# ---------------------------------------------------------------- main

STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


async def run(
    args: argparse.Namespace,
    pg: LocalPostgres,
    children: Children,
    tmp: Path,
    load: tuple[float, float, float],
) -> tuple[list[str], list[Figure]]:
    async with asyncio.timeout(args.time_limit):
        say("starting auth, user, product and order")
        platform_ = await start_platform(args, pg, children)
        facts = await environment(args, platform_, load)
        say("GetProduct over gRPC: product service, then the bare server")
        figures, stub_rss = await bench_get_product(args, platform_, children, tmp)
        say("GetProduct read path: Catalog.get, then psycopg")
        figures += await bench_read_path(args, platform_)
        figures += await bench_create_order(args, platform_, children)
        figures += rss_figures(children, stub_rss)
    return facts, figures


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every cleanup below


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The defaults take about 90 s on 2 idle cores; lower the counts for a quick look.",
    )
    add = parser.add_argument
    add("--grpc-calls", type=int, default=10_000, help="timed GetProduct calls per server (10000)")
    add("--grpc-warmup", type=int, default=1_000, help="untimed GetProduct calls first (1000)")
    add("--grpc-concurrency", type=int, default=32, help="GetProduct calls in flight (32)")
    add("--grpc-channels", type=int, default=4, help="client HTTP/2 connections (4)")
    add("--db-calls", type=int, default=3_000, help="timed read-path calls per side (3000)")
    add("--orders", type=int, default=1_500, help="timed orders per side (1500)")
    add("--order-warmup", type=int, default=64, help="untimed orders first (64)")
    add("--order-concurrency", type=int, default=32, help="orders in flight (32)")
    add("--lines", type=int, default=3, help="lines per order, distinct products (3)")
    add("--customers", type=int, default=48, help="customers registered and logged in (48)")
    add("--products", type=int, default=2_000, help=f"products of {STOCK} units (2000)")
    add("--log-level", help="services' log level (default: theirs, INFO)")
    add("--log-dir", type=Path, help="keep the service logs here (default: removed)")
    add(
        "--profile-dir",
        type=Path,
        help="run the services under cProfile and profile the read path; .prof and .txt here",
    )
    add("--time-limit", type=float, default=270, help="give up after this many seconds (270)")
    return parser.parse_args()


def bench_main(
    name: str,
    args: argparse.Namespace,
    run_steps: Callable[
        [argparse.Namespace, LocalPostgres, Children, Path, tuple[float, float, float]],
        Coroutine[Any, Any, tuple[list[str], list[Figure]]],
    ],
) -> None:
    """What every benchmark does around its steps: a throwaway PostgreSQL,
    child processes stopped on every exit path, then the facts and the table."""
    load = os.getloadavg()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    bindir = find_bindir()
    if bindir is None:
        sys.exit(f"{name}: no PostgreSQL binaries (install postgresql or set SHOPMESH_PG_BINDIR)")
    for directory in (args.log_dir, args.profile_dir):
        if directory:
            directory.mkdir(parents=True, exist_ok=True)
    with ExitStack() as cleanup:
        tmp = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix=f"shopmesh-{name}-")))
        say("starting a throwaway PostgreSQL")
        pg = start_local_postgres(bindir)
        cleanup.callback(pg.stop)
        children = Children(args.log_dir or tmp)
        cleanup.callback(children.stop_all)  # runs first: processes before their database
        facts, figures = asyncio.run(run_steps(args, pg, children, tmp, load))
    if args.profile_dir:
        summarize_profiles(args.profile_dir)
    print("\n".join(facts))
    print()
    print_table(figures)
    print(f"\nduration {time.monotonic() - STARTED:.0f} s (setup and clean-up included)")


def main() -> None:
    bench_main("bench", parse_args(), run)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything is cleaned up by then
        sys.exit(130)
