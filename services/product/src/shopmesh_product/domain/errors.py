"""Errors of the product domain, each with the reason clients see in ErrorInfo."""

from shopmesh_kit.errors import Aborted, AlreadyExists, FailedPrecondition, NotFound


class ProductNotFound(NotFound):
    default_reason = "PRODUCT_NOT_FOUND"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} does not exist", metadata={"product": name})


class ProductExists(AlreadyExists):
    default_reason = "PRODUCT_ALREADY_EXISTS"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} already exists", metadata={"product": name})


class EtagMismatch(Aborted):
    """The product changed since the client read it: re-read and retry."""

    default_reason = "ETAG_MISMATCH"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} has changed; read it again", metadata={"product": name})


class StockReserved(FailedPrecondition):
    default_reason = "STOCK_RESERVED"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name} has stock reserved by orders; try again when they are settled",
            metadata={"product": name},
        )


class OutOfStock(FailedPrecondition):
    default_reason = "OUT_OF_STOCK"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} does not have enough stock", metadata={"product": name})


class ReservationNotFound(NotFound):
    default_reason = "RESERVATION_NOT_FOUND"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} does not exist", metadata={"reservation": name})


class ReservationReleased(FailedPrecondition):
    default_reason = "RESERVATION_RELEASED"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name} was released; its stock is no longer held", metadata={"reservation": name}
        )
