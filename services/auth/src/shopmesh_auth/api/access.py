"""Who may call each auth RPC: the one table the server and the mesh use."""

from shopmesh.auth.v1 import auth_service_pb2
from shopmesh_kit.auth import PUBLIC, Rule

AUTH_SERVICE = auth_service_pb2.DESCRIPTOR.services_by_name["AuthService"]
AUTH_INTERNAL_SERVICE = auth_service_pb2.DESCRIPTOR.services_by_name["AuthInternalService"]

RULES: dict[str, Rule] = {
    "RegisterAccount": PUBLIC,
    "Login": PUBLIC,
    "RefreshToken": PUBLIC,
    "RevokeToken": PUBLIC,
    "GetJwks": PUBLIC,
}

# The per-service secret is the credential; the mesh restricts callers to
# workload principals on top.
INTERNAL_RULES: dict[str, Rule] = {
    "IssueServiceToken": PUBLIC,
}
