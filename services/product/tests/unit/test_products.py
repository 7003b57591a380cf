import pytest
from shopmesh_kit.errors import InvalidArgument
from shopmesh_product.domain.products import (
    ProductFields,
    etag_of,
    field_violations,
    new_product_id,
    parse_product_name,
    revision_of,
)


def test_etags_round_trip_and_foreign_ones_match_nothing() -> None:
    assert etag_of(7) == 'W/"7"'
    assert revision_of(etag_of(7)) == 7
    for etag in ("7", '"7"', 'W/"seven"', 'W/"7', ""):
        assert revision_of(etag) == -1


def test_generated_ids_are_valid_names() -> None:
    product_id = new_product_id("")
    assert parse_product_name(f"products/{product_id}", "name") == product_id
    assert new_product_id("") != product_id


@pytest.mark.parametrize("name", ["espresso-cup", "products/", "products/ab", "products/A-cup"])
def test_malformed_product_names_are_invalid(name: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_product_name(name, "product.name")
    assert caught.value.violations[0][0] == "product.name"


def test_only_set_fields_are_validated() -> None:
    assert field_violations(ProductFields()) == []
    assert [f for f, _ in field_violations(ProductFields(price_cents=0))] == ["product.price"]
