from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
from shopmesh.product.v1 import product_service_pb2
from shopmesh_kit.testing.grpc import field_violations
from shopmesh_product.domain.products import ProductFields

from ..conftest import ProductHarness, amount

# id, display name, category, price: duplicate names and prices exercise the tie-breakers.
CATALOG = [
    ("espresso-cup", "Espresso Cup", "kitchen", "12.50"),
    ("milk-jug", "Milk Jug", "kitchen", "20.00"),
    ("coffee-mug", "Coffee Mug", "kitchen", "9.99"),
    ("tea-mug", "Coffee Mug", "kitchen", "9.99"),
    ("chef-knife", "Chef Knife", "kitchen", "79.00"),
    ("desk-lamp", "Desk Lamp", "home", "98.00"),
    ("wool-throw", "Wool Throw", "home", "119.00"),
    ("soy-candle", "Soy Candle", "home", "5.50"),
    ("vase-small", "Vase", "home", "5.50"),
    ("vase-large", "Vase", "home", "39.00"),
    ("fountain-pen", "Fountain Pen", "stationery", "35.00"),
    ("notebook-a5", "Notebook A5", "stationery", "16.50"),
]
DESCRIPTIONS = {"coffee-mug": "A sturdy MUG for filter coffee", "vase-small": "50% off"}


async def _catalog(service: ProductHarness, *, same_time: bool = False) -> None:
    """Create CATALOG in order, one second apart (or all at one instant)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i, (product_id, name, category, price) in enumerate(CATALOG):
        service.clock.frozen = start + timedelta(seconds=0 if same_time else i)
        await service.create(
            product_id,
            display_name=name,
            category=category,
            price=price,
            description=DESCRIPTIONS.get(product_id, ""),
        )
    service.clock.frozen = None


async def _list(service: ProductHarness, **fields: Any) -> Any:
    return await service.stub.ListProducts(product_service_pb2.ListProductsRequest(**fields))


async def _ids(service: ProductHarness, filter: str) -> set[str]:
    response = await _list(service, filter=filter, page_size=1000)
    assert not response.next_page_token
    return {p.name.removeprefix("products/") for p in response.products}


async def _all_pages(service: ProductHarness, page_size: int, **fields: Any) -> list[str]:
    ids: list[str] = []
    token = ""
    while True:
        page = await _list(service, page_size=page_size, page_token=token, **fields)
        assert len(page.products) <= page_size
        ids += [p.name.removeprefix("products/") for p in page.products]
        token = page.next_page_token
        if not token:
            return ids


def _expected(order_by: str, same_time: bool) -> list[str]:
    """CATALOG sorted as the service must: each key, then the id."""
    rows: list[dict[str, Any]] = [
        {
            "id": pid,
            "display_name": name,
            "price": Decimal(price),
            "create_time": 0 if same_time else i,
        }
        for i, (pid, name, _, price) in enumerate(CATALOG)
    ]
    keys = [part.split() for part in order_by.split(",")] if order_by else [["create_time", "desc"]]
    rows.sort(key=lambda r: str(r["id"]))
    for field, *desc in reversed(keys):
        rows.sort(key=lambda r: r[field], reverse=bool(desc))  # stable: later keys break ties
    return [str(r["id"]) for r in rows]


ORDERS = [
    "",
    "create_time",
    "create_time desc",
    "display_name",
    "display_name desc",
    "price",
    "price desc",
    "price desc, display_name",
    "display_name desc,price",
]


async def test_pages_return_every_product_once_in_order(service: ProductHarness) -> None:
    await _catalog(service)
    for order_by in ORDERS:
        for page_size in (1, 5, 12):
            ids = await _all_pages(service, page_size, order_by=order_by)
            assert ids == _expected(order_by, False), (order_by, page_size)


async def test_equal_create_times_are_ordered_by_id(service: ProductHarness) -> None:
    await _catalog(service, same_time=True)
    for order_by in ("", "create_time", "price desc"):
        assert await _all_pages(service, 4, order_by=order_by) == _expected(order_by, True)


async def test_rows_inserted_between_pages_are_neither_skipped_nor_repeated(
    service: ProductHarness,
) -> None:
    await _catalog(service)
    first = await _list(service, page_size=4, order_by="display_name")
    seen = [p.name.removeprefix("products/") for p in first.products]
    # One sorts before the cursor (never shown), one after it (shown once).
    await service.create("aaaa-first", display_name="Aardvark Cup")
    await service.create("zzzz-last", display_name="Zebra Cup")
    token = first.next_page_token
    while token:
        page = await _list(service, page_size=4, order_by="display_name", page_token=token)
        seen += [p.name.removeprefix("products/") for p in page.products]
        token = page.next_page_token
    assert seen == [*_expected("display_name", False), "zzzz-last"]


async def test_default_order_is_newest_first_and_excludes_deleted(service: ProductHarness) -> None:
    await _catalog(service)
    await service.stub.DeleteProduct(
        product_service_pb2.DeleteProductRequest(name="products/notebook-a5"),
        metadata=service.admin,
    )
    page = await _list(service, page_size=3)
    assert [p.name for p in page.products] == [
        "products/fountain-pen",
        "products/vase-large",
        "products/vase-small",
    ]
    assert page.products[0].available_quantity == 10
    assert amount(page.products[0].price) == Decimal(35)


async def test_page_size_zero_means_50_and_large_sizes_are_capped(service: ProductHarness) -> None:
    for i in range(51):
        await service.app.catalog.create(
            _fields(f"Cup {i}"), product_id=f"cup-{i:04d}", initial_quantity=1
        )
    default = await _list(service)
    assert len(default.products) == 50
    assert default.next_page_token
    assert len((await _list(service, page_size=2**31 - 1)).products) == 51


def _fields(name: str) -> ProductFields:
    return ProductFields(display_name=name, description="", category="kitchen", price_cents=100)


async def test_negative_page_size_is_invalid(service: ProductHarness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _list(service, page_size=-1)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {"page_size"}


@pytest.mark.parametrize(
    "changed", [{"filter": 'category = "home"'}, {"order_by": "price"}, {"filter": "price < 50"}]
)
async def test_a_page_token_only_works_with_its_filter_and_order(
    service: ProductHarness, changed: dict[str, str]
) -> None:
    await _catalog(service)
    first = await _list(service, page_size=2, filter="price > 1", order_by="display_name")
    request = {"filter": "price > 1", "order_by": "display_name", **changed}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _list(service, page_size=2, page_token=first.next_page_token, **request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {"page_token"}


async def test_a_garbage_page_token_is_invalid(service: ProductHarness) -> None:
    for token in ("garbage", "eyJ2IjoxfQ", "x" * 3000):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _list(service, page_token=token)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert set(field_violations(caught.value)) == {"page_token"}


FILTERS: list[tuple[str, set[str]]] = [
    (
        'category = "home"',
        {"desk-lamp", "wool-throw", "soy-candle", "vase-small", "vase-large"},
    ),
    ("category = stationery", {"fountain-pen", "notebook-a5"}),
    ('category = "garden"', set()),
    ("price < 9.99", {"soy-candle", "vase-small"}),
    ("price <= 9.99", {"soy-candle", "vase-small", "coffee-mug", "tea-mug"}),
    ("price > 98", {"wool-throw"}),
    ("price >= 98", {"wool-throw", "desk-lamp"}),
    ("price = 5.5", {"soy-candle", "vase-small"}),
    ("price >= 5.50 AND price < 10", {"soy-candle", "vase-small", "coffee-mug", "tea-mug"}),
    ('"mug"', {"coffee-mug", "tea-mug"}),
    ('"MUG" AND price < 100', {"coffee-mug", "tea-mug"}),
    ('"filter coffee"', {"coffee-mug"}),
    ('"50%"', {"vase-small"}),
    ('"%"', {"vase-small"}),
    ('"_"', set()),
    ('category = "home" AND "vase" AND price > 10', {"vase-large"}),
    ("", {pid for pid, *_ in CATALOG}),
]


async def test_filters_select_matching_products(service: ProductHarness) -> None:
    await _catalog(service)
    for filter, expected in FILTERS:
        assert await _ids(service, filter) == expected, filter


BAD_FILTERS = [
    "color = red",
    'category != "home"',
    "category > home",
    'category = "Home"',
    "price < 1.234",
    "price < cheap",
    'price < "20"',
    "price < -1",
    "price <",
    "price",
    'category = "home" OR price < 5',
    'category = "home" price < 5',
    "AND price < 5",
    "price < 5 AND",
    'NOT category = "home"',
    '(category = "home")',
    '""',
    'category = "home',
]


async def test_unsupported_filters_are_invalid_argument_on_filter(
    service: ProductHarness,
) -> None:
    for filter in BAD_FILTERS:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _list(service, filter=filter)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, filter
        violations = field_violations(caught.value)
        assert set(violations) == {"filter"}
        assert violations["filter"]


async def test_unsupported_order_by_is_invalid_argument(service: ProductHarness) -> None:
    for order_by in (
        "stock",
        "price asc",
        "price desc desc",
        "price,price",
        ",",
        "create_time DESC",
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _list(service, order_by=order_by)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, order_by
        assert set(field_violations(caught.value)) == {"order_by"}
