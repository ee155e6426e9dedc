"""Alembic environment: the engine comes from ``headshots.store.Database`` (never from an
ini file), so the same migrations run on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import context

from headshots.store._models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
