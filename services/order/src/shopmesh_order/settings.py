"""Settings of the order service (environment prefix `SHOPMESH_ORDER_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict
from shopmesh_kit.settings import ServiceSettings


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPMESH_ORDER_", frozen=True)
    service_name: ClassVar[str] = "order"

    port: int = 50054
    database_url: str = "sqlite+aiosqlite:///var/order.db"
    product_service_target: str = "127.0.0.1:50053"
    # The secret this service trades for a service token at the auth service.
    service_secret: SecretStr = SecretStr("")
    currency: str = "USD"
    product_call_timeout_seconds: float = Field(default=2.0, gt=0)
    recovery_interval_seconds: float = Field(default=5.0, gt=0)
    # Orders pending for longer than this are assumed abandoned by a crash.
    recovery_grace_seconds: float = Field(default=30.0, ge=0)
    # Test only: kill the process at a named point of the sagas.
    fault_crash_point: str = ""
