from shopmesh.auth.v1 import auth_service_pb2
from shopmesh_auth.api.access import AUTH_INTERNAL_SERVICE, AUTH_SERVICE, INTERNAL_RULES, RULES
from shopmesh_kit.auth import full_method_names


def test_every_rpc_has_exactly_one_rule() -> None:
    declared = {f"/{AUTH_SERVICE.full_name}/{name}" for name in RULES} | {
        f"/{AUTH_INTERNAL_SERVICE.full_name}/{name}" for name in INTERNAL_RULES
    }
    services = auth_service_pb2.DESCRIPTOR.services_by_name.values()
    assert declared == set(full_method_names(services))


def test_every_public_rpc_is_open_to_anyone() -> None:
    """Auth is how a caller gets an identity: nothing of it may need one."""
    assert all(rule.public for rule in RULES.values())
