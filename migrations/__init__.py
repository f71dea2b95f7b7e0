"""Alembic environment and versions of the videobot schema."""
