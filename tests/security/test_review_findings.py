"""The security review's findings, each as it was reproduced: a province acting on another's records by id, a
province admin recording work in any provider's name, any role reading any course, a token without a tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import jwt
import pytest

from .world import OTHER_PROVINCE, SECRET, World, job_body, open_world, token

DESIGNATION = {
    "decision_number": "999/QĐ-TĐC",
    "instrument_types": ["2.8b"],
    "fields": ["mass"],
    "designated_on": "2024-03-15",
}


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        yield await open_world(stack, tmp_path_factory.mktemp("findings-world"))


async def test_an_admin_of_another_province_cannot_designate_this_province_s_provider(world: World):
    provider = world.ids["provider"]
    before = await world.stored_events()
    response = await world.clients["registry"].post(
        f"/providers/{provider}/designations", json=DESIGNATION, headers=token("province-admin", tenant=OTHER_PROVINCE)
    )
    assert response.status_code == 404, response.text
    assert await world.stored_events() == before


async def test_an_admin_of_another_province_cannot_certify_a_verifier_or_change_an_instrument(world: World):
    registry, other = world.clients["registry"], token("province-admin", tenant=OTHER_PROVINCE)
    verifier = {"card_number": "KĐV-79-1", "full_name": "Người Ngoài", "fields": ["mass"]}
    answer = await registry.post(f"/providers/{world.ids['provider']}/verifiers", json=verifier, headers=other)
    assert answer.status_code == 404
    answer = await registry.post(
        f"/instruments/{world.ids['instrument']}/status", json={"status": "retired"}, headers=other
    )
    assert answer.status_code == 404


async def test_a_trainer_of_another_province_cannot_record_in_this_province_s_course(world: World):
    course, trainee = world.ids["course"], world.ids["trainee"]
    response = await world.clients["training"].post(
        f"/courses/{course}/completions",
        json={"trainee_id": trainee, "passed": True, "completed_on": "2025-04-03"},
        headers=token("trainer", tenant=OTHER_PROVINCE),
    )
    assert response.status_code == 404, response.text


async def test_a_province_admin_records_work_only_for_providers_its_province_registered(world: World):
    body = job_body(world.ids, external_reference="LIMS-79-1", sticker_serial="TEM-79-1")
    response = await world.clients["verification"].post(
        "/jobs", json=body, headers=token("province-admin", tenant=OTHER_PROVINCE)
    )
    assert (response.status_code, response.json()["rule"]) == (404, "provider-unknown")


async def test_a_province_admin_still_records_work_for_its_own_province_s_provider(world: World):
    body = job_body(world.ids, external_reference="LIMS-83-ADMIN", sticker_serial="TEM-83-ADMIN")
    response = await world.clients["verification"].post("/jobs", json=body, headers=token("province-admin"))
    assert response.status_code == 201, response.text


async def test_a_course_is_read_only_by_training_roles_of_its_province(world: World):
    training, path = world.clients["training"], f"/courses/{world.ids['course']}"
    assert (await training.get(path, headers=token("trainer"))).status_code == 200
    for role in ("enterprise", "provider"):
        assert (await training.get(path, headers=token(role))).status_code == 403
    answer = await training.get(path, headers=token("province-admin", tenant=OTHER_PROVINCE))
    assert answer.status_code == 404
    assert world.ids["course_title"] not in answer.text


async def test_a_token_without_a_tenant_claim_is_refused_with_401(world: World):
    claims = jwt.decode(
        token("province-admin")["Authorization"].removeprefix("Bearer "), options={"verify_signature": False}
    )
    for tenant in (None, ""):
        payload = {k: v for k, v in claims.items() if k != "tenant"} | ({} if tenant is None else {"tenant": tenant})
        headers = {"Authorization": f"Bearer {jwt.encode(payload, SECRET, algorithm='HS256')}"}
        response = await world.clients["registry"].get("/enterprises", headers=headers)
        assert response.status_code == 401, response.text
