"""A connection set to run its statements alone reads outside any transaction on PostgreSQL, and gives its pooled
connection back as it found it: the next user of that connection is in a transaction again. SQLite's connections
are left as they are."""

import sqlalchemy as sa

from metrology.eventkit.database import create_engine, statements_alone

TRANSACTION_ID = sa.text("SELECT txid_current()")


async def reads_within_one_transaction(connection) -> bool:
    """Whether two statements run in the same transaction (they see the same transaction id)."""
    return bool(
        (await connection.execute(TRANSACTION_ID)).scalar_one()
        == (await connection.execute(TRANSACTION_ID)).scalar_one()
    )


async def test_statements_alone_run_outside_a_transaction_and_the_pool_gets_its_connection_back_as_it_was(
    postgres_url,
):
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            assert await reads_within_one_transaction(connection)
        async with engine.connect() as connection:
            assert not await reads_within_one_transaction(await statements_alone(connection))
            assert (await connection.execute(sa.text("SHOW transaction_isolation"))).scalar_one() == "read committed"
        async with engine.connect() as connection:  # the same pooled connection, in a transaction again
            assert await reads_within_one_transaction(connection)
            await connection.execute(sa.text("CREATE TEMPORARY TABLE kept (n int)"))
            await connection.rollback()
            assert await connection.run_sync(lambda c: sa.inspect(c).has_table("kept")) is False
    finally:
        await engine.dispose()


async def test_statements_alone_leave_a_sqlite_connection_as_it_is(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/alone.db")
    try:
        async with engine.connect() as connection:
            alone = await statements_alone(connection)
            assert alone is connection
            assert "isolation_level" not in connection.sync_connection.get_execution_options()
            await connection.execute(sa.text("CREATE TABLE t (n int)"))
            await connection.rollback()  # a transaction was open: the table is gone
            assert await connection.run_sync(lambda c: sa.inspect(c).has_table("t")) is False
    finally:
        await engine.dispose()
