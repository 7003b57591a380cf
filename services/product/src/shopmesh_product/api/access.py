"""Who may call each product RPC: the one table the server and the mesh use."""

from shopmesh.product.v1 import product_service_pb2
from shopmesh_kit.auth import ADMIN, PUBLIC, Rule, roles, services

PRODUCT_SERVICE = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]
PRODUCT_INTERNAL_SERVICE = product_service_pb2.DESCRIPTOR.services_by_name["ProductInternalService"]

RULES: dict[str, Rule] = {
    "GetProduct": PUBLIC,
    "ListProducts": PUBLIC,
    "CreateProduct": roles(ADMIN),
    "UpdateProduct": roles(ADMIN),
    "DeleteProduct": roles(ADMIN),
    "RestockProduct": roles(ADMIN),
}

# Stock reservation: the order service's workload token only.
INTERNAL_RULES: dict[str, Rule] = {
    "ReserveStock": services("order"),
    "GetReservation": services("order"),
    "CommitReservation": services("order"),
    "ReleaseReservation": services("order"),
}
