"""The proto <-> domain mapping of the servicer."""

from dataclasses import fields

from google.type import postal_address_pb2
from shopmesh_user.api.servicer import address_from_proto, address_to_proto
from shopmesh_user.domain.profiles import Address


def test_address_has_every_field_of_postal_address() -> None:
    proto_fields = {f.name for f in postal_address_pb2.PostalAddress.DESCRIPTOR.fields}
    assert {f.name for f in fields(Address)} == proto_fields


def test_address_round_trips() -> None:
    proto = postal_address_pb2.PostalAddress(
        revision=0,
        region_code="GB",
        language_code="en",
        postal_code="SW1A 1AA",
        sorting_code="1",
        administrative_area="London",
        locality="London",
        sublocality="Westminster",
        address_lines=["a", "b"],
        recipients=["c"],
        organization="d",
    )
    address = address_from_proto(proto)
    assert address.address_lines == ("a", "b")
    assert address_to_proto(address) == proto
