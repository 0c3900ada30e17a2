"""Running a command from HTTP: its event context, its unit of work, and `Idempotency-Key` replays."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from metrology.eventkit.envelope import EventContext
from metrology.eventkit.errors import RuleViolationError
from metrology.eventkit.store import metadata
from metrology.eventkit.tracing import current_traceparent
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.servicekit.auth import Authenticated, Principal
from metrology.servicekit.personal_data import pseudonym
from metrology.servicekit.runtime import ServiceRuntime

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

Handler = Callable[[UnitOfWork], Awaitable[Any]]


class _KeyTakenError(Exception):
    pass


class CommandRunner:
    """Given to every command endpoint: who asks, in which trace, and with which idempotency key."""

    def __init__(self, runtime: ServiceRuntime, principal: Principal, request: Request, key: str | None) -> None:
        self.runtime = runtime
        self.principal = principal
        self.request = request
        self.key = key

    @property
    def context(self) -> EventContext:
        correlation = self.request.headers.get("x-correlation-id")
        context = EventContext(tenant=self.principal.tenant, traceparent=current_traceparent(), actor=self._actor)
        if correlation:
            context = EventContext(context.tenant, correlation, None, context.traceparent, context.actor)
        return context

    async def run(self, handle: Handler, status_code: int = 201) -> JSONResponse:
        """Run `handle` in one transaction; with an Idempotency-Key, a repeat returns the first answer."""
        if self.key is None:
            async with self.runtime.unit_of_work(self.context) as uow:
                encoded = encode_answer(await handle(uow))
            return EncodedJSONResponse(encoded, status_code=status_code, headers=_recorded(uow))
        request_hash = hashlib.sha256(await self._fingerprint()).hexdigest()
        stored = await self._stored()
        if stored is not None:
            return self._replay(stored, request_hash)
        try:
            async with self.runtime.unit_of_work(self.context) as uow:
                uow.one_transaction = True  # the record of the key commits with the command's writes
                encoded = encode_answer(await handle(uow))
                await self._remember(uow, request_hash, status_code, orjson.loads(encoded))
        except _KeyTakenError:
            return self._replay(await self._stored(), request_hash)
        return EncodedJSONResponse(encoded, status_code=status_code, headers=_recorded(uow))

    async def _fingerprint(self) -> bytes:
        return self.request.method.encode() + self.request.url.path.encode() + await self.request.body()

    @property
    def _actor(self) -> str:
        """Who acts, as events and stored replays name them: a pseudonym of the token's subject, never the subject."""
        return pseudonym(self.principal.subject, self.runtime.settings.actor_pseudonym_key)

    @property
    def _scope(self) -> str:
        return f"{self.principal.tenant}:{self._actor}"

    async def _stored(self) -> sa.Row | None:
        async with self.runtime.engine.connect() as connection:
            query = sa.select(idempotency_keys).where(
                idempotency_keys.c.scope == self._scope, idempotency_keys.c.key == self.key
            )
            return (await connection.execute(query)).first()

    async def _remember(self, uow: UnitOfWork, request_hash: str, status_code: int, body: Any) -> None:
        row = {
            "scope": self._scope,
            "key": self.key,
            "request_hash": request_hash,
            "status_code": status_code,
            "response": body,
            "created_at": datetime.now(UTC),
        }
        try:
            async with uow.session.begin_nested():
                await uow.session.execute(sa.insert(idempotency_keys).values(**row))
        except IntegrityError as error:
            raise _KeyTakenError from error

    def _replay(self, stored: sa.Row | None, request_hash: str) -> JSONResponse:
        if stored is None:
            raise RuntimeError("idempotency record vanished")
        if stored.request_hash != request_hash:
            raise RuleViolationError(
                "this Idempotency-Key was used for a different request",
                field="header.Idempotency-Key",
                rule="idempotency-key-reused",
            )
        return JSONResponse(stored.response, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})


def encode_answer(answer: Any) -> bytes:
    """A command's answer as JSON, as `jsonable_encoder` and `JSONResponse` would give it: orjson writes dicts,
    lists, dataclasses, dates, UUIDs and enums itself (a twentieth of the time), and hands anything else (pydantic
    models, decimals, sets) to `jsonable_encoder`."""
    return orjson.dumps(answer, default=jsonable_encoder, option=orjson.OPT_NON_STR_KEYS)


class EncodedJSONResponse(JSONResponse):
    """A JSON response whose body is already encoded."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else super().render(content)


def _recorded(uow: UnitOfWork) -> dict[str, str]:
    """When the command's last event was recorded: a client waits until a read model's freshness passes it."""
    return {"Recorded-At": uow.appended[-1].time.isoformat()} if uow.appended else {}


async def _command_runner(
    request: Request,
    principal: Authenticated,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> CommandRunner:
    return CommandRunner(request.app.state.runtime, principal, request, idempotency_key)


Commands = Annotated[CommandRunner, Depends(_command_runner)]


async def prune_idempotency_keys(runtime: ServiceRuntime, older_than: timedelta) -> int:
    """Forget first answers older than the horizon; a retry after it is taken as a new request."""
    cutoff = datetime.now(UTC) - older_than
    async with runtime.engine.begin() as connection:
        result = await connection.execute(sa.delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
