"""Fault test against the Compose deployment (compose.yaml): the product
service disappears while customers are ordering, and comes back.

Needs running containers, so it only runs with SHOPMESH_COMPOSE=1 (set by
`make test-compose`, which also sets BASE_URL and COMPOSE, the compose command
with its project, e.g. `docker-compose -p shopmesh`)."""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("SHOPMESH_COMPOSE") != "1",
    reason="needs the Compose platform: run `make test-compose`",
)

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8080").rstrip("/")
COMPOSE = shlex.split(os.environ.get("COMPOSE", "docker-compose -p shopmesh"))
ADMIN = {"email": "admin@e2e.example.com", "password": "e2e admin password"}
STOCK = 1000
CUSTOMERS = 4
# An order placed while the product service is down must fail within this.
FAIL_FAST_SECONDS = 5.0
RECOVERY_SECONDS = 30.0
# The order service resolves orders left PENDING after its recovery grace
# (SHOPMESH_ORDER_RECOVERY_GRACE_SECONDS, 30 s) plus one interval (5 s).
SETTLE_SECONDS = 120.0


def compose(*args: str) -> None:
    subprocess.run([*COMPOSE, *args], check=True, capture_output=True, timeout=120)


def client(token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=BASE_URL, headers=headers, timeout=30)


def login(email: str, password: str) -> str:
    with client() as http:
        reply = http.post("/v1/accounts:login", json={"email": email, "password": password})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["accessToken"])


def admin_token() -> str:
    deadline = time.monotonic() + 60
    while True:  # the admin is seeded in the background once the user service is up
        with client() as http:
            reply = http.post("/v1/accounts:login", json=ADMIN)
        if reply.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["accessToken"])


def new_customer() -> str:
    email = f"fault-{uuid.uuid4().hex[:10]}@example.com"
    password = "correct horse battery"
    with client() as http:
        reply = http.post(
            "/v1/accounts:register",
            json={"email": email, "password": password, "displayName": "Fault"},
        )
    assert reply.status_code == 200, reply.text
    return login(email, password)


def new_product(token: str) -> str:
    product_id = f"fault-{uuid.uuid4().hex[:10]}"
    with client(token) as http:
        reply = http.post(
            f"/v1/products?productId={product_id}&initialQuantity={STOCK}",
            json={
                "displayName": "Fault Kettle",
                "category": "fault",
                "description": "compose fault test",
                "price": {"currencyCode": "USD", "units": "5"},
            },
        )
    assert reply.status_code == 200, reply.text
    return product_id


def available(product_id: str) -> int:
    with client() as http:
        reply = http.get(f"/v1/products/{product_id}")
    assert reply.status_code == 200, reply.text
    return int(reply.json().get("availableQuantity", 0))


@dataclass(frozen=True)
class Attempt:
    started: float
    seconds: float
    status: int  # 0: no answer (transport error or client timeout)


class Traffic:
    """A few customers ordering one unit at a time, until stopped."""

    def __init__(self, tokens: list[str], product_id: str) -> None:
        self.tokens = tokens
        self.product_id = product_id
        self.attempts: list[Attempt] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=len(tokens))

    def _customer(self, token: str) -> None:
        with client(token) as http:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    status = http.post(
                        f"/v1/users/me/orders?requestId={uuid.uuid4()}",
                        json={"lines": [{"product": f"products/{self.product_id}", "quantity": 1}]},
                    ).status_code
                except httpx.HTTPError:
                    status = 0
                with self._lock:
                    self.attempts.append(Attempt(started, time.monotonic() - started, status))
                time.sleep(0.05)

    def __enter__(self) -> Traffic:
        self._futures = [self._pool.submit(self._customer, t) for t in self.tokens]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for future in self._futures:
            future.result(timeout=60)
        self._pool.shutdown()

    def between(self, start: float, end: float) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if start <= a.started < end]


def all_orders(token: str) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    page = ""
    with client(token) as http:
        while True:
            reply = http.get("/v1/users/me/orders", params={"pageSize": 100, "pageToken": page})
            assert reply.status_code == 200, reply.text
            body = reply.json()
            orders.extend(body.get("orders", []))
            page = body.get("nextPageToken", "")
            if not page:
                return orders


@pytest.fixture
def product_restarted() -> Iterator[None]:
    """Whatever happens, the product service runs again afterwards."""
    yield
    compose("start", "product")


def test_product_outage_fails_fast_leaves_nothing_half_done_and_recovers(
    product_restarted: None,
) -> None:
    product_id = new_product(admin_token())
    tokens = [new_customer() for _ in range(CUSTOMERS)]

    with Traffic(tokens, product_id) as traffic:
        time.sleep(3)
        stopping = time.monotonic()
        compose("stop", "product")
        down = time.monotonic()
        time.sleep(8)
        restarting = time.monotonic()
        compose("start", "product")
        started = time.monotonic()
        # Recovery without manual steps: orders succeed again soon.
        while time.monotonic() - started < RECOVERY_SECONDS:
            if any(a.status == 200 for a in traffic.between(started, time.monotonic())):
                break
            time.sleep(0.5)
        recovered = time.monotonic()
        time.sleep(2)

    summary = {
        "stop_seconds": round(down - stopping, 1),
        "recovery_seconds": round(recovered - started, 1),
        "attempts": len(traffic.attempts),
        "statuses": sorted({a.status for a in traffic.attempts}),
    }
    print(summary)  # shown on failure, or with -s
    before = traffic.between(0, stopping)
    assert before
    assert {a.status for a in before} == {200}
    # While the product service is gone, orders fail fast with 503, none hangs.
    outage = traffic.between(down, restarting)
    assert len(outage) >= CUSTOMERS, len(outage)
    assert {a.status for a in outage} == {503}, sorted({a.status for a in outage})
    slowest = max(a.seconds for a in outage)
    assert slowest < FAIL_FAST_SECONDS, slowest
    # Requests in flight while it shut down got an answer too (no hang).
    in_flight = traffic.between(stopping - 30, down)
    assert all(a.status != 0 for a in in_flight)
    assert recovered - started < RECOVERY_SECONDS, "no order succeeded after the restart"
    after = traffic.between(recovered, time.monotonic())
    assert after
    assert {a.status for a in after} == {200}

    # Nothing half-done: once the order service's recovery has run, every
    # order is CONFIRMED or REJECTED, and confirmed units are the stock taken.
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        orders = [o for token in tokens for o in all_orders(token)]
        states = {o["state"] for o in orders}
        if states <= {"CONFIRMED", "REJECTED"} or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert states <= {"CONFIRMED", "REJECTED"}, states
    confirmed = sum(
        int(line["quantity"]) for o in orders if o["state"] == "CONFIRMED" for line in o["lines"]
    )
    successes = sum(1 for a in traffic.between(0, time.monotonic()) if a.status == 200)
    assert confirmed >= successes  # every 200 is a confirmed order
    assert STOCK - available(product_id) == confirmed
    print({"orders": len(orders), "confirmed": confirmed, "successes": successes})
