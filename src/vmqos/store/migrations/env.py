"""Alembic environment: runs on the connection :meth:`vmqos.store.db.Database.migrate` passes.

There is no ``alembic.ini``: the API migrates on start, and ``Database.migrate`` builds the
configuration in code. Offline (SQL script) mode is not supported.
"""

from __future__ import annotations

from alembic import context

from vmqos.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
