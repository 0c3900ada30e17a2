"""Every route of every service, walked with tokens of each role, of another province, of another provider and of
another enterprise, against a seeded world of province 83: nobody reaches what the matrix does not give them."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack

import pytest

from metrology.servicekit.app import create_app
from metrology.servicekit.auth import Role

from .route_matrix import MATRIX, OPERATIONS, Access, Scope
from .world import OTHER_PROVINCE, SERVICES, Call, World, calls, open_world, token

REFUSED = {403, 404}
OWN_PROVIDER_RECORDS = ("job", "certificate", "_external_reference")
OWN_ENTERPRISE_RECORDS = (
    "enterprise",
    "enterprise_name",
    "tax_code",
    "instrument",
    "_serial",
    "participation",
    "contact_name",
    "access_note",
    "job",
    "certificate",
)


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        yield await open_world(stack, tmp_path_factory.mktemp("security-world"))


def openapi_routes(service: str) -> set[tuple[str, str]]:
    bootstrap = importlib.import_module(f"metrology.{service}.bootstrap").bootstrap
    settings_type = getattr(importlib.import_module(f"metrology.{service}.settings"), SERVICES[service])
    app = create_app(bootstrap(settings_type.from_env(service, database_url="sqlite+aiosqlite:///:memory:")))
    return {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}


def routes(*, where: object = None) -> Iterator[tuple[str, str, str, Access]]:
    for service, entries in MATRIX.items():
        for (method, path), access in entries.items():
            if where is None or where(access):  # type: ignore[operator]
                yield service, method, path, access


def route_cases(where: object, roles_of: object) -> list[object]:
    cases = []
    for service, method, path, access in routes(where=where):
        for role in sorted(roles_of(access)):  # type: ignore[operator]
            cases.append(pytest.param(service, method, path, role, id=f"{service} {method} {path} as {role}"))
    return cases


def call_for(world: World, service: str, method: str, path: str) -> Call:
    if (method, path) in OPERATIONS:
        return Call(path)
    return calls(service, world.ids)[(method, path)]


def claims(world: World) -> dict[str, str]:
    return {"provider_id": world.ids["provider"], "enterprise_id": world.ids["enterprise"]}


def leaked(world: World, call: Call, text: str, keys: tuple[str, ...] | None = None) -> list[str]:
    """Seeded values in an answer that the request itself did not send."""
    values = world.secrets() if keys is None else {world.ids[key] for key in keys}
    sent = call.sent()
    return sorted(value for value in values if value in text and value not in sent)


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_route_of_every_service_has_an_entry_in_the_matrix(service: str):
    in_openapi, in_matrix = openapi_routes(service), set(MATRIX[service])
    assert sorted(in_openapi - in_matrix) == [], "routes without an entry in tests/security/route_matrix.py"
    assert sorted(in_matrix - in_openapi) == [], "matrix entries naming routes that are gone"


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_route_of_the_matrix_has_a_request_in_the_walk(service: str):
    walked = set(calls(service, {key: f"<{key}>" for key in _ID_KEYS})) | set(OPERATIONS)
    assert sorted(set(MATRIX[service]) - walked) == []


_ID_KEYS = (
    "enterprise",
    "tax_code",
    "provider",
    "provider_registration",
    "designation",
    "verifier",
    "laboratory",
    "laboratory_registration",
    "standard",
    "instrument",
    "_serial",
    "job",
    "certificate",
    "_qr",
    "_external_reference",
    "participation",
    "course",
    "trainee",
    "trainee_name",
    "subscription",
    "inspection_plan",
    "inspection_campaign",
    "visit",
    "finding",
    "violation",
)


@pytest.mark.parametrize(
    ("service", "method", "path"),
    [
        pytest.param(s, m, p, id=f"{s} {m} {p}")
        for s, m, p, a in routes(where=lambda a: a.roles and not a.public)  # type: ignore[attr-defined]
    ],
)
async def test_a_request_without_a_token_is_refused_with_401(world: World, service: str, method: str, path: str):
    before = await world.stored_events()
    response = await world.send(service, method, call_for(world, service, method, path), {})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await world.stored_events() == before


@pytest.mark.parametrize(
    ("service", "method", "path", "role"),
    route_cases(lambda a: a.roles and a.roles != frozenset(Role), lambda a: set(Role) - a.roles),
)
async def test_a_role_the_matrix_leaves_out_is_refused_with_403(
    world: World, service: str, method: str, path: str, role: str
):
    before = await world.stored_events()
    call = call_for(world, service, method, path)
    response = await world.send(service, method, call, token(role, **claims(world)))
    assert response.status_code == 403, response.text
    assert leaked(world, call, response.text) == []
    assert await world.stored_events() == before


@pytest.mark.parametrize(
    ("service", "method", "path", "role"), route_cases(lambda a: Scope.TENANT in a.scopes, lambda a: a.roles)
)
async def test_a_token_of_another_province_reaches_no_record_of_this_one(
    world: World, service: str, method: str, path: str, role: str
):
    before = await world.stored_events()
    call = call_for(world, service, method, path)
    response = await world.send(service, method, call, token(role, tenant=OTHER_PROVINCE, **claims(world)))
    assert response.status_code < 500, response.text
    assert leaked(world, call, response.text) == []
    if call.names_record:
        assert response.status_code in REFUSED, response.text
    if call.refers_to_record:
        assert response.status_code in REFUSED | {422}, response.text
    if call.names_record or call.refers_to_record:
        assert await world.stored_events() == before


@pytest.mark.parametrize(
    ("service", "method", "path", "role"),
    route_cases(lambda a: Scope.OWN_PROVIDER in a.scopes, lambda a: {Role.PROVIDER}),
)
async def test_a_provider_reaches_only_its_own_records(world: World, service: str, method: str, path: str, role: str):
    before = await world.stored_events()
    call = call_for(world, service, method, path)
    response = await world.send(service, method, call, token(role, provider_id="another-provider"))
    assert response.status_code < 500, response.text
    assert leaked(world, call, response.text, OWN_PROVIDER_RECORDS) == []
    if call.names_record:
        assert response.status_code in REFUSED, response.text
        assert await world.stored_events() == before


@pytest.mark.parametrize(
    ("service", "method", "path", "role"),
    route_cases(lambda a: Scope.OWN_ENTERPRISE in a.scopes, lambda a: {Role.ENTERPRISE}),
)
async def test_an_enterprise_sees_only_its_own_records(world: World, service: str, method: str, path: str, role: str):
    call = call_for(world, service, method, path)
    response = await world.send(service, method, call, token(role, enterprise_id="another-enterprise"))
    assert response.status_code < 500, response.text
    assert leaked(world, call, response.text, OWN_ENTERPRISE_RECORDS) == []
    if call.names_record:
        assert response.status_code in REFUSED, response.text


@pytest.mark.parametrize(("service", "method", "path", "role"), route_cases(lambda a: a.roles, lambda a: a.roles))
async def test_the_province_s_own_callers_get_past_every_check_the_matrix_gives_them(
    world: World, service: str, method: str, path: str, role: str
):
    """The control: the same requests from province 83 with a role the matrix allows are not refused (a business
    rule may still answer 409/422, as the walk changes the world as it goes)."""
    response = await world.send(service, method, call_for(world, service, method, path), token(role, **claims(world)))
    assert response.status_code not in {401, 403, 404} and response.status_code < 500, response.text
