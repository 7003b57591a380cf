"""End-to-end harness: the whole platform started exactly as `make run`
starts it (tools/dev/run.py), on free ports and fresh SQLite files, driven
from outside as a user would. With BASE_URL set (e.g. a Compose deployment),
the tests drive that platform instead and start nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from shopmesh_kit.testing.processes import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@e2e.example.com"
ADMIN_PASSWORD = "e2e admin password"
SERVICES = ("auth", "user", "product", "order")


@dataclass(frozen=True)
class Platform:
    base_url: str
    grpc: dict[str, str]  # service -> host:port

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)


def _wait_ready(base_url: str, process: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the platform exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the platform did not become ready:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    base_url = os.environ.get("BASE_URL")
    if base_url:
        grpc = {s: os.environ.get(f"GRPC_{s.upper()}", "") for s in SERVICES}
        yield Platform(base_url.rstrip("/"), grpc)
        return
    tmp = tmp_path_factory.mktemp("platform")
    ports = {s: free_port() for s in SERVICES}
    gateway = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        **{f"SHOPMESH_{s.upper()}_PORT": str(p) for s, p in ports.items()},
        "SHOPMESH_GATEWAY_ADDR": gateway,
        "SHOPMESH_GATEWAY_METRICS_ADDR": f"127.0.0.1:{free_port()}",
        "SHOPMESH_ADMIN_EMAIL": ADMIN_EMAIL,
        "SHOPMESH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        # Fuzzing and repeated logins come from one client: let them through.
        "SHOPMESH_AUTH_LOGIN_FAILURES_PER_CLIENT": "100000",
    }
    log = tmp / "platform.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "tools/dev/run.py"), "--data-dir", str(tmp / "var")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(f"http://{gateway}", process, log)
            yield Platform(f"http://{gateway}", {s: f"127.0.0.1:{p}" for s, p in ports.items()})
        finally:
            stop(process, timeout=30)


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str


def register_and_login(
    platform: Platform, *, email: str | None = None, password: str = "correct horse battery"
) -> Account:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    with platform.client() as http:
        reply = http.post(
            "/v1/accounts:register",
            json={"email": email, "password": password, "displayName": "E2E"},
        )
        assert reply.status_code == 200, reply.text
        account_id = reply.json()["name"].removeprefix("accounts/")
        tokens = http.post("/v1/accounts:login", json={"email": email, "password": password})
        assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    return Account(account_id, email, password, body["accessToken"], body["refreshToken"])


@pytest.fixture(scope="session")
def admin(platform: Platform) -> Account:
    """The admin seeded from SHOPMESH_ADMIN_EMAIL / SHOPMESH_ADMIN_PASSWORD."""
    deadline = time.monotonic() + 60
    with platform.client() as http:
        while True:  # seeding finishes in the background once the user service is up
            reply = http.post(
                "/v1/accounts:login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            )
            if reply.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    return Account(
        body["account"]["name"].removeprefix("accounts/"),
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
        body["accessToken"],
        body["refreshToken"],
    )


@pytest.fixture
def customer(platform: Platform) -> Account:
    return register_and_login(platform)
