import pytest
from shopmesh_kit.errors import InvalidArgument
from shopmesh_kit.pagination import encode_page_token
from shopmesh_product.domain.listing import (
    DEFAULT_ORDER,
    CategoryIs,
    Condition,
    PriceCompare,
    SortField,
    SortKey,
    TextMatch,
    decode_cursor,
    parse_filter,
    parse_order_by,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   ", []),
        ('category = "kitchen"', [CategoryIs("kitchen")]),
        ("category=kitchen", [CategoryIs("kitchen")]),
        ('category = "3d-prints"', [CategoryIs("3d-prints")]),
        ("price < 20", [PriceCompare("<", 2000)]),
        ("price<=20.5", [PriceCompare("<=", 2050)]),
        ("price > 0.05", [PriceCompare(">", 5)]),
        ("price >= 5.50", [PriceCompare(">=", 550)]),
        ("price = 7", [PriceCompare("=", 700)]),
        ('"mug"', [TextMatch("mug")]),
        ('"say \\"hi\\""', [TextMatch('say "hi"')]),
        (
            'category = "home" AND price >= 5.50 AND "vase"',
            [CategoryIs("home"), PriceCompare(">=", 550), TextMatch("vase")],
        ),
    ],
)
def test_parse_filter_reads_the_supported_restrictions(
    text: str, expected: list[Condition]
) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("color = red", "unknown field 'color'"),
        ("price < 1.234", "at most 2 decimals"),
        ("price != 5", "price supports"),
        ("price ~ 5", "unexpected '~'"),
        ('category < "a"', "category supports only ="),
        ('category = "Kitchen"', "category supports only ="),
        ("price < 5 OR price > 10", "expected AND"),
        ("price < 5 price > 10", "expected AND"),
        ("price < 5 AND", "ends after AND"),
        ("AND price < 5", "expected a restriction"),
        ("price", "expected an operator and a value"),
        ("price 5 5", "expected an operator"),
        ('""', "must not be empty"),
        ("(price < 5)", "unexpected '('"),
        ("x" * 1001, "at most 1000 characters"),
        (" AND ".join(["price > 1"] * 21), "at most 20 restrictions"),
    ],
)
def test_parse_filter_explains_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter(text)
    assert caught.value.violations[0][0] == "filter"
    assert fragment in caught.value.violations[0][1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", DEFAULT_ORDER),
        ("price", (SortKey(SortField.PRICE),)),
        ("  price desc ", (SortKey(SortField.PRICE, descending=True),)),
        (
            "display_name, create_time desc",
            (SortKey(SortField.DISPLAY_NAME), SortKey(SortField.CREATE_TIME, descending=True)),
        ),
    ],
)
def test_parse_order_by(text: str, expected: tuple[SortKey, ...]) -> None:
    assert parse_order_by(text) == expected


@pytest.mark.parametrize(
    "text", ["stock", "price asc", "price desc desc", "price, price desc", "price,", "-price"]
)
def test_parse_order_by_rejects_anything_else(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_order_by(text)
    assert caught.value.violations[0][0] == "order_by"


@pytest.mark.parametrize(
    "cursor",
    [
        {"k": ["2026-01-01T00:00:00+00:00"]},  # no id
        {"k": [], "id": "a"},  # too few values
        {"k": ["yesterday"], "id": "a"},
        {"k": ["2026-01-01T00:00:00"], "id": "a"},  # naive
        {"k": [12], "id": "a"},
        {"k": ["2026-01-01T00:00:00+00:00"], "id": 5},
    ],
)
def test_forged_cursors_are_rejected(cursor: dict[str, object]) -> None:
    token = encode_page_token(cursor, fingerprint="f")
    with pytest.raises(InvalidArgument) as caught:
        decode_cursor(token, DEFAULT_ORDER, fingerprint="f")
    assert caught.value.violations[0][0] == "page_token"


def test_cursor_values_are_typed_per_sort_field() -> None:
    order = (SortKey(SortField.PRICE), SortKey(SortField.DISPLAY_NAME))
    good = encode_page_token({"k": [100, "Cup"], "id": "a"}, fingerprint="f")
    assert decode_cursor(good, order, fingerprint="f").values == (100, "Cup")
    for values in ([True, "Cup"], ["100", "Cup"], [100, 7]):
        bad = encode_page_token({"k": values, "id": "a"}, fingerprint="f")
        with pytest.raises(InvalidArgument):
            decode_cursor(bad, order, fingerprint="f")
