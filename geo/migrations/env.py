"""Alembic environment: run against the connection ``geo.migrate`` hands over.

Why no URL here: the store's URL comes from ``DATABASE_URL`` or the embedded cluster, and both are
resolved by ``geo.db``; alembic only gets a live connection.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
