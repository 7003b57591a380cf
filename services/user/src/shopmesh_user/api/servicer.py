"""gRPC servicers: parse, delegate to UserService, map. No rules here."""

from __future__ import annotations

from dataclasses import asdict, fields

from google.protobuf.timestamp_pb2 import Timestamp
from google.type import postal_address_pb2
from shopmesh.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from shopmesh_kit.auth import current_principal
from shopmesh_kit.errors import Unauthenticated
from shopmesh_kit.rpc import Context

from shopmesh_user.domain.profiles import Address, Profile, User, make_address
from shopmesh_user.service import UserService


def address_from_proto(address: postal_address_pb2.PostalAddress) -> Address:
    return make_address({f.name: getattr(address, f.name) for f in fields(Address)})


def address_to_proto(address: Address) -> postal_address_pb2.PostalAddress:
    return postal_address_pb2.PostalAddress(**asdict(address))


def profile_from_proto(user: user_pb2.User) -> Profile:
    return Profile(
        display_name=user.display_name,
        shipping_addresses=tuple(address_from_proto(a) for a in user.shipping_addresses),
    )


def user_to_proto(user: User) -> user_pb2.User:
    created, updated = Timestamp(), Timestamp()
    created.FromDatetime(user.create_time)
    updated.FromDatetime(user.update_time)
    return user_pb2.User(
        name=user.name,
        email=user.email,
        display_name=user.profile.display_name,
        shipping_addresses=[address_to_proto(a) for a in user.profile.shipping_addresses],
        create_time=created,
        update_time=updated,
        etag=user.etag,
    )


def caller_id() -> str:
    """The calling account; the access rules let no anonymous caller through."""
    principal = current_principal()
    if principal is None:
        raise Unauthenticated("this method needs a bearer token")
    return principal.subject


class UserServicer(user_service_pb2_grpc.UserServiceServicer):
    def __init__(self, service: UserService) -> None:
        self._service = service

    async def GetUser(
        self, request: user_service_pb2.GetUserRequest, context: Context
    ) -> user_pb2.User:
        user = await self._service.get_user(request.name, caller=caller_id())
        return user_to_proto(user)

    async def ListUsers(
        self, request: user_service_pb2.ListUsersRequest, context: Context
    ) -> user_service_pb2.ListUsersResponse:
        users, next_page_token = await self._service.list_users(
            request.page_size, request.page_token, request.filter
        )
        return user_service_pb2.ListUsersResponse(
            users=[user_to_proto(u) for u in users], next_page_token=next_page_token
        )

    async def UpdateUser(
        self, request: user_service_pb2.UpdateUserRequest, context: Context
    ) -> user_pb2.User:
        user = await self._service.update_user(
            request.user.name,
            profile_from_proto(request.user),
            list(request.update_mask.paths),
            request.user.etag,
            caller=caller_id(),
        )
        return user_to_proto(user)


class UserInternalServicer(user_service_pb2_grpc.UserInternalServiceServicer):
    def __init__(self, service: UserService) -> None:
        self._service = service

    async def CreateUser(
        self, request: user_service_pb2.CreateUserRequest, context: Context
    ) -> user_pb2.User:
        user = await self._service.create_user(
            request.user_id, request.email, profile_from_proto(request.user)
        )
        return user_to_proto(user)
