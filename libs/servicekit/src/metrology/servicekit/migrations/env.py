"""Alembic's environment for every service: the connection and the models come from the caller.

`metrology.servicekit.schema_migrations` builds the configuration in code and passes an open connection (in a
transaction that holds the schema lock) as `config.attributes["connection"]`; there is no offline mode.
"""

from alembic import context

config = context.config
connection = config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through metrology.servicekit.schema_migrations, with a connection")

context.configure(
    connection=connection,
    target_metadata=config.attributes["metadata"],
    include_object=config.attributes.get("include_object"),
    compare_type=True,
    render_as_batch=True,  # ALTERs that SQLite lacks are done by copying the table
)
with context.begin_transaction():
    context.run_migrations()
