"""Alembic environment: runs on the connection modelyard hands it (see _engine.migrate)."""

from alembic import context

from modelyard.store.sql._schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
