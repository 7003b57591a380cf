"""Product rules: resource names, ids, field limits and etags."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, fields
from datetime import datetime

from shopmesh_kit.errors import InvalidArgument

DISPLAY_NAME_MAX = 200
DESCRIPTION_MAX = 5000
QUANTITY_MAX = 1_000_000
_PRODUCT_ID = re.compile(r"^[a-z0-9-]{4,63}$")
_CATEGORY = re.compile(r"^[a-z0-9-]{1,63}$")
_ETAG = re.compile(r'^W/"(\d{1,18})"$')
PREFIX = "products/"


@dataclass(frozen=True)
class Product:
    id: str
    display_name: str
    description: str
    category: str
    price_cents: int
    available_quantity: int
    revision: int
    create_time: datetime
    update_time: datetime

    @property
    def name(self) -> str:
        return PREFIX + self.id

    @property
    def etag(self) -> str:
        return etag_of(self.revision)


@dataclass(frozen=True)
class ProductFields:
    """Admin-editable fields; None leaves a field as it is (updates)."""

    display_name: str | None = None
    description: str | None = None
    category: str | None = None
    price_cents: int | None = None

    def values(self) -> dict[str, str | int]:
        """The fields that are set, by name."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}


def product_name(product_id: str) -> str:
    return PREFIX + product_id


def parse_product_name(name: str, field: str) -> str:
    """The id in `products/{id}`, or INVALID_ARGUMENT on `field`."""
    product_id = name.removeprefix(PREFIX)
    if not name.startswith(PREFIX) or not _PRODUCT_ID.match(product_id):
        raise InvalidArgument.field(field, "must be products/{product}")
    return product_id


def is_product_name(name: str) -> bool:
    return name.startswith(PREFIX) and bool(_PRODUCT_ID.match(name.removeprefix(PREFIX)))


def new_product_id(requested: str) -> str:
    """The requested id when valid, a generated one when empty."""
    if not requested:
        return uuid.uuid4().hex
    if not _PRODUCT_ID.match(requested):
        raise InvalidArgument.field(
            "product_id", "must be 4 to 63 lower-case letters, digits and dashes"
        )
    return requested


def field_violations(values: ProductFields, prefix: str = "product.") -> list[tuple[str, str]]:
    """Violations of the fields that are set, with paths under `prefix`."""
    violations = []
    if values.display_name is not None and not (
        values.display_name.strip()
        and len(values.display_name) <= DISPLAY_NAME_MAX
        and values.display_name.isprintable()
    ):
        violations.append(
            (f"{prefix}display_name", f"must be 1 to {DISPLAY_NAME_MAX} printable characters")
        )
    if values.description is not None and len(values.description) > DESCRIPTION_MAX:
        violations.append((f"{prefix}description", f"must be at most {DESCRIPTION_MAX} characters"))
    if values.category is not None and not _CATEGORY.match(values.category):
        violations.append(
            (f"{prefix}category", "must be 1 to 63 lower-case letters, digits and dashes")
        )
    if values.price_cents is not None and values.price_cents <= 0:
        violations.append((f"{prefix}price", "must be positive"))
    return violations


def validate_fields(values: ProductFields) -> None:
    violations = field_violations(values)
    if violations:
        raise InvalidArgument("invalid product", violations=violations)


def validate_quantity(quantity: int, field: str, minimum: int) -> None:
    if not minimum <= quantity <= QUANTITY_MAX:
        raise InvalidArgument.field(field, f"must be {minimum} to {QUANTITY_MAX}")


def etag_of(revision: int) -> str:
    return f'W/"{revision}"'


def revision_of(etag: str) -> int:
    """The revision an etag names; -1 (matching nothing) when it is not ours."""
    match = _ETAG.match(etag)
    return int(match.group(1)) if match else -1
