"""Alembic environment of the auth database."""

from shopmesh_auth.db.models import Base
from shopmesh_kit.migrations import run_migrations_online

run_migrations_online(Base.metadata)
