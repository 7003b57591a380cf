"""Fixtures of the kit API tests: a started shop server per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from shopmesh_kit.testing.grpc import serving
from shopmesh_kit.testing.tokens import TestKeys

from .harness import Backend, Shop, build_server


@pytest.fixture
def keys() -> TestKeys:
    return TestKeys()


@pytest.fixture
def backend() -> Backend:
    return Backend()


@pytest.fixture
async def shop(keys: TestKeys, backend: Backend) -> AsyncIterator[Shop]:
    server = build_server(backend, keys)
    async with serving(server) as channel:
        yield Shop(server=server, channel=channel, backend=backend, keys=keys)
