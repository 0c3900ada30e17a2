"""An engine set to plan each execution keeps that setting on every connection its pool opens; others keep the
server's default."""

import sqlalchemy as sa

from metrology.eventkit.database import create_engine, plan_each_execution


async def plan_cache_modes(engine, connections: int) -> list[str]:
    opened = [await engine.connect() for _ in range(connections)]
    try:
        return [(await c.execute(sa.text("SHOW plan_cache_mode"))).scalar_one() for c in opened]
    finally:
        for connection in opened:
            await connection.close()


async def test_every_connection_of_an_engine_that_plans_each_execution_plans_for_the_values(postgres_url):
    engine = create_engine(postgres_url, pool_size=1, max_overflow=2)
    plan_each_execution(engine)
    try:
        assert await plan_cache_modes(engine, 3) == ["force_custom_plan"] * 3
        await engine.dispose()  # connections opened again keep it
        assert await plan_cache_modes(engine, 2) == ["force_custom_plan"] * 2
    finally:
        await engine.dispose()


async def test_an_engine_left_alone_keeps_the_server_default(postgres_url):
    engine = create_engine(postgres_url)
    try:
        assert await plan_cache_modes(engine, 1) == ["auto"]
    finally:
        await engine.dispose()


async def test_planning_each_execution_is_a_no_op_on_sqlite(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/plans.db")
    plan_each_execution(engine)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(sa.text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()
