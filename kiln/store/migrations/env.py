"""Alembic's environment for kiln: migrate on the connection kiln hands over
(config.attributes["connection"]), inside the transaction kiln already began."""
from alembic import context

from kiln.store.schema import metadata
from kiln.store.schema_version import VERSION_TABLE

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite cannot ALTER most things: Alembic copies the table instead
)
with context.begin_transaction():
    context.run_migrations()
