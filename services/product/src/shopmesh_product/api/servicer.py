"""gRPC servicers: parse, delegate to the catalog and stock services, map. No rules here."""

from __future__ import annotations

from google.protobuf import empty_pb2
from shopmesh.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from shopmesh_kit.rpc import Context

from shopmesh_product.api.mapping import (
    line_requests,
    new_product_fields,
    product_to_proto,
    reservation_to_proto,
    updated_fields,
)
from shopmesh_product.service import Catalog, Stock


class ProductServicer(product_service_pb2_grpc.ProductServiceServicer):
    def __init__(self, catalog: Catalog, *, currency: str) -> None:
        self._catalog = catalog
        self._currency = currency

    async def GetProduct(
        self, request: product_service_pb2.GetProductRequest, context: Context
    ) -> product_pb2.Product:
        return product_to_proto(await self._catalog.get(request.name), self._currency)

    async def ListProducts(
        self, request: product_service_pb2.ListProductsRequest, context: Context
    ) -> product_service_pb2.ListProductsResponse:
        page = await self._catalog.list(
            page_size=request.page_size,
            page_token=request.page_token,
            filter=request.filter,
            order_by=request.order_by,
        )
        return product_service_pb2.ListProductsResponse(
            products=[product_to_proto(p, self._currency) for p in page.products],
            next_page_token=page.next_page_token,
        )

    async def CreateProduct(
        self, request: product_service_pb2.CreateProductRequest, context: Context
    ) -> product_pb2.Product:
        product = await self._catalog.create(
            new_product_fields(request.product, self._currency),
            product_id=request.product_id,
            initial_quantity=request.initial_quantity,
        )
        return product_to_proto(product, self._currency)

    async def UpdateProduct(
        self, request: product_service_pb2.UpdateProductRequest, context: Context
    ) -> product_pb2.Product:
        product = await self._catalog.update(
            request.product.name,
            updated_fields(request, self._currency),
            etag=request.product.etag,
        )
        return product_to_proto(product, self._currency)

    async def DeleteProduct(
        self, request: product_service_pb2.DeleteProductRequest, context: Context
    ) -> empty_pb2.Empty:
        await self._catalog.delete(request.name, etag=request.etag)
        return empty_pb2.Empty()

    async def RestockProduct(
        self, request: product_service_pb2.RestockProductRequest, context: Context
    ) -> product_pb2.Product:
        product = await self._catalog.restock(request.name, request.quantity)
        return product_to_proto(product, self._currency)


class ProductInternalServicer(product_service_pb2_grpc.ProductInternalServiceServicer):
    def __init__(self, stock: Stock, *, currency: str) -> None:
        self._stock = stock
        self._currency = currency

    async def ReserveStock(
        self, request: product_service_pb2.ReserveStockRequest, context: Context
    ) -> product_pb2.Reservation:
        reservation = await self._stock.reserve(request.reservation_id, line_requests(request))
        return reservation_to_proto(reservation, self._currency)

    async def GetReservation(
        self, request: product_service_pb2.GetReservationRequest, context: Context
    ) -> product_pb2.Reservation:
        return reservation_to_proto(await self._stock.get(request.name), self._currency)

    async def CommitReservation(
        self, request: product_service_pb2.CommitReservationRequest, context: Context
    ) -> product_pb2.Reservation:
        return reservation_to_proto(await self._stock.commit(request.name), self._currency)

    async def ReleaseReservation(
        self, request: product_service_pb2.ReleaseReservationRequest, context: Context
    ) -> product_service_pb2.ReleaseReservationResponse:
        released = await self._stock.release(request.name)
        return product_service_pb2.ReleaseReservationResponse(released=released)
