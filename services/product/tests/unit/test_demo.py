from shopmesh_product.demo import DEMO_CATALOG
from shopmesh_product.domain.products import ProductFields, field_violations, parse_product_name


def test_the_demo_catalog_is_valid() -> None:
    assert len(DEMO_CATALOG) >= 20
    assert len({p.category for p in DEMO_CATALOG}) >= 5
    assert len({p.id for p in DEMO_CATALOG}) == len(DEMO_CATALOG)
    for item in DEMO_CATALOG:
        fields = ProductFields(item.display_name, item.description, item.category, item.price_cents)
        assert field_violations(fields) == [], item.id
        assert parse_product_name(f"products/{item.id}", "name") == item.id
        assert 20 <= item.quantity <= 200
