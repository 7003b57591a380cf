import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from shopmesh_kit.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_has_core_fields() -> None:
    out = io.StringIO()
    configure_logging("info", json=True, service="auth", stream=out)
    logging.getLogger("shopmesh.test").info("hello %s", "world")
    (entry,) = _lines(out)
    assert entry["message"] == "hello world"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "shopmesh.test"
    assert entry["service"] == "auth"
    assert entry["timestamp"].endswith("Z")
    assert datetime.fromisoformat(entry["timestamp"]).utcoffset() is not None
    assert "trace_id" not in entry


def test_extra_fields_are_merged_under_their_keys() -> None:
    out = io.StringIO()
    configure_logging("INFO", json=True, service="auth", stream=out)
    logging.getLogger("t").info(
        "rpc done", extra={"rpc": {"method": "/a.B/C", "code": "OK"}, "obj": object()}
    )
    (entry,) = _lines(out)
    assert entry["rpc"] == {"method": "/a.B/C", "code": "OK"}
    assert entry["obj"].startswith("<object")


def test_exception_goes_under_error_stack() -> None:
    out = io.StringIO()
    configure_logging("INFO", json=True, service="auth", stream=out)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("t").exception("failed")
    (entry,) = _lines(out)
    assert entry["error"]["type"] == "ValueError"
    assert entry["error"]["message"] == "boom"
    assert "Traceback" in entry["error"]["stack"]
    assert 'raise ValueError("boom")' in entry["error"]["stack"]


def test_trace_and_span_ids_come_from_the_active_span() -> None:
    out = io.StringIO()
    configure_logging("INFO", json=True, service="auth", stream=out)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("rpc") as span:
        logging.getLogger("t").info("inside")
        context = span.get_span_context()
    logging.getLogger("t").info("outside")
    inside, outside = _lines(out)
    assert inside["trace_id"] == f"{context.trace_id:032x}"
    assert inside["span_id"] == f"{context.span_id:016x}"
    assert len(inside["trace_id"]) == 32
    assert "trace_id" not in outside


def test_configuring_again_replaces_the_handler_and_level() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("INFO", json=True, service="auth", stream=first)
    configure_logging("WARNING", json=True, service="auth", stream=second)
    log = logging.getLogger("t")
    log.info("dropped")
    log.warning("kept")
    assert first.getvalue() == ""
    assert [entry["message"] for entry in _lines(second)] == ["kept"]


def test_text_format_is_plain() -> None:
    out = io.StringIO()
    configure_logging("DEBUG", json=False, service="auth", stream=out)
    logging.getLogger("shopmesh.test").debug("plain %d", 1)
    line = out.getvalue().strip()
    assert line.endswith("DEBUG    shopmesh.test: plain 1")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
