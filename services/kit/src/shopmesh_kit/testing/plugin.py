"""The `shopmesh_kit` pytest plugin (pytest11 entry point): shared fixtures."""

from shopmesh_kit.testing.postgres import database_url, postgres_server

__all__ = ["database_url", "postgres_server"]
