"""A province-83 world across the seven services, each on its own SQLite database, seeded through their own APIs
(the replicas of verification, outreach and inspection fed with the events the registry and verification stored,
the registry's registration requests with inspection's), and one request per route.
"""

from __future__ import annotations

import importlib
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import UnknownEventTypeError
from metrology.eventkit.store import events_table
from metrology.inspection.application.replica import Replica as InspectionReplica
from metrology.outreach.application.replica import RegistryReplica as OutreachReplica
from metrology.registry.application.registration_requests import RegistrationRequests
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.runtime import ServiceRuntime
from metrology.verification.application.replica import RegistryReplica as VerificationReplica

SECRET = "security-matrix-secret-0123456789abcdef0123"
PROVINCE, OTHER_PROVINCE = "83", "79"
SERVICES = {
    "registry": "RegistrySettings",
    "verification": "VerificationSettings",
    "outreach": "OutreachSettings",
    "training": "TrainingSettings",
    "reporting": "ReportingSettings",
    "webhooks": "WebhooksSettings",
    "inspection": "InspectionSettings",
}
COMPLETED = "vn.metrology.training.trainee-completed.v1"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def token(*roles: str, tenant: str = PROVINCE, **claims: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(SECRET, 'user-' + '-'.join(roles), roles, tenant, **claims)}"}


@dataclass
class Call:
    """One request a route answers; `names_record` when its path names a seeded record, `refers_to_record` when
    its body refers to one (a caller of another province is then told the record is unknown: 404 or 422)."""

    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    names_record: bool = False
    refers_to_record: bool = False

    def sent(self) -> str:
        return f"{self.path} {self.params} {self.json} {self.content!r}"


@dataclass
class World:
    clients: dict[str, httpx.AsyncClient]
    runtimes: dict[str, ServiceRuntime]
    ids: dict[str, str] = field(default_factory=dict)

    async def send(self, service: str, method: str, call: Call, headers: dict[str, str]) -> httpx.Response:
        if call.content_type:
            headers = headers | {"content-type": call.content_type}
        return await self.clients[service].request(
            method, call.path, params=call.params, json=call.json, content=call.content, headers=headers
        )

    async def created(self, service: str, path: str, body: Any, roles: tuple[str, ...] = ("province-admin",)) -> str:
        response = await self.clients[service].post(path, json=body, headers=token(*roles))
        assert response.status_code == 201, f"{path}: {response.text}"
        answer = response.json()
        return str(answer.get("id") or answer.get("job_id"))

    def secrets(self) -> set[str]:
        """Seeded values whose appearance in an answer to a foreign caller is a leak."""
        return {value for key, value in self.ids.items() if not key.startswith("_")}

    async def stored_events(self) -> dict[str, int]:
        counts = {}
        for name, runtime in self.runtimes.items():
            async with runtime.engine.connect() as connection:
                query = sa.select(sa.func.count()).select_from(events_table)
                counts[name] = (await connection.execute(query)).scalar_one()
        return counts


async def open_world(stack: AsyncExitStack, directory: Path) -> World:
    world = World({}, {})
    for service, settings_name in SERVICES.items():
        bootstrap = importlib.import_module(f"metrology.{service}.bootstrap").bootstrap
        settings_type = getattr(importlib.import_module(f"metrology.{service}.settings"), settings_name)
        url = f"sqlite+aiosqlite:///{directory}/{service}.db"
        runtime = bootstrap(settings_type.from_env(service, database_url=url, auth_jwt_secret=SECRET))
        await runtime.migrate()
        stack.push_async_callback(runtime.dispose)
        transport = httpx.ASGITransport(app=create_app(runtime))
        client = await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url=f"http://{service}"))
        world.clients[service], world.runtimes[service] = client, runtime
    await seed(world)
    return world


async def seed(world: World) -> None:
    await _seed_registry(world)
    await _feed_replicas(world)
    await _seed_verification(world)
    await _seed_outreach(world)
    await _seed_training(world)
    await _seed_webhooks(world)
    await _feed_inspection_replica(world)
    await _seed_inspection(world)
    await _feed(world, "registry", RegistrationRequests(), await _stored_envelopes(world, "inspection"))


ENTERPRISE = {
    "tax_code": "0300588569",
    "name": "Công ty TNHH Xăng dầu Mỏ Cày",
    "sector": "fuel-retail",
    "address": "Quốc lộ 57, xã Mỏ Cày",
    "province_code": "83",
    "commune_code": "28975",
    "registered_on": "2024-03-01",
}
PROVIDER = {
    "name": "Trung tâm Kỹ thuật TĐC Bến Tre",
    "ownership": "state",
    "province_code": "83",
    "commune_code": "28756",
    "fields": ["mass", "volume"],
    "registration_certificate_number": "ĐK-83-001",
    "registration_certificate_date": "2023-01-05",
    "registered_on": "2023-01-05",
}
LABORATORY = {
    "name": "Phòng thí nghiệm khối lượng Bến Tre",
    "owner": "Sở Khoa học và Công nghệ Bến Tre",
    "province_code": "83",
    "commune_code": "28756",
    "registration_number": "PTN-83-007",
    "registered_on": "2023-01-10",
}


async def _seed_registry(world: World) -> None:
    ids = world.ids
    ids["enterprise"] = await world.created("registry", "/enterprises", ENTERPRISE)
    ids["enterprise_name"] = ENTERPRISE["name"]
    ids["tax_code"] = ENTERPRISE["tax_code"]
    ids["provider"] = await world.created("registry", "/providers", PROVIDER)
    ids["provider_name"] = PROVIDER["name"]
    ids["provider_registration"] = PROVIDER["registration_certificate_number"]
    designation = {
        "decision_number": "245/QĐ-TĐC",
        "instrument_types": ["2.8b"],
        "fields": ["mass"],
        "designated_on": "2023-02-01",
    }
    ids["designation"] = await world.created("registry", f"/providers/{ids['provider']}/designations", designation)
    verifier = {"card_number": "KĐV-83-0012", "full_name": "Trần Thị Bích", "fields": ["mass"]}
    verifier["certified_on"] = "2023-03-01"
    answer = await world.clients["registry"].post(
        f"/providers/{ids['provider']}/verifiers", json=verifier, headers=token("province-admin")
    )
    assert answer.status_code == 201, answer.text
    ids["verifier"] = str(answer.json().get("verifier_id") or answer.json()["id"])
    ids["verifier_name"] = verifier["full_name"]
    ids["laboratory"] = await world.created("registry", "/laboratories", LABORATORY)
    ids["laboratory_registration"] = LABORATORY["registration_number"]
    standard = {
        "owner_id": ids["provider"],
        "name": "Bộ quả cân M1 Bến Tre",
        "quantity": "mass",
        "measuring_range": "1 g - 20 kg",
        "accuracy": "M1",
        "level": "reference",
        "national_standard": "Chuẩn quốc gia khối lượng",
        "certificate_number": "HC-2024-001",
        "calibrated_on": "2024-12-01",
        "due_on": "2030-12-01",
    }
    ids["standard"] = await world.created("registry", "/standards", standard)
    instrument = {
        "type_code": "2.8b",
        "serial": "CB-83-0001",
        "manufacturer": "Nhơn Hòa",
        "type_approval_number": "PDM 149-2019",
        "owner_enterprise_id": ids["enterprise"],
        "province_code": "83",
        "commune_code": "28975",
        "registered_on": "2024-04-01",
    }
    ids["instrument"] = await world.created("registry", "/instruments", instrument)
    ids["_serial"] = instrument["serial"]


async def _stored_envelopes(world: World, *services: str) -> list[Envelope]:
    envelopes = []
    for service in services:
        async with world.runtimes[service].engine.connect() as connection:
            query = sa.select(events_table.c.payload).order_by(events_table.c.position)
            envelopes += [Envelope.from_json(payload) for (payload,) in (await connection.execute(query)).all()]
    return envelopes


async def _feed(world: World, service: str, replica: Any, envelopes: list[Envelope]) -> None:
    async with world.runtimes[service].sessions.begin() as session:
        for envelope in envelopes:
            try:
                event = envelope.event(replica.registry)
            except UnknownEventTypeError:
                continue  # a type this replica does not follow
            await replica.apply(session, envelope, event)
        await replica.after_batch(session)


async def _feed_replicas(world: World) -> None:
    envelopes = await _stored_envelopes(world, "registry")
    for service, replica in (("verification", VerificationReplica()), ("outreach", OutreachReplica())):
        await _feed(world, service, replica, envelopes)


async def _feed_inspection_replica(world: World) -> None:
    """Inspection follows the registry's instruments and owners and verification's certificates."""
    await _feed(world, "inspection", InspectionReplica(), await _stored_envelopes(world, "registry", "verification"))


def job_body(ids: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "verification",
        "mode": "periodic",
        "subject": "instrument",
        "subject_id": ids["instrument"],
        "provider_id": ids["provider"],
        "verifier_id": ids["verifier"],
        "procedure": "ĐLVN 16:2009",
        "working_standard_id": ids["standard"],
        "performed_on": "2025-05-14",
        "result": "pass",
        "sticker_serial": "TEM-83-0012345",
        "external_reference": "LIMS-83-0001",
    } | overrides


async def _seed_verification(world: World) -> None:
    ids = world.ids
    response = await world.clients["verification"].post(
        "/jobs", json=job_body(ids), headers=token("provider", provider_id=ids["provider"])
    )
    assert response.status_code == 201, response.text
    ids["job"] = response.json()["job_id"]
    issued = [e for e in response.json()["events"] if "certificate_number" in e and "qr_payload" in e]
    assert issued, response.json()
    ids["certificate"] = issued[0]["certificate_number"]
    ids["_qr"] = issued[0]["qr_payload"]
    ids["_external_reference"] = "LIMS-83-0001"


async def _seed_outreach(world: World) -> None:
    ids = world.ids
    enrolment = {
        "enterprise_id": ids["enterprise"],
        "enrolled_on": "2025-02-10",
        "consent": True,
        "contact_name": "Nguyễn Văn Liên Hệ",
    }
    ids["participation"] = await world.created("outreach", "/participations", enrolment)
    ids["contact_name"] = enrolment["contact_name"]
    access = {"occurred_on": "2025-06-18", "channel": "consultation", "note": "Tư vấn phương pháp đo độc quyền"}
    await world.created("outreach", f"/participations/{ids['participation']}/accesses", access)
    ids["access_note"] = access["note"]
    campaign = {
        "held_on": "2025-03-15",
        "title": "Ngày đo lường thế giới Bến Tre",
        "audience": "enterprises of Giao Long",
        "channel": "seminar",
        "enterprises_reached": 1,
        "enterprise_ids": [ids["enterprise"]],
    }
    await world.created("outreach", "/campaigns", campaign)
    ids["campaign_title"] = campaign["title"]


async def _seed_training(world: World) -> None:
    ids = world.ids
    course = {
        "title": "Kiểm định cân Bến Tre",
        "topic": "verification of scales",
        "organiser": "Chi cục TĐC Bến Tre",
        "starts_on": "2025-04-01",
        "ends_on": "2025-04-03",
    }
    ids["course"] = await world.created("training", "/courses", course)
    ids["course_title"] = course["title"]
    trainee = {
        "full_name": "Lê Thị Hồng Học Viên",
        "date_of_birth": "1990-05-14",
        "id_number": "083190001234",
        "organisation_kind": "enterprise",
    }
    ids["trainee"] = await world.created("training", "/trainees", trainee)
    ids["trainee_name"] = trainee["full_name"]
    await world.created("training", f"/courses/{ids['course']}/trainees", {"trainee_id": ids["trainee"]})


async def _seed_webhooks(world: World) -> None:
    body = {"target_url": "https://erp.example.vn/hooks/83", "event_types": [COMPLETED]}
    world.ids["subscription"] = await world.created("webhooks", "/subscriptions", body)
    world.ids["target_url"] = body["target_url"]


async def _seed_inspection(world: World) -> None:
    ids = world.ids
    plan = {
        "year": 2025,
        "title": "Kế hoạch kiểm tra đo lường Bến Tre 2025",
        "decision_number": "125/QĐ-SKHCN",
        "approved_by": "Sở Khoa học và Công nghệ Bến Tre",
        "approved_on": "2025-01-15",
    }
    ids["inspection_plan"] = await world.created("inspection", "/plans", plan)
    ids["inspection_campaign"] = await world.created("inspection", "/campaigns", campaign_body(ids))
    ids["visit"] = await world.created("inspection", "/visits", visit_body(ids))
    ids["venue_name"] = visit_body(ids)["venue_name"]
    visit = f"/visits/{ids['visit']}"
    finding = {"instrument_id": ids["instrument"], "defects": ["seal-broken"]}
    ids["finding"] = await world.created("inspection", f"{visit}/findings", finding)
    ids["violation"] = await world.created("inspection", f"{visit}/violations", violation_body(ids))
    unregistered = {"type_code": "2.8b", "serial": "CB-83-7777", "defects": ["no-stamp"]}
    await world.created("inspection", f"{visit}/findings", unregistered)  # the registry's registration request


def campaign_body(ids: dict[str, str]) -> dict[str, Any]:
    return {
        "plan_id": ids["inspection_plan"],
        "title": "Kiểm tra cân tại cửa hàng xăng dầu",
        "decision_number": "42/QĐ-TĐC",
        "venue_kinds": ["fuel-station"],
        "instrument_types": ["2.8b"],
        "starts_on": "2025-04-01",
        "ends_on": "2025-06-30",
    }


def visit_body(ids: dict[str, str]) -> dict[str, Any]:
    return {
        "campaign_id": ids["inspection_campaign"],
        "record_number": "BB-07/2025",
        "venue_kind": "fuel-station",
        "venue_name": "Cửa hàng xăng dầu Mỏ Cày số 5",
        "enterprise_id": ids["enterprise"],
        "commune_code": "28975",
        "inspectors": ["Phạm Văn Thanh Tra"],
        "visited_on": "2025-04-14",
    }


def violation_body(ids: dict[str, str]) -> dict[str, Any]:
    return {
        "finding_ids": [ids["finding"]],
        "legal_basis": "Nghị định 119/2017/NĐ-CP, Điều 8",
        "description": "niêm phong bị phá",
    }


def attendance_csv(ids: dict[str, str]) -> bytes:
    header = "full_name,date_of_birth,id_number,phone,organisation_kind,organisation_id,organisation_name,day,present"
    return f"{header}\n{ids['trainee_name']},1990-05-14,083190001234,,enterprise,,,2025-04-02,yes\n".encode()


def calls(service: str, ids: dict[str, str]) -> dict[tuple[str, str], Call]:
    """One request per route that, from the province's own staff, would be answered 2xx."""
    return _CALLS[service](ids)


def _registry(ids: dict[str, str]) -> dict[tuple[str, str], Call]:
    p, d, v = ids["provider"], ids["designation"], ids["verifier"]
    e, lab, s, i = ids["enterprise"], ids["laboratory"], ids["standard"], ids["instrument"]
    instrument = {
        "type_code": "2.8b",
        "serial": "CB-83-0099",
        "manufacturer": "Nhơn Hòa",
        "type_approval_number": "PDM 149-2019",
        "owner_enterprise_id": e,
        "province_code": "83",
        "commune_code": "28975",
    }
    imported = "tax_code,name,sector,address,province_code,commune_code,registered_on\n"
    imported += "0101248141,Công ty Nhập Khẩu,fuel-retail,12 Đồng Khởi,83,28756,2024-05-01\n"
    instruments_csv = (
        "type_code,serial,manufacturer,owner_tax_code,province_code,commune_code,registered_on,type_approval_number\n"
    )
    instruments_csv += f"2.8b,CB-83-0100,Nhơn Hòa,{ids['tax_code']},83,28975,2024-05-01,PDM 149-2019\n"
    return {
        ("POST", "/enterprises"): Call("/enterprises", json=ENTERPRISE | {"tax_code": "0101248141", "name": "Mới"}),
        ("GET", "/enterprises"): Call("/enterprises"),
        ("PATCH", "/enterprises/{enterprise_id}"): Call(
            f"/enterprises/{e}", json={"sector": "water"}, names_record=True
        ),
        ("GET", "/enterprises/{enterprise_id}"): Call(f"/enterprises/{e}", names_record=True),
        ("POST", "/enterprises/{enterprise_id}/closure"): Call(
            f"/enterprises/{e}/closure", json={"reason": "dissolved"}, names_record=True
        ),
        ("DELETE", "/enterprises/{enterprise_id}/contact"): Call(f"/enterprises/{e}/contact", names_record=True),
        ("GET", "/enterprises/by-tax-code/{tax_code}"): Call(
            f"/enterprises/by-tax-code/{ids['tax_code']}", names_record=True
        ),
        ("POST", "/providers"): Call(
            "/providers", json=PROVIDER | {"name": "Trung tâm Mới", "registration_certificate_number": "ĐK-NEW"}
        ),
        ("GET", "/providers"): Call("/providers"),
        ("POST", "/providers/{provider_id}/designations"): Call(
            f"/providers/{p}/designations",
            json={
                "decision_number": "300/QĐ-TĐC",
                "instrument_types": ["2.8b"],
                "fields": ["mass"],
                "designated_on": "2024-02-01",
            },
            names_record=True,
        ),
        ("POST", "/providers/{provider_id}/designations/{designation_id}/renewals"): Call(
            f"/providers/{p}/designations/{d}/renewals", json={"valid_until": "2033-01-31"}, names_record=True
        ),
        ("POST", "/providers/{provider_id}/designations/{designation_id}/revocation"): Call(
            f"/providers/{p}/designations/{d}/revocation", json={"reason": "outside the scope"}, names_record=True
        ),
        ("POST", "/providers/{provider_id}/verifiers"): Call(
            f"/providers/{p}/verifiers",
            json={"card_number": "KĐV-83-0099", "full_name": "Người Mới", "fields": ["mass"]},
            names_record=True,
        ),
        ("POST", "/providers/{provider_id}/verifiers/{verifier_id}/suspension"): Call(
            f"/providers/{p}/verifiers/{v}/suspension", json={"reason": "card lost"}, names_record=True
        ),
        ("POST", "/providers/{provider_id}/verifiers/{verifier_id}/reinstatement"): Call(
            f"/providers/{p}/verifiers/{v}/reinstatement", json={}, names_record=True
        ),
        ("DELETE", "/providers/{provider_id}/verifiers/{verifier_id}/personal-data"): Call(
            f"/providers/{p}/verifiers/{v}/personal-data", names_record=True
        ),
        ("GET", "/providers/by-registration/{number}"): Call(
            f"/providers/by-registration/{ids['provider_registration']}", names_record=True
        ),
        ("GET", "/providers/{provider_id}"): Call(f"/providers/{p}", names_record=True),
        ("POST", "/laboratories"): Call(
            "/laboratories", json=LABORATORY | {"owner": "Chủ Mới", "registration_number": "PTN-NEW"}
        ),
        ("GET", "/laboratories"): Call("/laboratories"),
        ("POST", "/laboratories/{laboratory_id}/accreditations"): Call(
            f"/laboratories/{lab}/accreditations",
            json={
                "accreditation_number": "VILAS 1234",
                "scope": ["mass"],
                "valid_from": "2024-01-01",
                "valid_until": "2029-01-01",
            },
            names_record=True,
        ),
        ("POST", "/laboratories/{laboratory_id}/assessments"): Call(
            f"/laboratories/{lab}/assessments",
            json={"assessed_on": "2024-06-01", "passed": True, "assessor": "Sở KH&CN"},
            names_record=True,
        ),
        ("GET", "/laboratories/by-registration/{number}"): Call(
            f"/laboratories/by-registration/{ids['laboratory_registration']}", names_record=True
        ),
        ("GET", "/laboratories/{laboratory_id}"): Call(f"/laboratories/{lab}", names_record=True),
        ("POST", "/standards"): Call(
            "/standards",
            json={
                "owner_id": p,
                "name": "Quả cân F2",
                "quantity": "mass",
                "measuring_range": "1 kg",
                "accuracy": "F2",
                "level": "working",
                "calibrated_against": s,
                "certificate_number": "HC-2025-002",
                "calibrated_on": "2025-01-01",
                "due_on": "2026-01-01",
            },
            refers_to_record=True,
        ),
        ("GET", "/standards"): Call("/standards"),
        ("GET", "/standards/{standard_id}"): Call(f"/standards/{s}", names_record=True),
        ("GET", "/standards/{standard_id}/chain"): Call(f"/standards/{s}/chain", names_record=True),
        ("POST", "/instruments"): Call("/instruments", json=instrument, refers_to_record=True),
        ("GET", "/instruments"): Call("/instruments"),
        ("POST", "/instruments/{instrument_id}/status"): Call(
            f"/instruments/{i}/status", json={"status": "out-of-use"}, names_record=True
        ),
        ("GET", "/instruments/by-serial"): Call(
            "/instruments/by-serial", params={"type_code": "2.8b", "serial": ids["_serial"]}, names_record=True
        ),
        ("GET", "/instruments/{instrument_id}"): Call(f"/instruments/{i}", names_record=True),
        ("POST", "/imports/enterprises"): Call(
            "/imports/enterprises", content=imported.encode(), content_type="text/csv"
        ),
        ("POST", "/imports/instruments"): Call(
            "/imports/instruments", content=instruments_csv.encode(), content_type="text/csv", refers_to_record=True
        ),
        ("GET", "/registration-requests"): Call("/registration-requests"),
        ("GET", "/events/schemas"): Call("/events/schemas"),
    }


def _verification(ids: dict[str, str]) -> dict[tuple[str, str], Call]:
    period = {"from": "2025-01-01", "to": "2030-12-31"}
    return {
        ("POST", "/jobs"): Call(
            "/jobs",
            json=job_body(ids, external_reference="LIMS-83-0002", sticker_serial="TEM-2"),
            refers_to_record=True,
        ),
        ("GET", "/jobs"): Call("/jobs"),
        ("GET", "/jobs/by-reference/{external_reference}"): Call(
            f"/jobs/by-reference/{ids['_external_reference']}", names_record=True
        ),
        ("GET", "/jobs/{job_id}"): Call(f"/jobs/{ids['job']}", names_record=True),
        ("GET", "/certificates"): Call("/certificates"),
        ("GET", "/certificates/{number}"): Call(f"/certificates/{ids['certificate']}", names_record=True),
        ("GET", "/certificates/{number}/dcc.json"): Call(
            f"/certificates/{ids['certificate']}/dcc.json", names_record=True
        ),
        ("GET", "/certificates/{number}/qr.svg"): Call(f"/certificates/{ids['certificate']}/qr.svg", names_record=True),
        ("GET", "/certificates/{number}/print"): Call(f"/certificates/{ids['certificate']}/print", names_record=True),
        ("POST", "/certificates/{number}/revocations"): Call(
            f"/certificates/{ids['certificate']}/revocations",
            json={"reason": "sticker on another instrument", "revoked_on": "2025-06-01"},
            names_record=True,
        ),
        ("GET", "/due-dates"): Call("/due-dates", params=period),
        ("GET", "/due-dates/overdue"): Call("/due-dates/overdue", params={"as_of": "2031-01-01"}),
        ("POST", "/enterprise-services"): Call(
            "/enterprise-services",
            json={
                "kind": "consultation",
                "enterprise_id": ids["enterprise"],
                "provider_id": ids["provider"],
                "performed_on": "2025-05-14",
                "description": "advice on a measurement method",
            },
            refers_to_record=True,
        ),
        ("GET", "/enterprise-services"): Call("/enterprise-services"),
        ("POST", "/imports/enterprise-services"): Call(
            "/imports/enterprise-services",
            content=(
                "kind,enterprise_id,provider_id,performed_on,description\n"
                f"consultation,{ids['enterprise']},{ids['provider']},2025-05-14,advice\n"
            ).encode(),
            content_type="text/csv",
            refers_to_record=True,
        ),
        ("GET", "/demand"): Call("/demand", params=period),
        ("GET", "/replica"): Call("/replica"),
        ("GET", "/events/schemas"): Call("/events/schemas"),
        ("GET", "/public/certificates/check"): Call("/public/certificates/check", params={"qr": ids["_qr"]}),
        ("GET", "/public/certificates/{number}"): Call(f"/public/certificates/{ids['certificate']}"),
    }


def _outreach(ids: dict[str, str]) -> dict[tuple[str, str], Call]:
    p = ids["participation"]
    enrolment = {"enterprise_id": ids["enterprise"], "enrolled_on": "2025-02-11", "consent": True}
    return {
        ("POST", "/participations"): Call(
            "/participations", json=enrolment | {"contact_name": "Người Liên Hệ"}, refers_to_record=True
        ),
        ("GET", "/participations"): Call("/participations"),
        ("POST", "/participations/{participation_id}/assessment"): Call(
            f"/participations/{p}/assessment",
            json={"assessed_on": "2025-03-05", "assessor": "Chi cục", "areas": [{"area": "staff", "rating": 2}]},
            names_record=True,
        ),
        ("POST", "/participations/{participation_id}/plan"): Call(
            f"/participations/{p}/plan",
            json={"approved_on": "2025-04-01", "approved_by": "Giám đốc", "objectives": [{"objective": "scales"}]},
            names_record=True,
        ),
        ("POST", "/participations/{participation_id}/support"): Call(
            f"/participations/{p}/support",
            json={"delivered_on": "2025-05-12", "kind": "visit", "description": "register set up"},
            names_record=True,
        ),
        ("POST", "/participations/{participation_id}/evaluations"): Call(
            f"/participations/{p}/evaluations",
            json={"evaluated_on": "2025-12-15", "year": 2025, "objectives_met": 1, "findings": "on time"},
            names_record=True,
        ),
        ("POST", "/participations/{participation_id}/completion"): Call(
            f"/participations/{p}/completion", json={"completed_on": "2026-01-20"}, names_record=True
        ),
        ("POST", "/participations/{participation_id}/withdrawal"): Call(
            f"/participations/{p}/withdrawal", json={"withdrawn_on": "2025-08-01"}, names_record=True
        ),
        ("DELETE", "/participations/{participation_id}/contact"): Call(
            f"/participations/{p}/contact", names_record=True
        ),
        ("GET", "/participations/{participation_id}"): Call(f"/participations/{p}", names_record=True),
        ("POST", "/participations/{participation_id}/accesses"): Call(
            f"/participations/{p}/accesses", json={"occurred_on": "2025-07-01", "channel": "method"}, names_record=True
        ),
        ("GET", "/accesses"): Call("/accesses"),
        ("POST", "/campaigns"): Call(
            "/campaigns",
            json={
                "held_on": "2025-05-20",
                "title": "Hội thảo",
                "audience": "enterprises",
                "channel": "seminar",
                "enterprises_reached": 1,
                "enterprise_ids": [ids["enterprise"]],
            },
            refers_to_record=True,
        ),
        ("GET", "/campaigns"): Call("/campaigns"),
        ("GET", "/enterprises"): Call("/enterprises"),
        ("GET", "/events/schemas"): Call("/events/schemas"),
    }


def _training(ids: dict[str, str]) -> dict[tuple[str, str], Call]:
    c, t = ids["course"], ids["trainee"]
    return {
        ("POST", "/courses"): Call(
            "/courses",
            json={
                "title": "Hiệu chuẩn",
                "topic": "calibration",
                "organiser": "Chi cục",
                "starts_on": "2025-06-02",
                "ends_on": "2025-06-04",
            },
        ),
        ("GET", "/courses"): Call("/courses"),
        ("GET", "/courses/{course_id}"): Call(f"/courses/{c}", names_record=True),
        ("POST", "/courses/{course_id}/trainees"): Call(
            f"/courses/{c}/trainees", json={"trainee_id": t}, names_record=True
        ),
        ("GET", "/courses/{course_id}/trainees"): Call(f"/courses/{c}/trainees", names_record=True),
        ("POST", "/courses/{course_id}/attendance"): Call(
            f"/courses/{c}/attendance", json={"trainee_id": t, "day": "2025-04-02"}, names_record=True
        ),
        ("POST", "/courses/{course_id}/assessments"): Call(
            f"/courses/{c}/assessments",
            json={"trainee_id": t, "score": 80, "assessed_on": "2025-04-03"},
            names_record=True,
        ),
        ("POST", "/courses/{course_id}/completions"): Call(
            f"/courses/{c}/completions",
            json={"trainee_id": t, "passed": True, "completed_on": "2025-04-03"},
            names_record=True,
        ),
        ("POST", "/courses/{course_id}/attendance/import"): Call(
            f"/courses/{c}/attendance/import", content=attendance_csv(ids), content_type="text/csv", names_record=True
        ),
        ("POST", "/trainees"): Call(
            "/trainees",
            json={
                "full_name": "Học Viên Mới",
                "date_of_birth": "1991-01-01",
                "id_number": "083191000001",
                "organisation_kind": "provider",
            },
        ),
        ("GET", "/trainees"): Call("/trainees"),
        ("GET", "/trainees/{trainee_id}"): Call(f"/trainees/{t}", names_record=True),
        ("DELETE", "/trainees/{trainee_id}/personal-data"): Call(f"/trainees/{t}/personal-data", names_record=True),
        ("GET", "/events/schemas"): Call("/events/schemas"),
    }


def _reporting(ids: dict[str, str]) -> dict[tuple[str, str], Call]:
    plan = "/plans/ben-tre-996-2021"
    return {
        ("GET", "/plans"): Call("/plans"),
        ("GET", "/plans/{plan_id}/progress"): Call(f"{plan}/progress", names_record=True),
        ("GET", "/plans/{plan_id}/targets/{target_id}"): Call(
            f"{plan}/targets/demand-coverage-2025", names_record=True
        ),
        ("GET", "/plans/{plan_id}/report.{fmt}"): Call(f"{plan}/report.csv", names_record=True),
        ("GET", "/plans/{plan_id}/tasks"): Call(f"{plan}/tasks", params={"as_of": "2025-12-31"}, names_record=True),
        ("POST", "/plans/{plan_id}/tasks/{task_id}/progress"): Call(
            f"{plan}/tasks/state-inspection/progress",
            json={"on": "2025-06-30", "done": "Kiểm tra 42 cột đo xăng dầu", "status": "in-progress"},
            names_record=True,
        ),
        ("GET", "/plans/{plan_id}/reports/{year}.{fmt}"): Call(f"{plan}/reports/2025.xlsx", names_record=True),
        ("GET", "/changes"): Call("/changes", params={"since_known_at": "2025-01-01T00:00:00Z"}),
        ("GET", "/plans/{plan_id}/changes"): Call(
            f"{plan}/changes", params={"since_known_at": "2025-01-01T00:00:00Z"}, names_record=True
        ),
        ("GET", "/national"): Call("/national"),
        ("GET", "/kpis/{metric}"): Call("/kpis/person-times-trained"),
        ("GET", "/kpis/{metric}/series"): Call("/kpis/person-times-trained/series", params={"from": "2024-01-01"}),
        ("GET", "/"): Call("/"),
        ("GET", "/static/{name}"): Call("/static/app.js"),
    }


def _webhooks(ids: dict[str, str]) -> dict[tuple[str, str], Call]:
    s = f"/subscriptions/{ids['subscription']}"
    return {
        ("GET", "/event-types"): Call("/event-types"),
        ("POST", "/subscriptions"): Call(
            "/subscriptions", json={"target_url": "https://erp.example.vn/other", "event_types": [COMPLETED]}
        ),
        ("GET", "/subscriptions"): Call("/subscriptions"),
        ("GET", "/subscriptions/{subscription_id}"): Call(s, names_record=True),
        ("DELETE", "/subscriptions/{subscription_id}"): Call(s, names_record=True),
        ("POST", "/subscriptions/{subscription_id}/pause"): Call(f"{s}/pause", names_record=True),
        ("POST", "/subscriptions/{subscription_id}/resume"): Call(f"{s}/resume", names_record=True),
        ("POST", "/subscriptions/{subscription_id}/secret"): Call(f"{s}/secret", names_record=True),
        ("GET", "/subscriptions/{subscription_id}/dead-letters"): Call(f"{s}/dead-letters", names_record=True),
        ("POST", "/subscriptions/{subscription_id}/redeliver"): Call(f"{s}/redeliver", json={}, names_record=True),
    }


def _inspection(ids: dict[str, str]) -> dict[tuple[str, str], Call]:
    visit = f"/visits/{ids['visit']}"
    plan = {
        "year": 2026,
        "title": "Kế hoạch kiểm tra 2026",
        "decision_number": "9/QĐ-SKHCN",
        "approved_by": "Sở KH&CN",
        "approved_on": "2026-01-10",
    }
    decision = {
        "decision_number": "15/QĐ-XPVPHC",
        "violation_ids": [ids["violation"]],
        "sanction": "fine",
        "fine_vnd": 7_500_000,
        "issued_by": "Chánh Thanh tra Sở KH&CN",
        "issued_on": "2025-04-20",
    }
    follow_up = {"finding_id": ids["finding"], "ordered_on": "2025-04-14", "due_on": "2025-05-14"}
    return {
        ("POST", "/plans"): Call("/plans", json=plan),
        ("GET", "/plans"): Call("/plans"),
        ("GET", "/plans/{plan_id}"): Call(f"/plans/{ids['inspection_plan']}", names_record=True),
        ("POST", "/campaigns"): Call("/campaigns", json=campaign_body(ids), refers_to_record=True),
        ("GET", "/campaigns"): Call("/campaigns"),
        ("GET", "/campaigns/{campaign_id}"): Call(f"/campaigns/{ids['inspection_campaign']}", names_record=True),
        ("POST", "/visits"): Call(
            "/visits", json=visit_body(ids) | {"record_number": "BB-08/2025"}, refers_to_record=True
        ),
        ("GET", "/visits"): Call("/visits"),
        ("GET", "/visits/{visit_id}"): Call(visit, names_record=True),
        ("POST", "/visits/{visit_id}/findings"): Call(
            f"{visit}/findings", json={"instrument_id": ids["instrument"], "defects": ["no-stamp"]}, names_record=True
        ),
        ("POST", "/visits/{visit_id}/violations"): Call(
            f"{visit}/violations", json=violation_body(ids), names_record=True
        ),
        ("POST", "/visits/{visit_id}/decisions"): Call(f"{visit}/decisions", json=decision, names_record=True),
        ("POST", "/visits/{visit_id}/follow-ups"): Call(f"{visit}/follow-ups", json=follow_up, names_record=True),
        ("GET", "/findings"): Call("/findings"),
        ("GET", "/follow-ups"): Call("/follow-ups"),
        ("GET", "/summary"): Call("/summary", params={"year": "2025"}),
        ("GET", "/watchlist"): Call("/watchlist"),
        ("GET", "/instruments"): Call("/instruments"),
    }


_CALLS = {
    "registry": _registry,
    "verification": _verification,
    "outreach": _outreach,
    "training": _training,
    "reporting": _reporting,
    "webhooks": _webhooks,
    "inspection": _inspection,
}


def operations(service: str) -> dict[tuple[str, str], Call]:
    return {("GET", path): Call(path) for path in ("/health", "/ready", "/freshness", "/metrics", "/asyncapi.json")}
