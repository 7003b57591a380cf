"""Settings of the user service (environment prefix `SHOPMESH_USER_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict
from shopmesh_kit.settings import ServiceSettings


class UserSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPMESH_USER_", frozen=True)
    service_name: ClassVar[str] = "user"

    port: int = 50052
    database_url: str = "sqlite+aiosqlite:///var/user.db"
