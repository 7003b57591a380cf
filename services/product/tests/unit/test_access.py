from shopmesh_kit.auth import PUBLIC, SERVICE
from shopmesh_product.api.access import (
    INTERNAL_RULES,
    PRODUCT_INTERNAL_SERVICE,
    PRODUCT_SERVICE,
    RULES,
)


def test_every_rpc_of_both_services_has_a_rule_and_nothing_else_does() -> None:
    assert set(RULES) == {m.name for m in PRODUCT_SERVICE.methods}
    assert set(INTERNAL_RULES) == {m.name for m in PRODUCT_INTERNAL_SERVICE.methods}


def test_reads_are_public_and_changes_are_for_admins() -> None:
    assert {name for name, rule in RULES.items() if rule == PUBLIC} == {
        "GetProduct",
        "ListProducts",
    }
    for name in ("CreateProduct", "UpdateProduct", "DeleteProduct", "RestockProduct"):
        assert RULES[name].roles == {"admin"}
        assert not RULES[name].public
        assert RULES[name].owner_field is None


def test_internal_methods_are_for_the_order_service_only() -> None:
    for rule in INTERNAL_RULES.values():
        assert not rule.public
        assert rule.roles == {SERVICE}
        assert rule.services == {"order"}
