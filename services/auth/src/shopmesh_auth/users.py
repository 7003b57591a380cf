"""The user service as seen by auth: profile creation over gRPC."""

from __future__ import annotations

import grpc
from shopmesh.user.v1 import user_pb2, user_service_pb2, user_service_pb2_grpc
from shopmesh_kit.errors import Unavailable


class GrpcUserDirectory:
    """Calls UserInternalService.CreateUser (idempotent, so retried)."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = user_service_pb2_grpc.UserInternalServiceStub(channel)

    async def create_profile(self, user_id: str, email: str, display_name: str) -> None:
        request = user_service_pb2.CreateUserRequest(
            user_id=user_id, email=email, user=user_pb2.User(display_name=display_name)
        )
        try:
            await self._stub.CreateUser(request)
        except grpc.aio.AioRpcError as exc:
            raise Unavailable(
                "the user service could not create the profile; retry the registration",
                reason="PROFILE_SERVICE_UNAVAILABLE",
            ) from exc


IDEMPOTENT = [("shopmesh.user.v1.UserInternalService", "CreateUser")]
