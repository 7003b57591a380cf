"""Settings of the auth service (environment prefix `SHOPMESH_AUTH_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict
from shopmesh_kit.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="SHOPMESH_AUTH_", frozen=True, populate_by_name=True
    )
    service_name: ClassVar[str] = "auth"

    port: int = 50051
    database_url: str = "sqlite+aiosqlite:///var/auth.db"
    user_service_target: str = "127.0.0.1:50052"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=300)
    service_token_ttl_seconds: int = Field(default=600, ge=60, le=86_400)
    key_rotation_interval_seconds: int = Field(default=7 * 86_400, ge=3_600)
    signing_key_passphrase: SecretStr | None = None
    # Shared secrets of the workloads that may obtain a service token, e.g.
    # SHOPMESH_AUTH_SERVICE_SECRETS='{"order": "..."}'.
    service_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    trust_forwarded_for: bool = False
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_client: int = Field(default=20, ge=1)
    login_failure_window_seconds: float = Field(default=900.0, gt=0)
    pending_retry_interval_seconds: float = Field(default=10.0, gt=0)
    admin_email: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SHOPMESH_ADMIN_EMAIL", "SHOPMESH_AUTH_ADMIN_EMAIL"),
    )
    admin_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SHOPMESH_ADMIN_PASSWORD", "SHOPMESH_AUTH_ADMIN_PASSWORD"),
    )
