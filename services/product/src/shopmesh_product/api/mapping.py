"""Proto <-> domain mapping for the product servicers."""

from __future__ import annotations

from shopmesh.product.v1 import product_pb2, product_service_pb2
from shopmesh_kit.errors import InvalidArgument
from shopmesh_kit.money import to_cents, to_money

from shopmesh_product.domain.products import Product, ProductFields, product_name
from shopmesh_product.domain.reservations import LineRequest, Reservation

UPDATABLE = ("display_name", "description", "category", "price")
_STATES = {
    "RESERVED": product_pb2.Reservation.RESERVED,
    "COMMITTED": product_pb2.Reservation.COMMITTED,
    "RELEASED": product_pb2.Reservation.RELEASED,
}


def product_to_proto(product: Product, currency: str) -> product_pb2.Product:
    return product_pb2.Product(
        name=product.name,
        display_name=product.display_name,
        description=product.description,
        category=product.category,
        price=to_money(product.price_cents, currency),
        available_quantity=product.available_quantity,
        create_time=product.create_time,
        update_time=product.update_time,
        etag=product.etag,
    )


def reservation_to_proto(reservation: Reservation, currency: str) -> product_pb2.Reservation:
    return product_pb2.Reservation(
        name=reservation.name,
        state=_STATES[reservation.state],
        lines=[
            product_pb2.ReservationLine(
                product=product_name(line.product_id),
                quantity=line.quantity,
                unit_price=to_money(line.unit_price_cents, currency),
                display_name=line.display_name,
            )
            for line in reservation.lines
        ],
        create_time=reservation.create_time,
        update_time=reservation.update_time,
    )


def new_product_fields(product: product_pb2.Product, currency: str) -> ProductFields:
    return ProductFields(
        display_name=product.display_name,
        description=product.description,
        category=product.category,
        price_cents=to_cents(product.price, currency=currency, field="product.price"),
    )


def updated_fields(
    request: product_service_pb2.UpdateProductRequest, currency: str
) -> ProductFields:
    """The fields an AIP-134 update sets: those in `update_mask`, or when it
    is empty, the updatable fields set in `product`; `*` means all of them."""
    product = request.product
    paths = list(request.update_mask.paths)
    if not paths:
        paths = [p for p in UPDATABLE if _is_set(product, p)]
    elif paths == ["*"]:
        paths = list(UPDATABLE)
    unknown = [p for p in paths if p not in UPDATABLE]
    if unknown:
        raise InvalidArgument.field(
            "update_mask", f"cannot update {', '.join(unknown)}; updatable: {', '.join(UPDATABLE)}"
        )
    return ProductFields(
        display_name=product.display_name if "display_name" in paths else None,
        description=product.description if "description" in paths else None,
        category=product.category if "category" in paths else None,
        price_cents=(
            to_cents(product.price, currency=currency, field="product.price")
            if "price" in paths
            else None
        ),
    )


def _is_set(product: product_pb2.Product, path: str) -> bool:
    return product.HasField("price") if path == "price" else bool(getattr(product, path))


def line_requests(request: product_service_pb2.ReserveStockRequest) -> list[LineRequest]:
    return [LineRequest(product=line.product, quantity=line.quantity) for line in request.lines]
