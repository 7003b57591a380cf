"""Who may call each order RPC: the one table the server and the mesh use."""

from shopmesh.order.v1 import order_service_pb2
from shopmesh_kit.auth import ADMIN, Rule, owner

ORDER_SERVICE = order_service_pb2.DESCRIPTOR.services_by_name["OrderService"]

RULES: dict[str, Rule] = {
    "GetOrder": owner("name", or_roles=[ADMIN]),
    # `users/-` is nobody's: only admins list across users.
    "ListOrders": owner("parent", or_roles=[ADMIN]),
    # Orders are placed by their owner only, never on someone's behalf.
    "CreateOrder": owner("parent"),
    "CancelOrder": owner("name", or_roles=[ADMIN]),
}
