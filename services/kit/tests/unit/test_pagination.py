import base64
import json

import pytest
from shopmesh_kit.errors import InvalidArgument
from shopmesh_kit.pagination import (
    MAX_TOKEN_LENGTH,
    decode_page_token,
    encode_page_token,
    normalize_page_size,
    request_fingerprint,
)

FINGERPRINT = request_fingerprint("shops/1", "state = ACTIVE", "create_time desc")


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 50), (1, 1), (50, 50), (1000, 1000), (1001, 1000), (10**9, 1000)]
)
def test_page_size_defaults_zero_and_caps_at_maximum(value: int, expected: int) -> None:
    assert normalize_page_size(value) == expected


def test_page_size_uses_given_default_and_maximum() -> None:
    assert normalize_page_size(0, default=10, maximum=20) == 10
    assert normalize_page_size(25, default=10, maximum=20) == 20


def test_negative_page_size_is_invalid_argument_on_page_size() -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalize_page_size(-1)
    assert caught.value.violations == [("page_size", "must not be negative")]


def test_token_round_trips_cursor() -> None:
    cursor = {"create_time": "2024-05-01T12:00:00Z", "id": 42, "name": "héllo"}
    token = encode_page_token(cursor, fingerprint=FINGERPRINT)
    assert decode_page_token(token, fingerprint=FINGERPRINT) == cursor


def test_token_is_url_safe_without_padding_and_small() -> None:
    token = encode_page_token({"id": "a" * 36, "t": 1714564800}, fingerprint=FINGERPRINT)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(token) < 160


def test_fingerprint_mismatch_is_rejected() -> None:
    token = encode_page_token({"id": 1}, fingerprint=FINGERPRINT)
    other = request_fingerprint("shops/1", "state = DRAFT", "create_time desc")
    with pytest.raises(InvalidArgument, match="filter/order_by") as caught:
        decode_page_token(token, fingerprint=other)
    assert caught.value.violations[0][0] == "page_token"


def test_fingerprint_separates_parts_and_is_short() -> None:
    assert request_fingerprint("ab", "c") != request_fingerprint("a", "bc")
    assert request_fingerprint("a") == request_fingerprint("a")
    assert len(FINGERPRINT) == 16


def _forge(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "garbage!",
        "é",
        "AAAA",
        "a",
        _forge([1, 2]),
        _forge({"v": 2, "f": FINGERPRINT, "c": {}}),
        _forge({"f": FINGERPRINT, "c": {}}),
        _forge({"v": 1, "f": FINGERPRINT, "c": [1]}),
        "A" * (MAX_TOKEN_LENGTH + 1),
    ],
    ids=[
        "not-base64",
        "non-ascii",
        "not-json",
        "truncated",
        "not-an-object",
        "wrong-version",
        "no-version",
        "cursor-not-object",
        "too-long",
    ],
)
def test_malformed_token_is_invalid_argument_on_page_token(token: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        decode_page_token(token, fingerprint=FINGERPRINT)
    assert [field for field, _ in caught.value.violations] == ["page_token"]


def test_tampered_token_is_rejected() -> None:
    token = encode_page_token({"id": 1}, fingerprint=FINGERPRINT)
    flipped = ("B" if token[5] == "A" else "A").join((token[:5], token[6:]))
    with pytest.raises(InvalidArgument):
        decode_page_token(flipped, fingerprint=FINGERPRINT)
