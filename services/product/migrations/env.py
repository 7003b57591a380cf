"""Alembic environment of the product database."""

from shopmesh_kit.migrations import run_migrations_online
from shopmesh_product.db.models import Base

run_migrations_online(Base.metadata)
