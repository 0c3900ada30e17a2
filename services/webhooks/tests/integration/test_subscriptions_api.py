"""Province admins manage their own tenant's subscriptions over HTTP; bad input is answered as problem+json."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from metrology.eventkit.store import events_table
from metrology.webhooks.adapters.tables import subscription_secrets

from .conftest import COMPLETED, Bridge

pytestmark = [pytest.mark.integration]
BODY = {"target_url": "https://erp.example.vn/hooks", "event_types": [COMPLETED]}


async def test_creating_a_subscription_returns_its_secret_once_and_records_the_event(bridge: Bridge):
    response = await bridge.http.post("/subscriptions", json=BODY, headers=bridge.token())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    found = await bridge.subscription(created["id"])
    assert (found["status"], found["event_types"], found["tenant"]) == ("active", [COMPLETED], "83")
    assert "secret" not in found
    async with bridge.runtime.engine.connect() as connection:
        types = (await connection.execute(sa.select(events_table.c.type))).scalars().all()
    assert types == ["vn.metrology.webhooks.subscription-created.v1"]


async def test_a_bad_target_and_unknown_types_are_422_problems_naming_the_fields(bridge: Bridge):
    response = await bridge.http.post(
        "/subscriptions",
        json={"target_url": "ftp://erp.example.vn/in", "event_types": [COMPLETED]},
        headers=bridge.token(),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "target_url"

    response = await bridge.http.post(
        "/subscriptions", json={**BODY, "event_types": ["vn.metrology.nowhere.v1"]}, headers=bridge.token()
    )
    assert (response.status_code, response.json()["rule"]) == (422, "event-type-unknown")

    response = await bridge.http.post("/subscriptions", json={"target_url": 42}, headers=bridge.token())
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"body.target_url", "body.event_types"}


async def test_only_province_admins_manage_subscriptions(bridge: Bridge):
    assert (await bridge.http.post("/subscriptions", json=BODY)).status_code == 401
    response = await bridge.http.post("/subscriptions", json=BODY, headers=bridge.token("viewer"))
    assert response.status_code == 403
    assert (await bridge.http.get("/event-types", headers=bridge.token("viewer"))).status_code == 200


async def test_another_province_sees_none_of_the_tenants_subscriptions(bridge: Bridge):
    created = (await bridge.http.post("/subscriptions", json=BODY, headers=bridge.token())).json()
    other = bridge.token("province-admin", tenant="86")
    assert (await bridge.http.get(f"/subscriptions/{created['id']}", headers=other)).status_code == 404
    assert (await bridge.http.post(f"/subscriptions/{created['id']}/pause", headers=other)).status_code == 404
    assert (await bridge.http.get("/subscriptions", headers=other)).json()["total"] == 0
    assert (await bridge.http.get("/subscriptions", headers=bridge.token())).json()["total"] == 1


async def test_pause_resume_rotate_and_delete_follow_the_rules(bridge: Bridge):
    created = (await bridge.http.post("/subscriptions", json=BODY, headers=bridge.token())).json()
    path = f"/subscriptions/{created['id']}"
    assert (await bridge.http.post(f"{path}/pause", headers=bridge.token())).json()["status"] == "paused"
    again = await bridge.http.post(f"{path}/pause", headers=bridge.token())
    assert (again.status_code, again.json()["rule"]) == (409, "subscription-paused")
    assert (await bridge.http.post(f"{path}/resume", headers=bridge.token())).json()["status"] == "active"

    rotated = await bridge.http.post(f"{path}/secret", headers=bridge.token())
    assert rotated.status_code == 201 and rotated.json()["secret"] != created["secret"]
    async with bridge.runtime.engine.connect() as connection:
        rows = (await connection.execute(sa.select(subscription_secrets))).all()
    assert len(rows) == 2 and all(row.valid_until is not None for row in rows if row.secret == created["secret"])

    assert (await bridge.http.delete(path, headers=bridge.token())).json()["status"] == "deleted"
    gone = await bridge.http.post(f"{path}/resume", headers=bridge.token())
    assert (gone.status_code, gone.json()["rule"]) == (409, "subscription-deleted")
    assert (await bridge.http.get("/subscriptions", headers=bridge.token())).json()["total"] == 0


async def test_redelivering_an_unknown_dead_letter_is_404(bridge: Bridge):
    created = (await bridge.http.post("/subscriptions", json=BODY, headers=bridge.token())).json()
    response = await bridge.http.post(
        f"/subscriptions/{created['id']}/redeliver", json={"dead_letter_id": "nope"}, headers=bridge.token()
    )
    assert (response.status_code, response.json()["rule"]) == (404, "dead-letter-unknown")
    everything = await bridge.http.post(f"/subscriptions/{created['id']}/redeliver", headers=bridge.token())
    assert everything.json() == {"queued": 0}
