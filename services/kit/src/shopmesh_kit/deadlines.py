"""Deadlines for outbound calls.

Python gRPC does not propagate deadlines. The server interceptors record the
deadline of the RPC being served; every outbound call made while serving it
takes its timeout from the time that remains (`context.time_remaining()`),
capped by a per-call default, so a slow dependency can never outlive the
caller.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

from shopmesh_kit.errors import DeadlineExceeded

_deadline: ContextVar[float | None] = ContextVar("shopmesh_deadline", default=None)

# Time kept back for the caller to turn the answer into its own response.
MARGIN_SECONDS = 0.02


def set_inbound_deadline(time_remaining: float | None) -> None:
    """Record the deadline of the RPC being served (from `context.time_remaining()`)."""
    _deadline.set(None if time_remaining is None else time.monotonic() + time_remaining)


def remaining() -> float | None:
    """Seconds left of the RPC being served, or None when it has no deadline."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def outbound_timeout(default: float) -> float:
    """The timeout for an outbound call: `default`, or less when the inbound
    deadline is nearer. Raises DeadlineExceeded when no time is left."""
    left = remaining()
    if left is None:
        return default
    budget = min(default, left - MARGIN_SECONDS)
    if budget <= 0:
        raise DeadlineExceeded("deadline exceeded before calling a dependency")
    return budget
