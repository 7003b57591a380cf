"""Alembic environment of the order database."""

from shopmesh_order.db.models import Base
from shopmesh_kit.migrations import run_migrations_online

run_migrations_online(Base.metadata)
