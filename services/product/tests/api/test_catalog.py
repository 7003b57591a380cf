from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from shopmesh.product.v1 import product_pb2, product_service_pb2
from shopmesh_kit.testing.grpc import error_info, field_violations

from ..conftest import ProductHarness, amount, money


async def _update(
    service: ProductHarness, product: product_pb2.Product, paths: list[str] | None = None
) -> Any:
    return await service.stub.UpdateProduct(
        product_service_pb2.UpdateProductRequest(
            product=product,
            update_mask=field_mask_pb2.FieldMask(paths=paths or []),
        ),
        metadata=service.admin,
    )


async def _delete(service: ProductHarness, product_id: str, etag: str = "") -> None:
    await service.stub.DeleteProduct(
        product_service_pb2.DeleteProductRequest(name=f"products/{product_id}", etag=etag),
        metadata=service.admin,
    )


async def _restock(service: ProductHarness, product_id: str, quantity: int) -> Any:
    return await service.stub.RestockProduct(
        product_service_pb2.RestockProductRequest(name=f"products/{product_id}", quantity=quantity),
        metadata=service.admin,
    )


# ---------------------------------------------------------------- create and get


async def test_create_returns_the_product_and_get_reads_it_back(service: ProductHarness) -> None:
    created = await service.create(
        "espresso-cup", display_name="Espresso Cup", price="12.50", quantity=7, description="Small"
    )
    assert created.name == "products/espresso-cup"
    assert (created.display_name, created.description, created.category) == (
        "Espresso Cup",
        "Small",
        "kitchen",
    )
    assert created.price.currency_code == "USD"
    assert amount(created.price) == Decimal("12.50")
    assert created.available_quantity == 7
    assert created.etag == 'W/"1"'
    assert created.create_time == created.update_time
    assert await service.get("espresso-cup") == created


async def test_create_without_an_id_generates_one(service: ProductHarness) -> None:
    created = await service.create("", quantity=0)
    assert created.name.startswith("products/")
    assert created.available_quantity == 0
    assert (await service.get(created.name.removeprefix("products/"))).name == created.name


async def test_create_refuses_a_taken_id_even_after_delete(service: ProductHarness) -> None:
    await service.create("espresso-cup")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.create("espresso-cup")
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    await _delete(service, "espresso-cup")
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await service.create("espresso-cup")
    assert again.value.code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"display_name": "x" * 201}, "product.display_name"),
        ({"display_name": "   "}, "product.display_name"),
        ({"description": "x" * 5001}, "product.description"),
        ({"category": "Kitchen"}, "product.category"),
        ({"category": "kitchen tools"}, "product.category"),
        ({"price": "0"}, "product.price"),
        ({"price": "-3.00"}, "product.price"),
        ({"price": "1.234"}, "product.price.nanos"),
        ({"product_id": "ab"}, "product_id"),
        ({"product_id": "Espresso_Cup"}, "product_id"),
        ({"quantity": -1}, "initial_quantity"),
        ({"quantity": 1_000_001}, "initial_quantity"),
    ],
)
async def test_create_rejects_invalid_fields(
    service: ProductHarness, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.create(**changes)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value)


async def test_create_rejects_another_currency(service: ProductHarness) -> None:
    request = product_service_pb2.CreateProductRequest(
        product=product_pb2.Product(
            display_name="Cup", category="kitchen", price=money("12.00", "EUR")
        ),
        product_id="espresso-cup",
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.CreateProduct(request, metadata=service.admin)
    assert set(field_violations(caught.value)) == {"product.price.currency_code"}


async def test_create_needs_the_required_fields(service: ProductHarness) -> None:
    request = product_service_pb2.CreateProductRequest(product=product_pb2.Product())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.stub.CreateProduct(request, metadata=service.admin)
    assert set(field_violations(caught.value)) == {
        "product.display_name",
        "product.category",
        "product.price",
    }


async def test_create_accepts_the_boundaries(service: ProductHarness) -> None:
    await service.create("a" * 63, display_name="x" * 200, description="y" * 5000, price="0.01")
    await service.create("abcd", quantity=1_000_000, category="a")


async def test_get_unknown_is_not_found_and_malformed_is_invalid(service: ProductHarness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await service.get("no-such-product")
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(missing.value).reason == "PRODUCT_NOT_FOUND"
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await service.stub.GetProduct(product_service_pb2.GetProductRequest(name="espresso-cup"))
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(malformed.value)) == {"name"}


# ---------------------------------------------------------------- update


async def test_update_changes_only_the_masked_fields(service: ProductHarness) -> None:
    created = await service.create(description="Small")
    updated = await _update(
        service,
        product_pb2.Product(
            name=created.name, display_name="Big Cup", description="ignored", price=money("14")
        ),
        ["display_name", "price"],
    )
    assert updated.display_name == "Big Cup"
    assert updated.description == "Small"
    assert amount(updated.price) == Decimal(14)
    assert updated.etag == 'W/"2"'
    assert updated.update_time.ToDatetime() > created.update_time.ToDatetime()
    assert updated.create_time == created.create_time
    assert await service.get("espresso-cup") == updated


async def test_update_without_a_mask_sets_the_fields_given(service: ProductHarness) -> None:
    created = await service.create(description="Small", price="12.50")
    updated = await _update(
        service, product_pb2.Product(name=created.name, category="coffee", description="Tiny")
    )
    assert (updated.category, updated.description) == ("coffee", "Tiny")
    assert (updated.display_name, amount(updated.price)) == ("Espresso Cup", Decimal("12.50"))


async def test_update_with_star_replaces_every_updatable_field(service: ProductHarness) -> None:
    created = await service.create(description="Small")
    updated = await _update(
        service,
        product_pb2.Product(
            name=created.name, display_name="Mug", category="coffee", price=money("3")
        ),
        ["*"],
    )
    assert (updated.display_name, updated.description, updated.category) == ("Mug", "", "coffee")


@pytest.mark.parametrize(
    ("paths", "changes", "field"),
    [
        (["available_quantity"], {}, "update_mask"),
        (["name"], {}, "update_mask"),
        (["price.units"], {}, "update_mask"),
        ([], {}, "update_mask"),
        (["category"], {"category": "Bad Category"}, "product.category"),
        (["display_name"], {"display_name": ""}, "product.display_name"),
        (["price"], {}, "product.price"),
    ],
)
async def test_update_rejects_bad_masks_and_values(
    service: ProductHarness, paths: list[str], changes: dict[str, Any], field: str
) -> None:
    created = await service.create()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _update(service, product_pb2.Product(name=created.name, **changes), paths)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value)
    assert (await service.get("espresso-cup")).etag == created.etag


async def test_update_with_a_stale_etag_is_aborted(service: ProductHarness) -> None:
    created = await service.create()
    change = product_pb2.Product(name=created.name, display_name="One", etag=created.etag)
    await _update(service, change)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _update(
            service, product_pb2.Product(name=created.name, display_name="Two", etag=created.etag)
        )
    assert caught.value.code() == grpc.StatusCode.ABORTED
    assert error_info(caught.value).reason == "ETAG_MISMATCH"
    assert (await service.get("espresso-cup")).display_name == "One"
    for garbage in ("1", 'W/"x"', '"2"'):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _update(
                service, product_pb2.Product(name=created.name, category="a", etag=garbage)
            )
        assert refused.value.code() == grpc.StatusCode.ABORTED


async def test_concurrent_updates_with_one_etag_let_exactly_one_win(
    service: ProductHarness,
) -> None:
    created = await service.create()
    results = await asyncio.gather(
        *(
            _update(
                service,
                product_pb2.Product(name=created.name, display_name=f"Name {i}", etag=created.etag),
            )
            for i in range(8)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1
    assert len(losers) == 7
    assert {e.code() for e in losers} == {grpc.StatusCode.ABORTED}
    current = await service.get("espresso-cup")
    assert (current.display_name, current.etag) == (winners[0].display_name, 'W/"2"')


async def test_stock_moves_do_not_change_the_etag(service: ProductHarness) -> None:
    created = await service.create(quantity=5)
    await _restock(service, "espresso-cup", 10)
    await service.reserve("order-1", ("espresso-cup", 3))
    await service.release("order-1")
    current = await service.get("espresso-cup")
    assert current.etag == created.etag
    assert current.available_quantity == 15
    updated = await _update(
        service, product_pb2.Product(name=created.name, display_name="Cup", etag=created.etag)
    )
    assert updated.available_quantity == 15


async def test_update_of_an_unknown_or_deleted_product_is_not_found(
    service: ProductHarness,
) -> None:
    await service.create()
    await _delete(service, "espresso-cup")
    for product_id in ("espresso-cup", "never-existed"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _update(
                service, product_pb2.Product(name=f"products/{product_id}", display_name="X")
            )
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND


# ---------------------------------------------------------------- delete


async def test_delete_hides_the_product(service: ProductHarness) -> None:
    await service.create()
    await _delete(service, "espresso-cup")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.get("espresso-cup")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await service.stub.ListProducts(product_service_pb2.ListProductsRequest())
    assert list(listed.products) == []
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await _delete(service, "espresso-cup")
    assert again.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as restock:
        await _restock(service, "espresso-cup", 1)
    assert restock.value.code() == grpc.StatusCode.NOT_FOUND


async def test_delete_checks_the_etag_when_given(service: ProductHarness) -> None:
    created = await service.create()
    updated = await _update(service, product_pb2.Product(name=created.name, display_name="New"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _delete(service, "espresso-cup", etag=created.etag)
    assert caught.value.code() == grpc.StatusCode.ABORTED
    assert error_info(caught.value).reason == "ETAG_MISMATCH"
    await _delete(service, "espresso-cup", etag=updated.etag)


async def test_delete_is_refused_while_stock_is_reserved(service: ProductHarness) -> None:
    await service.create()
    await service.reserve("order-1", ("espresso-cup", 1))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _delete(service, "espresso-cup")
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(caught.value)
    assert (info.reason, info.domain) == ("STOCK_RESERVED", "product.shopmesh.dev")
    assert info.metadata["product"] == "products/espresso-cup"
    await service.commit("order-1")
    await _delete(service, "espresso-cup")


async def test_delete_is_allowed_once_the_reservation_is_released(
    service: ProductHarness,
) -> None:
    await service.create()
    await service.reserve("order-1", ("espresso-cup", 1))
    await service.release("order-1")
    await _delete(service, "espresso-cup")


# ---------------------------------------------------------------- restock


async def test_restock_adds_units(service: ProductHarness) -> None:
    created = await service.create(quantity=3)
    restocked = await _restock(service, "espresso-cup", 1_000_000)
    assert restocked.available_quantity == 1_000_003
    assert restocked.etag == created.etag
    assert (await service.get("espresso-cup")).available_quantity == 1_000_003


@pytest.mark.parametrize("quantity", [0, -1, 1_000_001])
async def test_restock_rejects_quantities_out_of_range(
    service: ProductHarness, quantity: int
) -> None:
    await service.create(quantity=3)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _restock(service, "espresso-cup", quantity)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {"quantity"}
    assert await service.quantity("espresso-cup") == 3


async def test_restock_of_an_unknown_product_is_not_found(service: ProductHarness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _restock(service, "no-such-product", 5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_errors_carry_no_internals(service: ProductHarness) -> None:
    await service.create()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.create()
    details = caught.value.details() or ""
    for leak in ("SELECT", "INSERT", "Traceback", "sqlalchemy", "psycopg", "sqlite"):
        assert leak not in details
