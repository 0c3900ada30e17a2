"""Liveness (`/health`) and readiness (`/ready`: the database and Kafka answer)."""

from __future__ import annotations

import asyncio
import contextlib

import sqlalchemy as sa
from aiokafka.client import AIOKafkaClient
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from metrology.servicekit.problems import problem
from metrology.servicekit.runtime import ServiceRuntime

router = APIRouter(tags=["operations"])


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: the database and Kafka are reachable", response_model=None)
async def ready(request: Request) -> dict[str, object] | JSONResponse:
    runtime: ServiceRuntime = request.app.state.runtime
    checks = {"database": await _database_ok(runtime), "kafka": await _kafka_ok(runtime)}
    if all(checks.values()):
        return {"status": "ready", "checks": checks}
    failing = ", ".join(name for name, ok in checks.items() if not ok)
    return problem(503, "Not ready", f"not reachable: {failing}", checks=checks)


async def _database_ok(runtime: ServiceRuntime) -> bool:
    try:
        async with asyncio.timeout(3), runtime.engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False


async def _kafka_ok(runtime: ServiceRuntime) -> bool:
    client = AIOKafkaClient(**runtime.settings.kafka().aiokafka_options(), request_timeout_ms=3000)
    try:
        async with asyncio.timeout(4):
            await client.bootstrap()
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await client.close()
