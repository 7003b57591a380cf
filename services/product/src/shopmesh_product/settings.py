"""Settings of the product service (environment prefix `SHOPMESH_PRODUCT_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from shopmesh_kit.settings import ServiceSettings


class ProductSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPMESH_PRODUCT_", frozen=True)
    service_name: ClassVar[str] = "product"

    port: int = 50053
    database_url: str = "sqlite+aiosqlite:///var/product.db"
    # ISO 4217 code of every price in the catalog (two decimals).
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    # Fill an empty catalog with demo products at start (development, demos).
    seed_demo_catalog: bool = False
    # GetProduct answers from a per-process cache for this long; every write
    # of this process evicts what it touched. Other replicas' writes show
    # after at most this delay. 0 turns the cache off.
    product_cache_seconds: float = Field(default=1.0, ge=0)
