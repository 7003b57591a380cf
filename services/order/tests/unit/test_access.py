from shopmesh.order.v1 import order_service_pb2
from shopmesh_kit.auth import full_method_names
from shopmesh_order.api.access import ORDER_SERVICE, RULES


def test_every_rpc_has_exactly_one_rule() -> None:
    declared = {f"/{ORDER_SERVICE.full_name}/{name}" for name in RULES}
    services = order_service_pb2.DESCRIPTOR.services_by_name.values()
    assert declared == set(full_method_names(services))
