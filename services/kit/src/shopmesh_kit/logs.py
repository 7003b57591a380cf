"""Process-wide logging: one JSON object per line (ELK-friendly) or plain text.

    log.info("order placed", extra={"order": {"name": name, "total": 1200}})

emits `{"timestamp": ..., "level": "INFO", "logger": ..., "message": "order placed",
"service": ..., "trace_id": ..., "span_id": ..., "order": {...}}`; trace and span ids
come from the current OpenTelemetry span, an exception goes under `error`.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

from opentelemetry import trace

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}

_TEXT_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """Formats a record as one compact JSON object."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES
        }
        entry.update(
            timestamp=datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            level=record.levelname,
            logger=record.name,
            message=record.getMessage(),
            service=self.service,
        )
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, exc, tb = record.exc_info
            entry["error"] = {
                "type": exc_type.__name__,
                "message": str(exc),
                "stack": "".join(traceback.format_exception(exc_type, exc, tb)).rstrip(),
            }
        if record.stack_info:
            entry["stack_info"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class _ShopmeshHandler(logging.StreamHandler[TextIO]):
    """Marks the handler `configure_logging` installed, so a second call replaces it."""


def configure_logging(
    level: str, *, json: bool, service: str, stream: TextIO | None = None
) -> None:
    """Route the root logger to `stream` (default stderr); safe to call repeatedly."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _ShopmeshHandler)]:
        root.removeHandler(handler)
        handler.close()
    handler = _ShopmeshHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter(service) if json else logging.Formatter(_TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
