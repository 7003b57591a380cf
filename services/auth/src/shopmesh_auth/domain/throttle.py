"""Failed-login throttling: a sliding window of failures per key."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class FailureWindow:
    """Blocks a key after `limit` failures within `window` seconds, until the
    oldest of them leaves the window. Memory is bounded by `max_keys`."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window = window
        self._max_keys = max_keys
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may try again, or None when it may now."""
        failures = self._prune(key)
        if failures is None or len(failures) < self._limit:
            return None
        return max(failures[0] + self._window - self._clock(), 0.0)

    def record_failure(self, key: str) -> None:
        failures = self._prune(key)
        if failures is None:
            if len(self._failures) >= self._max_keys:
                self._failures.pop(next(iter(self._failures)))
            failures = self._failures[key] = deque()
        failures.append(self._clock())

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    def _prune(self, key: str) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        horizon = self._clock() - self._window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures
