"""Pytest fixtures and helpers for Shopmesh tests (loaded by the `shopmesh_kit` plugin)."""
