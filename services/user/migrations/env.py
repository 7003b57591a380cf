"""Alembic environment of the user database."""

from shopmesh_kit.migrations import run_migrations_online
from shopmesh_user.db.models import Base

run_migrations_online(Base.metadata)
