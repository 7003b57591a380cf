"""Fault injection for crash tests. Enabled only by the test-only setting
`SHOPMESH_ORDER_FAULT_CRASH_POINT`; a named point then kills the process
on the spot, as a crash or an OOM kill would."""

from __future__ import annotations

import logging
import os

log = logging.getLogger("shopmesh.order")

POINTS = ("after_reserve", "after_release")


class Faults:
    def __init__(self, crash_point: str = "") -> None:
        if crash_point and crash_point not in POINTS:
            raise ValueError(f"unknown crash point {crash_point!r}; known: {POINTS}")
        self._crash_point = crash_point

    def point(self, name: str) -> None:
        if name == self._crash_point:
            log.critical("fault injection: crashing at %s", name)
            logging.shutdown()
            os._exit(137)
