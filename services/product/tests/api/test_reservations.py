from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from google.protobuf import field_mask_pb2
from shopmesh.product.v1 import product_pb2, product_service_pb2
from shopmesh_kit.testing.grpc import error_info, field_violations

from ..conftest import ProductHarness, amount, money

RESERVED = product_pb2.Reservation.RESERVED
COMMITTED = product_pb2.Reservation.COMMITTED
RELEASED = product_pb2.Reservation.RELEASED


async def _two_products(service: ProductHarness) -> None:
    await service.create("espresso-cup", display_name="Espresso Cup", price="12.50", quantity=10)
    await service.create("milk-jug", display_name="Milk Jug", price="20.00", quantity=5)


async def test_reserve_holds_every_line_with_its_price_and_name(service: ProductHarness) -> None:
    await _two_products(service)
    reservation = await service.reserve("order-1", ("milk-jug", 2), ("espresso-cup", 3))
    assert reservation.name == "reservations/order-1"
    assert reservation.state == RESERVED
    lines = {line.product: line for line in reservation.lines}
    assert set(lines) == {"products/espresso-cup", "products/milk-jug"}
    cup = lines["products/espresso-cup"]
    assert (cup.quantity, cup.display_name, amount(cup.unit_price)) == (
        3,
        "Espresso Cup",
        Decimal("12.50"),
    )
    assert cup.unit_price.currency_code == "USD"
    assert lines["products/milk-jug"].quantity == 2
    assert await service.quantity("espresso-cup") == 7
    assert await service.quantity("milk-jug") == 3
    assert await service.get_reservation("order-1") == reservation


async def test_reserve_again_returns_the_reservation_unchanged(service: ProductHarness) -> None:
    await _two_products(service)
    first = await service.reserve("order-1", ("espresso-cup", 3))
    again = await service.reserve("order-1", ("milk-jug", 1), ("espresso-cup", 9))
    assert again == first
    assert await service.quantity("espresso-cup") == 7
    assert await service.quantity("milk-jug") == 5


async def test_reservation_keeps_the_price_it_was_made_at(service: ProductHarness) -> None:
    await _two_products(service)
    await service.reserve("order-1", ("espresso-cup", 1))
    await service.stub.UpdateProduct(
        product_service_pb2.UpdateProductRequest(
            product=product_pb2.Product(
                name="products/espresso-cup", price=money("99"), display_name="Renamed"
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["price", "display_name"]),
        ),
        metadata=service.admin,
    )
    line = (await service.get_reservation("order-1")).lines[0]
    assert (amount(line.unit_price), line.display_name) == (Decimal("12.50"), "Espresso Cup")


async def test_out_of_stock_fails_the_whole_reservation(service: ProductHarness) -> None:
    await _two_products(service)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        # The first line (by product id) can be met; the second cannot.
        await service.reserve("order-1", ("espresso-cup", 4), ("milk-jug", 6))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(caught.value)
    assert (info.reason, info.domain) == ("OUT_OF_STOCK", "product.shopmesh.dev")
    assert info.metadata["product"] == "products/milk-jug"
    assert await service.quantity("espresso-cup") == 10
    assert await service.quantity("milk-jug") == 5
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await service.get_reservation("order-1")
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    # Nothing was recorded: the same id can reserve what is available.
    reservation = await service.reserve("order-1", ("espresso-cup", 4), ("milk-jug", 5))
    assert reservation.state == RESERVED
    assert await service.quantity("milk-jug") == 0


@pytest.mark.parametrize("product_id", ["no-such-product", "deleted-product"])
async def test_unknown_or_deleted_product_is_invalid_argument_on_its_line(
    service: ProductHarness, product_id: str
) -> None:
    await _two_products(service)
    await service.create("deleted-product")
    await service.stub.DeleteProduct(
        product_service_pb2.DeleteProductRequest(name="products/deleted-product"),
        metadata=service.admin,
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.reserve("order-1", ("espresso-cup", 1), (product_id, 1), ("milk-jug", 1))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {"lines[1].product"}
    assert await service.quantity("espresso-cup") == 10
    assert await service.quantity("milk-jug") == 5


@pytest.mark.parametrize(
    ("reservation_id", "lines", "fields"),
    [
        ("", [("espresso-cup", 1)], {"reservation_id"}),
        ("x" * 65, [("espresso-cup", 1)], {"reservation_id"}),
        ("order/1", [("espresso-cup", 1)], {"reservation_id"}),
        ("order-1", [], {"lines"}),
        ("order-1", [(f"product-{i:03d}", 1) for i in range(51)], {"lines"}),
        ("order-1", [("espresso-cup", 1), ("milk-jug", 0)], {"lines[1].quantity"}),
        ("order-1", [("espresso-cup", 1), ("milk-jug", -1)], {"lines[1].quantity"}),
        ("order-1", [("espresso-cup", 101)], {"lines[0].quantity"}),
        ("order-1", [("espresso-cup", 1), ("Bad Name", 1)], {"lines[1].product"}),
        (
            "order-1",
            [("milk-jug", 1), ("espresso-cup", 1), ("espresso-cup", 2)],
            {"lines[2].product"},
        ),
        (
            "order-1",
            [("espresso-cup", 1), ("milk-jug", 500), ("Bad", 1)],
            {"lines[1].quantity", "lines[2].product"},
        ),
    ],
)
async def test_invalid_requests_are_rejected_before_any_side_effect(
    service: ProductHarness,
    reservation_id: str,
    lines: list[tuple[str, int]],
    fields: set[str],
) -> None:
    await _two_products(service)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.reserve(reservation_id, *lines)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == fields
    assert await service.quantity("espresso-cup") == 10
    assert await service.quantity("milk-jug") == 5


async def test_line_product_must_be_a_product_name(service: ProductHarness) -> None:
    request = product_service_pb2.ReserveStockRequest(
        reservation_id="order-1",
        lines=[product_pb2.ReservationLine(product="espresso-cup", quantity=1)],
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.internal.ReserveStock(request, metadata=service.order_service)
    assert set(field_violations(caught.value)) == {"lines[0].product"}


async def test_get_reservation_unknown_or_malformed(service: ProductHarness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await service.get_reservation("order-1")
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await service.internal.GetReservation(
            product_service_pb2.GetReservationRequest(name="orders/1"),
            metadata=service.order_service,
        )
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(malformed.value)) == {"name"}


# ---------------------------------------------------------------- commit


async def test_commit_marks_the_stock_sold_and_twice_is_harmless(service: ProductHarness) -> None:
    await _two_products(service)
    reserved = await service.reserve("order-1", ("espresso-cup", 2))
    committed = await service.commit("order-1")
    assert committed.state == COMMITTED
    assert list(committed.lines) == list(reserved.lines)
    again = await service.commit("order-1")
    assert again == committed
    assert await service.quantity("espresso-cup") == 8


async def test_commit_of_an_unknown_reservation_is_not_found(service: ProductHarness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.commit("order-1")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_commit_of_a_released_reservation_fails(service: ProductHarness) -> None:
    await _two_products(service)
    await service.reserve("order-1", ("espresso-cup", 2))
    await service.release("order-1")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.commit("order-1")
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "RESERVATION_RELEASED"
    assert (await service.get_reservation("order-1")).state == RELEASED


# ---------------------------------------------------------------- release


async def test_release_returns_the_stock_once(service: ProductHarness) -> None:
    await _two_products(service)
    await service.reserve("order-1", ("espresso-cup", 3), ("milk-jug", 5))
    assert await service.release("order-1") is True
    assert await service.release("order-1") is False
    assert await service.quantity("espresso-cup") == 10
    assert await service.quantity("milk-jug") == 5
    reservation = await service.get_reservation("order-1")
    assert reservation.state == RELEASED
    assert len(reservation.lines) == 2


async def test_release_of_committed_stock_returns_it(service: ProductHarness) -> None:
    await _two_products(service)
    await service.reserve("order-1", ("espresso-cup", 3))
    await service.commit("order-1")
    assert await service.release("order-1") is True
    assert await service.quantity("espresso-cup") == 10


async def test_release_returns_stock_to_a_deleted_product(service: ProductHarness) -> None:
    await _two_products(service)
    await service.reserve("order-1", ("espresso-cup", 3))
    await service.commit("order-1")
    await service.stub.DeleteProduct(
        product_service_pb2.DeleteProductRequest(name="products/espresso-cup"),
        metadata=service.admin,
    )
    assert await service.release("order-1") is True
    assert await service.quantity("espresso-cup") == 10


async def test_release_before_reserve_leaves_a_tombstone_that_takes_no_stock(
    service: ProductHarness,
) -> None:
    await _two_products(service)
    assert await service.release("order-1") is False
    tombstone = await service.get_reservation("order-1")
    assert (tombstone.state, list(tombstone.lines)) == (RELEASED, [])
    late = await service.reserve("order-1", ("espresso-cup", 3))
    assert late.state == RELEASED
    assert list(late.lines) == []
    assert await service.quantity("espresso-cup") == 10
    assert await service.release("order-1") is False
