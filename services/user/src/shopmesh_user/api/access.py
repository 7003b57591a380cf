"""Who may call each user RPC: the one table the server and the mesh use."""

from shopmesh.user.v1 import user_service_pb2
from shopmesh_kit.auth import ADMIN, Rule, owner, roles, services

USER_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"]
USER_INTERNAL_SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserInternalService"]

RULES: dict[str, Rule] = {
    "GetUser": owner("name", or_roles=[ADMIN]),
    "ListUsers": roles(ADMIN),
    "UpdateUser": owner("user.name", or_roles=[ADMIN]),
}

INTERNAL_RULES: dict[str, Rule] = {
    "CreateUser": services("auth"),
}
