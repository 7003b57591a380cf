"""A throwaway PostgreSQL for tests, and the `postgres_server` / `database_url` fixtures.

With `SHOPMESH_TEST_POSTGRES_URL` set (e.g. `postgresql://postgres@127.0.0.1:5432/postgres`)
that server is used and nothing is started. Otherwise `initdb` + `pg_ctl` from
`SHOPMESH_PG_BINDIR`, the newest `/usr/lib/postgresql/*/bin`, or `PATH` start one on
127.0.0.1 in a temporary directory (as the `postgres` user when running as root).
Without either, `postgres` tests are skipped, or fail when `CI` is set.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url

from shopmesh_kit.testing.processes import free_port

URL_ENV = "SHOPMESH_TEST_POSTGRES_URL"
BINDIR_ENV = "SHOPMESH_PG_BINDIR"

_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}


class PostgresServer:
    """A reachable PostgreSQL server where tests may create databases."""

    def __init__(
        self,
        host: str,
        port: int,
        user: str = "postgres",
        password: str | None = None,
        admin_database: str = "postgres",
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.admin_database = admin_database
        self._created: list[str] = []

    def url(self, database: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of `database` on this server."""
        return (
            make_url("postgresql+psycopg://")
            .set(
                username=self.user,
                password=self.password,
                host=self.host,
                port=self.port,
                database=database,
            )
            .render_as_string(hide_password=False)
        )

    def create_database_sync(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        with psycopg.connect(self._admin_conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        return self.url(name)

    async def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        return await asyncio.to_thread(self.create_database_sync, name)

    def stop(self) -> None:
        """Drop the databases this object created (the server itself is not ours)."""
        with psycopg.connect(self._admin_conninfo(), autocommit=True) as conn:
            for name in self._created:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        self._created.clear()

    def _admin_conninfo(self) -> str:
        return psycopg.conninfo.make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.admin_database,
            connect_timeout=10,
        )


class LocalPostgres(PostgresServer):
    """A server of our own in a temporary directory; `stop()` removes everything."""

    def __init__(self, bindir: Path) -> None:
        super().__init__("127.0.0.1", 0)
        self.bindir = bindir
        self.base_dir = Path(tempfile.mkdtemp(prefix="shopmesh-pg-"))
        self.data_dir = self.base_dir / "data"
        self.log_file = self.base_dir / "postgres.log"
        self._owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self._owner is not None:
            os.chown(self.base_dir, self._owner.pw_uid, self._owner.pw_gid)

    def start(self) -> None:
        """initdb, then start on a free loopback port (retried if the port was taken)."""
        self._run(
            "initdb",
            "-D", str(self.data_dir),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        for attempt in range(3):
            self.port = free_port()
            self._write_config()
            try:
                self._pg_ctl("start", "-w", "-t", "60")
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def restart(self) -> None:
        """Restart the server (fast shutdown: open connections are cut)."""
        self._pg_ctl("restart", "-m", "fast", "-w", "-t", "60")

    def stop(self) -> None:
        """Kill the server and remove its directory."""
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._pg_ctl("stop", "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def _write_config(self) -> None:
        lines = [f"{key} = {value}" for key, value in _SETTINGS.items()]
        lines += [f"port = {self.port}", f"unix_socket_directories = '{self.base_dir}'"]
        # postgresql.auto.conf is read last; rewriting it keeps a retry's port.
        (self.data_dir / "postgresql.auto.conf").write_text("\n".join(lines) + "\n")

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), *args)

    def _run(self, program: str, *args: str) -> None:
        owner = self._owner
        result = subprocess.run(  # noqa: S603 - fixed binaries, our own arguments
            [str(self.bindir / program), *args],
            cwd=self.base_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            user=owner.pw_uid if owner else None,
            group=owner.pw_gid if owner else None,
            extra_groups=[] if owner else None,
        )
        if result.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log}"
            )


def find_bindir() -> Path | None:
    """Directory holding `initdb` and `pg_ctl`, or None when PostgreSQL is not installed."""
    configured = os.environ.get(BINDIR_ENV)
    if configured:
        return Path(configured)
    candidates = sorted(
        (path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
        key=lambda bindir: _version_key(bindir.parent.name),
    )
    if candidates:
        return candidates[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def start_local_postgres(bindir: Path) -> LocalPostgres:
    """A started throwaway server; the caller must `stop()` it."""
    server = LocalPostgres(bindir)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


def server_from_url(url: str) -> PostgresServer:
    """A `PostgresServer` for an existing server given by URL."""
    parsed = make_url(url)
    return PostgresServer(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password if isinstance(parsed.password, str) else None,
        admin_database=parsed.database or "postgres",
    )


def unavailable(reason: str) -> NoReturn:
    """Skip, except in CI where a missing PostgreSQL must fail the run."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session."""
    url = os.environ.get(URL_ENV)
    if url:
        server: PostgresServer = server_from_url(url)
    else:
        bindir = find_bindir()
        if bindir is None:
            unavailable(
                "PostgreSQL not available: no initdb/pg_ctl found (install postgresql, "
                f"set {BINDIR_ENV}) and {URL_ENV} is not set"
            )
        server = start_local_postgres(bindir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database per test: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database_sync(f"test_{uuid.uuid4().hex[:12]}")
