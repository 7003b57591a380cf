"""AIP-158 pagination: page sizes and opaque page tokens.

A token is url-safe base64 of compact JSON holding a format version, a cursor (the
keyset position of the next page) and a fingerprint of the request parameters that
must not change between pages (filter, order_by, parent...). Tokens are opaque, not
secret or signed: a client can forge one, so callers validate the cursor values they
read back as they would any input.

    fingerprint = request_fingerprint(request.parent, request.filter, request.order_by)
    cursor = None
    if request.page_token:
        cursor = decode_page_token(request.page_token, fingerprint=fingerprint)
    ...
    next_page_token = encode_page_token({"id": last.id}, fingerprint=fingerprint) if more else ""
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from shopmesh_kit.errors import InvalidArgument

TOKEN_VERSION = 1
MAX_TOKEN_LENGTH = 2048


def normalize_page_size(value: int, *, default: int = 50, maximum: int = 1000) -> int:
    """0 means `default`; values above `maximum` are coerced down; negatives are invalid."""
    if value < 0:
        raise InvalidArgument(
            "page_size must not be negative", violations=[("page_size", "must not be negative")]
        )
    if value == 0:
        return default
    return min(value, maximum)


def request_fingerprint(*parts: str) -> str:
    """A short, stable hash of the request parameters a page token is bound to."""
    digest = hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode())
    return digest.hexdigest()[:16]


def encode_page_token(cursor: Mapping[str, Any], *, fingerprint: str) -> str:
    """Serialize `cursor` (JSON-compatible values) into an opaque token."""
    payload = {"v": TOKEN_VERSION, "f": fingerprint, "c": dict(cursor)}
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode("ascii")


def decode_page_token(token: str, *, fingerprint: str) -> dict[str, Any]:
    """The cursor of a token made by `encode_page_token` for the same fingerprint."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise _invalid("is too long")
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        payload = json.loads(raw)
    except (ValueError, binascii.Error):
        raise _invalid("is not a valid page token") from None
    if not isinstance(payload, dict) or payload.get("v") != TOKEN_VERSION:
        raise _invalid("is not a valid page token")
    cursor = payload.get("c")
    if not isinstance(cursor, dict):
        raise _invalid("is not a valid page token")
    if payload.get("f") != fingerprint:
        raise _invalid("does not match the request's filter/order_by")
    return cursor


def _invalid(description: str) -> InvalidArgument:
    return InvalidArgument(f"page_token {description}", violations=[("page_token", description)])
