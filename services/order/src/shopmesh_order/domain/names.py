"""Resource names of orders: `users/{user}/orders/{order}`."""

from __future__ import annotations

from shopmesh_kit.auth import Principal
from shopmesh_kit.errors import InvalidArgument

ALL_USERS = "-"


def parse_parent(parent: str, caller: Principal | None, field: str = "parent") -> str:
    """The user id of `users/{user}`; `me` is the caller, `-` is every user."""
    parts = parent.split("/")
    if len(parts) != 2 or parts[0] != "users" or not parts[1]:
        raise InvalidArgument.field(field, "must be users/{user}, users/me or users/-")
    if parts[1] == "me":
        if caller is None:
            raise InvalidArgument.field(field, "users/me needs a caller")
        return caller.subject
    return parts[1]


def parse_name(name: str, caller: Principal | None, field: str = "name") -> tuple[str, str]:
    """(user id, order id) of `users/{user}/orders/{order}`."""
    parts = name.split("/")
    if len(parts) != 4 or parts[2] != "orders" or not parts[3]:
        raise InvalidArgument.field(field, "must be users/{user}/orders/{order}")
    user_id = parse_parent("/".join(parts[:2]), caller, field)
    if user_id == ALL_USERS:
        raise InvalidArgument.field(field, "must name one user")
    return user_id, parts[3]


def order_name(user_id: str, order_id: str) -> str:
    return f"users/{user_id}/orders/{order_id}"
