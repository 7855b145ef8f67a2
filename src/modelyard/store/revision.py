"""The schema revision this modelyard writes, importable without SQLAlchemy."""

HEAD_REVISION = "0006"
"""The newest migration; a test checks it matches Alembic's head."""
