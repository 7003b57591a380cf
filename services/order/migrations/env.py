"""Alembic environment of the order database."""

from shopmesh_kit.migrations import run_migrations_online
from shopmesh_order.db.models import Base

run_migrations_online(Base.metadata)
