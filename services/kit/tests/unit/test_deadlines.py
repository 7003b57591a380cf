"""Outbound timeouts derived from the deadline of the RPC being served."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from shopmesh_kit.deadlines import MARGIN_SECONDS, outbound_timeout, remaining, set_inbound_deadline
from shopmesh_kit.errors import DeadlineExceeded


@pytest.fixture(autouse=True)
def no_inbound_deadline() -> Iterator[None]:
    set_inbound_deadline(None)
    yield
    set_inbound_deadline(None)


def test_without_an_inbound_deadline_the_default_applies() -> None:
    assert remaining() is None
    assert outbound_timeout(5.0) == 5.0


def test_a_distant_inbound_deadline_keeps_the_default() -> None:
    set_inbound_deadline(60.0)
    assert outbound_timeout(5.0) == 5.0


def test_a_near_inbound_deadline_shortens_the_timeout_by_the_margin() -> None:
    set_inbound_deadline(1.0)
    assert outbound_timeout(5.0) == pytest.approx(1.0 - MARGIN_SECONDS, abs=0.05)
    assert outbound_timeout(5.0) < 1.0 - MARGIN_SECONDS


@pytest.mark.parametrize("left", [0.0, MARGIN_SECONDS / 2, -1.0])
def test_an_exhausted_inbound_deadline_raises_deadline_exceeded(left: float) -> None:
    set_inbound_deadline(left)
    with pytest.raises(DeadlineExceeded):
        outbound_timeout(5.0)


def test_remaining_is_the_time_left_of_the_recorded_deadline() -> None:
    set_inbound_deadline(1.0)
    left = remaining()
    assert left is not None
    assert 0.9 < left <= 1.0


async def test_a_deadline_recorded_in_one_task_does_not_leak_into_another() -> None:
    async def serve_an_rpc() -> float | None:
        set_inbound_deadline(0.5)
        return remaining()

    assert await asyncio.create_task(serve_an_rpc()) is not None
    assert remaining() is None
