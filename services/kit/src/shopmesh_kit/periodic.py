"""Background work a service does while it serves (recovery loops, key
rotation), started and stopped with the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from shopmesh_kit.errors import ServiceError

log = logging.getLogger("shopmesh.periodic")


class Periodic:
    """Runs `work` now and then every `interval` seconds. After a failure it
    tries again after `retry_delay` (a dependency may still be starting);
    typed errors are logged as warnings, anything else with its traceback."""

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[None]],
        *,
        interval: float,
        retry_delay: float | None = None,
    ) -> None:
        self._name = name
        self._work = work
        self._interval = interval
        self._retry_delay = min(interval, 1.0) if retry_delay is None else retry_delay
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            delay = self._interval
            try:
                await self._work()
            except ServiceError as error:
                log.warning("%s failed; retrying: %s", self._name, error.message)
                delay = self._retry_delay
            except Exception:
                log.exception("%s failed; retrying", self._name)
                delay = self._retry_delay
            await asyncio.sleep(delay)
