import pytest
from shopmesh_kit.errors import InvalidArgument
from shopmesh_order.domain.orders import (
    LineRequest,
    parse_lines,
    request_hash,
    validate_request_id,
)


def test_request_hash_ignores_line_order() -> None:
    a = [LineRequest("mug", 1), LineRequest("tea", 2)]
    assert request_hash(a) == request_hash(list(reversed(a)))
    assert request_hash(a) != request_hash([LineRequest("mug", 2), LineRequest("tea", 2)])


def test_parse_lines_reports_every_violation() -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_lines([("products/mug", 0), ("bad", 1), ("products/mug", 200)])
    assert [field for field, _ in caught.value.violations] == [
        "order.lines[0].quantity",
        "order.lines[1].product",
        "order.lines[2].product",
        "order.lines[2].quantity",
    ]


def test_request_id_must_be_a_uuid_and_is_normalised() -> None:
    assert validate_request_id("8B4F2A9E-1C3D-4E5F-8A9B-0C1D2E3F4A5B") == (
        "8b4f2a9e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
    )
    with pytest.raises(InvalidArgument):
        validate_request_id("retry-1")
