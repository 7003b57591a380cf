from shopmesh.user.v1 import user_service_pb2
from shopmesh_kit.auth import ADMIN, AccessRules, Principal, services
from shopmesh_user.api.access import INTERNAL_RULES, RULES, USER_INTERNAL_SERVICE, USER_SERVICE

SERVICES = user_service_pb2.DESCRIPTOR.services_by_name


def test_every_rpc_has_exactly_one_rule_and_nothing_else_is_listed() -> None:
    tables = {USER_SERVICE.full_name: RULES, USER_INTERNAL_SERVICE.full_name: INTERNAL_RULES}
    assert set(tables) == {s.full_name for s in SERVICES.values()}
    for service in SERVICES.values():
        assert set(tables[service.full_name]) == {m.name for m in service.methods}
    AccessRules.for_services([(USER_SERVICE, RULES), (USER_INTERNAL_SERVICE, INTERNAL_RULES)])


def test_no_user_method_is_public_and_only_auth_creates_profiles() -> None:
    assert not any(rule.public for rule in (*RULES.values(), *INTERNAL_RULES.values()))
    assert INTERNAL_RULES["CreateUser"] == services("auth")
    assert all(rule.services == frozenset() for rule in RULES.values())
    assert RULES["ListUsers"].owner_field is None
    assert RULES["ListUsers"].roles == frozenset({ADMIN})


def test_owner_rules_read_the_resource_name() -> None:
    ada = Principal("ada", frozenset({"customer"}))
    get = user_service_pb2.GetUserRequest
    assert RULES["GetUser"].allows(ada, get(name="users/ada"))
    assert RULES["GetUser"].allows(ada, get(name="users/me"))
    assert not RULES["GetUser"].allows(ada, get(name="users/bob"))
    update = user_service_pb2.UpdateUserRequest
    assert RULES["UpdateUser"].allows(ada, update(user={"name": "users/me"}))
    assert not RULES["UpdateUser"].allows(ada, update(user={"name": "users/bob"}))
