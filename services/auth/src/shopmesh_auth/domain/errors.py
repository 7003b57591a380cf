"""Errors of the auth domain, each with the reason clients see in ErrorInfo."""

from shopmesh_kit.errors import AlreadyExists, ResourceExhausted, Unauthenticated


class InvalidCredentials(Unauthenticated):
    """Unknown email or wrong password: deliberately indistinguishable."""

    default_reason = "INVALID_CREDENTIALS"

    def __init__(self) -> None:
        super().__init__("email or password is incorrect")


class EmailTaken(AlreadyExists):
    default_reason = "EMAIL_TAKEN"

    def __init__(self) -> None:
        super().__init__("an account with this email already exists")


class LoginThrottled(ResourceExhausted):
    default_reason = "LOGIN_THROTTLED"

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(
            "too many failed logins; try again later", retry_after_seconds=retry_after_seconds
        )


class InvalidRefreshToken(Unauthenticated):
    default_reason = "INVALID_REFRESH_TOKEN"

    def __init__(self) -> None:
        super().__init__("refresh token is invalid, expired or revoked")


class RefreshTokenReused(Unauthenticated):
    """A spent refresh token came back: its whole family is revoked."""

    default_reason = "REFRESH_TOKEN_REUSED"

    def __init__(self) -> None:
        super().__init__("refresh token was already used; all tokens of this login are revoked")


class InvalidServiceCredentials(Unauthenticated):
    default_reason = "INVALID_SERVICE_CREDENTIALS"

    def __init__(self) -> None:
        super().__init__("unknown service or wrong secret")
