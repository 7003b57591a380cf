"""The kit API test harness: a tiny shop (user, order and product services with
fake servicers) served by the real `GrpcServer` on 127.0.0.1 port 0 with a
`TokenVerifier` over `TestKeys`, and called over a real channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from shopmesh.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from shopmesh.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from shopmesh.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from shopmesh_kit.auth import (
    ADMIN,
    PUBLIC,
    AccessRules,
    Principal,
    TokenVerifier,
    current_principal,
    owner,
    roles,
    services,
)
from shopmesh_kit.rpc import Context
from shopmesh_kit.server import Binding, GrpcServer
from shopmesh_kit.testing.tokens import TestKeys, bearer

ERROR_DOMAIN = "test.shopmesh.dev"
USER_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"]
USER_INTERNAL_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserInternalService"]
ORDER_SERVICE = order_service_pb2.DESCRIPTOR.services_by_name["OrderService"]
PRODUCT_SERVICE = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]
SERVICE_NAMES = [
    s.full_name for s in (USER_SERVICE, USER_INTERNAL_SERVICE, ORDER_SERVICE, PRODUCT_SERVICE)
]

# The harness's own access table (not the real services' tables): one method
# of each kind of rule the kit offers.
USER_RULES = {
    "GetUser": owner("name", or_roles=[ADMIN]),
    "ListUsers": roles(ADMIN),
    "UpdateUser": owner("user.name", or_roles=[ADMIN]),
}
USER_INTERNAL_RULES = {"CreateUser": services("auth")}
ORDER_RULES = {
    "GetOrder": owner("name", or_roles=[ADMIN]),
    "ListOrders": owner("parent", or_roles=[ADMIN]),
    "CreateOrder": owner("parent", or_roles=[ADMIN]),
    "CancelOrder": owner("name", or_roles=[ADMIN]),
}
PRODUCT_RULES = {
    "GetProduct": PUBLIC,
    "ListProducts": PUBLIC,
    "CreateProduct": roles(ADMIN),
    "UpdateProduct": roles(ADMIN),
    "DeleteProduct": roles(ADMIN),
    "RestockProduct": roles(ADMIN),
}
RULES = AccessRules.for_services(
    [
        (USER_SERVICE, USER_RULES),
        (USER_INTERNAL_SERVICE, USER_INTERNAL_RULES),
        (ORDER_SERVICE, ORDER_RULES),
        (PRODUCT_SERVICE, PRODUCT_RULES),
    ]
)

Metadata = tuple[tuple[str, str], ...]
Script = Callable[[], Awaitable[None]]
R = TypeVar("R", bound=Message)


@dataclass(frozen=True)
class Call:
    """One call that reached a servicer."""

    method: str
    request: Message
    caller: Principal | None


@dataclass
class Backend:
    """What the fake servicers share: every call that reached them, with the
    caller they saw, and a `script` each call runs first, so a test can make
    the servicer raise, wait or call a dependency."""

    calls: list[Call] = field(default_factory=list)
    script: Script | None = None

    async def answer(self, method: str, request: Message, response: R) -> R:
        self.calls.append(Call(method, request, current_principal()))
        if self.script is not None:
            await self.script()
        return response

    @property
    def methods(self) -> list[str]:
        return [call.method for call in self.calls]


class FakeUsers(user_service_pb2_grpc.UserServiceServicer):
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def GetUser(
        self, request: user_service_pb2.GetUserRequest, context: Context
    ) -> user_pb2.User:
        return await self._backend.answer("GetUser", request, user_pb2.User(name=request.name))

    async def ListUsers(
        self, request: user_service_pb2.ListUsersRequest, context: Context
    ) -> user_service_pb2.ListUsersResponse:
        return await self._backend.answer(
            "ListUsers", request, user_service_pb2.ListUsersResponse()
        )

    async def UpdateUser(
        self, request: user_service_pb2.UpdateUserRequest, context: Context
    ) -> user_pb2.User:
        return await self._backend.answer("UpdateUser", request, request.user)


class FakeUsersInternal(user_service_pb2_grpc.UserInternalServiceServicer):
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def CreateUser(
        self, request: user_service_pb2.CreateUserRequest, context: Context
    ) -> user_pb2.User:
        user = user_pb2.User(name=f"users/{request.user_id}", email=request.email)
        return await self._backend.answer("CreateUser", request, user)


class FakeOrders(order_service_pb2_grpc.OrderServiceServicer):
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def GetOrder(
        self, request: order_service_pb2.GetOrderRequest, context: Context
    ) -> order_pb2.Order:
        return await self._backend.answer("GetOrder", request, order_pb2.Order(name=request.name))

    async def CreateOrder(
        self, request: order_service_pb2.CreateOrderRequest, context: Context
    ) -> order_pb2.Order:
        order = order_pb2.Order(name=f"{request.parent}/orders/1", lines=request.order.lines)
        return await self._backend.answer("CreateOrder", request, order)


class FakeProducts(product_service_pb2_grpc.ProductServiceServicer):
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def GetProduct(
        self, request: product_service_pb2.GetProductRequest, context: Context
    ) -> product_pb2.Product:
        product = product_pb2.Product(name=request.name)
        return await self._backend.answer("GetProduct", request, product)


def build_server(
    backend: Backend, keys: TestKeys, *, rules: AccessRules = RULES, **options: Any
) -> GrpcServer:
    """The shop's server on 127.0.0.1 port 0; `options` go to `GrpcServer`."""
    return GrpcServer(
        bindings=[
            Binding(
                USER_SERVICE,
                user_service_pb2_grpc.add_UserServiceServicer_to_server,
                FakeUsers(backend),
            ),
            Binding(
                USER_INTERNAL_SERVICE,
                user_service_pb2_grpc.add_UserInternalServiceServicer_to_server,
                FakeUsersInternal(backend),
            ),
            Binding(
                ORDER_SERVICE,
                order_service_pb2_grpc.add_OrderServiceServicer_to_server,
                FakeOrders(backend),
            ),
            Binding(
                PRODUCT_SERVICE,
                product_service_pb2_grpc.add_ProductServiceServicer_to_server,
                FakeProducts(backend),
            ),
        ],
        rules=rules,
        verifier=TokenVerifier(keys, issuer=keys.issuer, audience=keys.audience),
        error_domain=ERROR_DOMAIN,
        **options,
    )


@dataclass
class Shop:
    """A started shop server, stubs over one real channel, and tokens."""

    server: GrpcServer
    channel: grpc.aio.Channel
    backend: Backend
    keys: TestKeys
    users: user_service_pb2_grpc.UserServiceStub = field(init=False)
    users_internal: user_service_pb2_grpc.UserInternalServiceStub = field(init=False)
    orders: order_service_pb2_grpc.OrderServiceStub = field(init=False)
    products: product_service_pb2_grpc.ProductServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.users = user_service_pb2_grpc.UserServiceStub(self.channel)
        self.users_internal = user_service_pb2_grpc.UserInternalServiceStub(self.channel)
        self.orders = order_service_pb2_grpc.OrderServiceStub(self.channel)
        self.products = product_service_pb2_grpc.ProductServiceStub(self.channel)

    def customer(self, user_id: str) -> Metadata:
        return bearer(self.keys.token(user_id))

    def admin(self) -> Metadata:
        return bearer(self.keys.token("admin-1", [ADMIN]))

    def service(self, name: str) -> Metadata:
        return bearer(self.keys.service_token(name))
