"""The one clock services use; tests pass their own `Callable[[], datetime]`."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
