"""gRPC servicer: parse, delegate to OrderService, map. No rules here."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from shopmesh.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from shopmesh_kit.auth import current_principal
from shopmesh_kit.money import to_money
from shopmesh_kit.rpc import Context

from shopmesh_order.domain.names import order_name
from shopmesh_order.domain.orders import Order, line_total
from shopmesh_order.service import OrderService


def _timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def order_to_proto(order: Order) -> order_pb2.Order:
    lines = []
    for line in order.lines:
        proto = order_pb2.OrderLine(
            product=f"products/{line.product_id}",
            quantity=line.quantity,
            display_name=line.display_name,
        )
        total = line_total(line)
        if line.unit_price_cents is not None and total is not None:
            proto.unit_price.CopyFrom(to_money(line.unit_price_cents, order.currency))
            proto.line_total.CopyFrom(to_money(total, order.currency))
        lines.append(proto)
    proto_order = order_pb2.Order(
        name=order_name(order.user_id, order.id),
        lines=lines,
        state=order.state.value,
        reject_reason=order.reject_reason,
        create_time=_timestamp(order.create_time),
        update_time=_timestamp(order.update_time),
        etag=f'W/"{order.revision}"',
    )
    if order.total_cents is not None:
        proto_order.total.CopyFrom(to_money(order.total_cents, order.currency))
    return proto_order


class OrderServicer(order_service_pb2_grpc.OrderServiceServicer):
    def __init__(self, service: OrderService) -> None:
        self._service = service

    async def GetOrder(
        self, request: order_service_pb2.GetOrderRequest, context: Context
    ) -> order_pb2.Order:
        return order_to_proto(await self._service.get(current_principal(), request.name))

    async def ListOrders(
        self, request: order_service_pb2.ListOrdersRequest, context: Context
    ) -> order_service_pb2.ListOrdersResponse:
        page = await self._service.list(
            current_principal(),
            request.parent,
            request.page_size,
            request.page_token,
            request.filter,
        )
        return order_service_pb2.ListOrdersResponse(
            orders=[order_to_proto(order) for order in page.orders],
            next_page_token=page.next_page_token,
        )

    async def CreateOrder(
        self, request: order_service_pb2.CreateOrderRequest, context: Context
    ) -> order_pb2.Order:
        order = await self._service.create(
            current_principal(),
            request.parent,
            [(line.product, line.quantity) for line in request.order.lines],
            request.request_id,
        )
        return order_to_proto(order)

    async def CancelOrder(
        self, request: order_service_pb2.CancelOrderRequest, context: Context
    ) -> order_pb2.Order:
        return order_to_proto(await self._service.cancel(current_principal(), request.name))
