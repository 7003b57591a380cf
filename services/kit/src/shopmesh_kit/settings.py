"""Base settings shared by every service.

Each service subclasses `ServiceSettings`, sets its own `env_prefix` and
defaults, and builds it once in `__main__`:

    class AuthSettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="SHOPMESH_AUTH_")
        service_name: ClassVar[str] = "auth"
        port: int = 50051
        database_url: str = "sqlite+aiosqlite:///var/auth.db"

    settings = AuthSettings.load(secrets_dir=os.environ.get("SHOPMESH_SECRETS_DIR"))
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Fields every service has; subclasses add their own and set defaults."""

    model_config = SettingsConfigDict(frozen=True)

    service_name: ClassVar[str] = "shopmesh"

    host: str = "127.0.0.1"
    port: int
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None  # None: no metrics HTTP server
    database_url: str  # SQLAlchemy async URL (sqlite+aiosqlite or postgresql+psycopg)
    migrate_on_start: bool = True
    log_level: str = "INFO"
    log_json: bool = True
    grace_period_seconds: float = 10.0
    otel_exporter_otlp_endpoint: str | None = None
    jwt_issuer: str = "shopmesh-auth"
    jwt_audience: str = "shopmesh"
    # Where the auth service answers: JWKS for verifying callers, service tokens.
    auth_service_target: str = "127.0.0.1:50051"

    @classmethod
    def load(cls, *, secrets_dir: str | Path | None = None) -> Self:
        """Read the environment and, when given, secret files in `secrets_dir`.

        A secret file is named like the variable (`SHOPMESH_AUTH_SIGNING_KEY`) and holds
        the value; environment variables win. A missing directory is an error
        (pydantic-settings would only warn).
        """
        if secrets_dir is None:
            return cls()
        path = Path(secrets_dir)
        if not path.is_dir():
            raise FileNotFoundError(f"secrets directory {path} does not exist")
        return cls(_secrets_dir=path)
