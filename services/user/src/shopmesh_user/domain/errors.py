"""Errors of the user domain, each with the reason clients see in ErrorInfo."""

from shopmesh_kit.errors import Aborted, NotFound


class UserNotFound(NotFound):
    default_reason = "USER_NOT_FOUND"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} does not exist", metadata={"name": name})


class EtagMismatch(Aborted):
    """The profile changed since the client read it: read it again and retry."""

    default_reason = "ETAG_MISMATCH"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"{name} was changed by someone else; read it again and retry", metadata={"name": name}
        )
