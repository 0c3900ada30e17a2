"""HTTP API of the webhook bridge: province admins manage their tenant's subscriptions and dead letters."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.servicekit.auth import Authenticated, Principal, Role, require
from metrology.servicekit.commands import Commands
from metrology.servicekit.validation import Limit, Offset
from metrology.webhooks.application import handlers, queries
from metrology.webhooks.domain.catalogue import PUBLISHED_TYPES

router = APIRouter()
Admin = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN))]
EXAMPLE_TYPE = "vn.metrology.training.trainee-completed.v1"


class SubscriptionIn(BaseModel):
    target_url: str = Field(min_length=8, max_length=2000, examples=["https://erp.example.vn/hooks/metrology"])
    event_types: list[str] = Field(min_length=1, max_length=100, examples=[[EXAMPLE_TYPE]])
    description: str | None = Field(None, max_length=500, examples=["Sở KH&CN: trainees certified"])
    start_from: Literal["creation", "earliest"] = Field(
        "creation", description="Deliver events from the subscription's creation on, or every event ever published"
    )


class SubscriptionCreatedOut(BaseModel):
    id: str
    secret: str = Field(description="The signing secret (`whsec_...`): shown only now; keep it at the receiver")
    stream_version: int


class Accepted(BaseModel):
    id: str
    status: str
    stream_version: int


class RedeliveryIn(BaseModel):
    dead_letter_id: str | None = Field(None, max_length=64, description="One dead letter; all of them when left out")


class Queued(BaseModel):
    queued: int


def _accepted(subscription: Any) -> Accepted:
    return Accepted(
        id=subscription.subscription_id,
        status=subscription.status,
        stream_version=subscription.version + len(subscription.pending),
    )


@router.get("/event-types", tags=["subscriptions"], summary="The event types a subscription can choose from")
async def event_types(_: Authenticated) -> dict[str, list[str]]:
    return {"items": sorted(PUBLISHED_TYPES)}


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionCreatedOut,
    tags=["subscriptions"],
    summary="Subscribe a receiver to event types of the caller's tenant",
)
async def create_subscription(body: SubscriptionIn, commands: Commands, _: Admin) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> SubscriptionCreatedOut:
        command = handlers.CreateSubscription(body.target_url, body.event_types, body.description, body.start_from)
        created = await handlers.create_subscription(uow, command)
        return SubscriptionCreatedOut(id=created.subscription_id, secret=created.secret, stream_version=1)

    return await commands.run(handle)


@router.get("/subscriptions", tags=["subscriptions"], summary="The tenant's subscriptions (paginated)")
async def list_subscriptions(
    request: Request, principal: Admin, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.subscriptions_page(connection, principal.tenant, queries.Page(limit, offset))


@router.get("/subscriptions/{subscription_id}", tags=["subscriptions"], summary="One subscription and its offsets")
async def get_subscription(subscription_id: str, request: Request, principal: Admin) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await queries.subscription(connection, principal.tenant, subscription_id)


@router.post(
    "/subscriptions/{subscription_id}/pause",
    response_model=Accepted,
    tags=["subscriptions"],
    summary="Stop deliveries (offsets are kept)",
)
async def pause_subscription(subscription_id: str, commands: Commands, _: Admin) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(await handlers.pause_subscription(uow, subscription_id))

    return await commands.run(handle, status_code=200)


@router.post(
    "/subscriptions/{subscription_id}/resume",
    response_model=Accepted,
    tags=["subscriptions"],
    summary="Deliver again from where it stopped",
)
async def resume_subscription(subscription_id: str, commands: Commands, _: Admin) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(await handlers.resume_subscription(uow, subscription_id))

    return await commands.run(handle, status_code=200)


@router.delete(
    "/subscriptions/{subscription_id}", response_model=Accepted, tags=["subscriptions"], summary="Delete for good"
)
async def delete_subscription(subscription_id: str, commands: Commands, _: Admin) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> Accepted:
        return _accepted(await handlers.delete_subscription(uow, subscription_id))

    return await commands.run(handle, status_code=200)


@router.post(
    "/subscriptions/{subscription_id}/secret",
    status_code=201,
    response_model=SubscriptionCreatedOut,
    tags=["subscriptions"],
    summary="Rotate the signing secret (the previous one keeps signing beside it for 24 hours)",
)
async def rotate_secret(subscription_id: str, commands: Commands, _: Admin) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> SubscriptionCreatedOut:
        rotated = await handlers.rotate_secret(uow, subscription_id)
        return SubscriptionCreatedOut(id=subscription_id, secret=rotated.secret, stream_version=rotated.stream_version)

    return await commands.run(handle)


@router.get(
    "/subscriptions/{subscription_id}/dead-letters",
    tags=["dead letters"],
    summary="Events the receiver did not take after every attempt (paginated)",
)
async def list_dead_letters(
    subscription_id: str,
    request: Request,
    principal: Admin,
    limit: Limit = 50,
    offset: Offset = 0,
    state: Annotated[Literal["dead", "queued", "redelivered"] | None, Query()] = None,
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        page = queries.Page(limit, offset)
        return await queries.dead_letters_page(connection, principal.tenant, subscription_id, page, state)


@router.post(
    "/subscriptions/{subscription_id}/redeliver",
    status_code=202,
    response_model=Queued,
    tags=["dead letters"],
    summary="Queue dead letters (one, or all) to be delivered again",
)
async def redeliver(
    subscription_id: str, commands: Commands, _: Admin, body: RedeliveryIn | None = None
) -> JSONResponse:
    async def handle(uow: UnitOfWork) -> Queued:
        dead_letter_id = body.dead_letter_id if body else None
        return Queued(queued=await handlers.queue_redelivery(uow, subscription_id, dead_letter_id))

    return await commands.run(handle, status_code=202)
