"""Services to any registered enterprise: recorded over HTTP or from a file, checked against the registry replica,
each with its `enterprise-service-recorded` event; listed back by enterprise, provider and kind."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from metrology.eventkit.store import events_table
from metrology.registry.domain import events as r
from metrology.servicekit.app import create_app
from metrology.verification.adapters.tables import enterprise_services
from metrology.verification.bootstrap import bootstrap
from metrology.verification.settings import VerificationSettings

from .conftest import Service, feed
from .world import CENTRE, OUTSIDE, registry_events

pytestmark = [pytest.mark.integration]

MEMBER, OUTSIDER, CLOSED = "ent-member", "ent-outsider", "ent-closed"


def enterprises() -> list[tuple[str, r.DomainEvent]]:
    def registered(enterprise_id: str, tax_code: str, name: str) -> tuple[str, r.DomainEvent]:
        return f"enterprise-{enterprise_id}", r.EnterpriseRegistered(
            occurred_on=date(2022, 3, 1), enterprise_id=enterprise_id, tax_code=tax_code, name=name,
            sector="food", address="Phường An Hội", province_code="83", commune_code="28756",
        )  # fmt: skip

    return [
        registered(MEMBER, "1300123456", "Công ty Dừa Bến Tre"),
        registered(OUTSIDER, "1300654321", "Cơ sở Kẹo Dừa Mỏ Cày"),
        registered(CLOSED, "1300999999", "Xưởng Cơ khí Giồng Trôm"),
        (f"enterprise-{CLOSED}", r.EnterpriseClosed(occurred_on=date(2024, 6, 30), enterprise_id=CLOSED)),
        (f"enterprise-{OUTSIDER}", r.EnterpriseUpdated(occurred_on=date(2024, 1, 2), enterprise_id=OUTSIDER,
                                                       name="Công ty Kẹo Dừa Mỏ Cày")),
    ]  # fmt: skip


SERVICE = {
    "kind": "measurement-method",
    "enterprise_id": OUTSIDER,
    "provider_id": CENTRE,
    "performed_on": "2025-04-10",
    "description": "Tư vấn phương pháp đo khối lượng tịnh hàng đóng gói sẵn",
    "external_reference": "LIMS-S-0001",
}


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[Service]:
    runtime = bootstrap(VerificationSettings.from_env("verification", database_url=database_url, tenant="83"))
    await runtime.migrate()
    await feed(runtime, registry_events() + enterprises())
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://verification") as client:
        yield Service(runtime, client)
    await runtime.dispose()


def admin(service: Service) -> dict[str, str]:
    return service.token("province-admin")


async def stored(service: Service) -> tuple[int, int]:
    async with service.runtime.engine.connect() as connection:
        events = (await connection.execute(sa.select(sa.func.count()).select_from(events_table))).scalar_one()
        rows = (await connection.execute(sa.select(sa.func.count()).select_from(enterprise_services))).scalar_one()
    return events, rows


async def test_a_service_to_an_enterprise_outside_the_programme_is_recorded_with_its_event(service: Service):
    recorded = await service.http.post("/enterprise-services", json=SERVICE, headers=admin(service))

    assert recorded.status_code == 201, recorded.text
    event = recorded.json()["events"][0]
    assert event["type"] == "vn.metrology.verification.enterprise-service-recorded.v1"
    assert event["enterprise_id"] == OUTSIDER and event["kind"] == "measurement-method"
    assert event["provider_province_code"] == "83" and event["enterprise_commune_code"] == "28756"
    listed = await service.http.get("/enterprise-services", params={"enterprise_id": OUTSIDER}, headers=admin(service))
    assert listed.json()["total"] == 1
    assert listed.json()["items"][0]["enterprise_name"] == "Công ty Kẹo Dừa Mỏ Cày"
    async with service.runtime.engine.connect() as connection:
        streams = (await connection.execute(sa.select(events_table.c.stream_id))).scalars().all()
    assert streams == [f"enterprise-service-{recorded.json()['service_id']}"]
    replica = await service.http.get("/replica", headers=admin(service))
    assert replica.json()["enterprises"] == 3


async def test_a_service_to_an_unknown_or_closed_enterprise_is_refused_and_nothing_is_stored(service: Service):
    unknown = await service.http.post(
        "/enterprise-services", json=SERVICE | {"enterprise_id": "ent-nobody"}, headers=admin(service)
    )
    closed = await service.http.post(
        "/enterprise-services", json=SERVICE | {"enterprise_id": CLOSED}, headers=admin(service)
    )

    assert unknown.status_code == 422 and unknown.json()["rule"] == "enterprise-unknown"
    assert closed.status_code == 422 and closed.json()["rule"] == "enterprise-closed"
    assert await stored(service) == (0, 0)


async def test_a_service_is_refused_for_a_provider_another_province_registered_or_another_provider(service: Service):
    foreign = await service.http.post(
        "/enterprise-services", json=SERVICE | {"provider_id": "prov-nowhere"}, headers=admin(service)
    )
    other = await service.http.post(
        "/enterprise-services", json=SERVICE, headers=service.token("provider", provider_id=OUTSIDE)
    )

    assert foreign.status_code == 404 and foreign.json()["rule"] == "provider-unknown"
    assert other.status_code == 403 and other.json()["rule"] == "other-provider"


async def test_an_external_reference_names_one_service_per_provider(service: Service):
    first = await service.http.post("/enterprise-services", json=SERVICE, headers=admin(service))
    again = await service.http.post("/enterprise-services", json=SERVICE, headers=admin(service))

    assert again.status_code == 409, again.text
    assert again.json()["service_id"] == first.json()["service_id"]
    assert again.json()["errors"][0]["field"] == "external_reference"
    assert await stored(service) == (1, 1)


async def test_a_bad_body_is_a_problem_listing_each_field(service: Service):
    answer = await service.http.post(
        "/enterprise-services", json=SERVICE | {"kind": "repair", "performed_on": "soon"}, headers=admin(service)
    )

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in answer.json()["errors"]} >= {"body.kind", "body.performed_on"}


async def test_a_provider_lists_its_own_services_and_an_enterprise_those_it_received(service: Service):
    await service.http.post("/enterprise-services", json=SERVICE, headers=admin(service))
    await service.http.post(
        "/enterprise-services",
        json=SERVICE | {"enterprise_id": MEMBER, "kind": "calibration", "external_reference": None},
        headers=admin(service),
    )

    mine = await service.http.get("/enterprise-services", headers=service.token("provider", provider_id=OUTSIDE))
    received = await service.http.get("/enterprise-services", headers=service.token("enterprise", enterprise_id=MEMBER))
    calibrations = await service.http.get(
        "/enterprise-services", params={"kind": "calibration"}, headers=service.token("viewer")
    )

    assert mine.json()["total"] == 0
    assert [item["enterprise_id"] for item in received.json()["items"]] == [MEMBER]
    assert calibrations.json()["total"] == 1


CSV_HEADER = "kind,enterprise_tax_code,enterprise_id,provider_id,performed_on,description,external_reference\n"


async def test_a_csv_import_records_every_row_with_enterprises_named_by_tax_code_or_id(service: Service):
    body = (
        CSV_HEADER
        + "calibration,1300123456,,prov-centre,2025-02-03,Hiệu chuẩn cân phân tích,IMP-1\n"
        + f"consultation,,{OUTSIDER},prov-centre,2025-02-04,Tư vấn đo lường,IMP-2\n"
    )
    answer = await service.http.post(
        "/imports/enterprise-services",
        content=body.encode(),
        headers=admin(service) | {"Content-Type": "text/csv"},
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["imported"] == 2
    assert await stored(service) == (2, 2)


async def test_an_import_with_a_bad_row_records_nothing_and_names_each_bad_row(service: Service):
    body = (
        CSV_HEADER
        + "calibration,1300123456,,prov-centre,2025-02-03,Hiệu chuẩn cân phân tích,IMP-1\n"
        + "repair,1300123456,,prov-centre,2025-02-03,Sửa cân,IMP-2\n"
        + "testing,0000000000,,prov-centre,2025-02-03,Thử nghiệm,IMP-3\n"
        + "testing,1300999999,,prov-centre,2025-02-03,Thử nghiệm,IMP-4\n"
    )
    answer = await service.http.post(
        "/imports/enterprise-services",
        content=body.encode(),
        headers=admin(service) | {"Content-Type": "text/csv"},
    )

    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(3, "kind"), (4, "enterprise_tax_code"), (5, "enterprise_id")]
    assert await stored(service) == (0, 0)


async def test_an_xlsx_import_reads_the_first_sheet(service: Service):
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(CSV_HEADER.strip().split(","))
    sheet.append(["testing", "1300654321", None, CENTRE, date(2025, 3, 1), "Thử nghiệm mẫu nước mắm", "X-1"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    answer = await service.http.post(
        "/imports/enterprise-services",
        content=buffer.getvalue(),
        headers=admin(service) | {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )

    assert answer.status_code == 201, answer.text
    listed = await service.http.get("/enterprise-services", headers=admin(service))
    assert listed.json()["items"][0]["performed_on"] == "2025-03-01"
    assert listed.json()["items"][0]["enterprise_id"] == OUTSIDER
