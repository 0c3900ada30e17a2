"""A certificate as a machine-readable DCC document, a printable page with its QR image, and the QR alone."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from metrology.verification.adapters.qr import qr_svg

from .conftest import Service, feed
from .test_http_write_path import JOB, record
from .test_traceability_chain import NATIONAL, reference_standard
from .world import CENTRE, OWNER, STANDARD

pytestmark = [pytest.mark.integration]
MEASURED = {"quantity": "mass", "nominal": 10.0, "measured": 10.0003, "unit": "kg", "expanded_uncertainty": 0.0005}


async def issued(service: Service) -> dict:
    await feed(service.runtime, [reference_standard()])
    response = await record(service, JOB | {"measurements": [MEASURED]})
    assert response.status_code == 201, response.text
    return response.json()["events"][1]


async def test_the_dcc_document_carries_the_administrative_data_and_the_measurement_results(service):
    certificate = await issued(service)
    number = certificate["certificate_number"]

    response = await service.http.get(f"/certificates/{number}/dcc.json", headers=service.token("province-admin"))

    assert response.status_code == 200, response.text
    dcc = response.json()["digitalCalibrationCertificate"]
    core = dcc["administrativeData"]["coreData"]
    assert (core["uniqueIdentifier"], core["countryCodeISO3166_1"], core["beginPerformanceDate"]) == (
        number,
        "VN",
        "2025-05-14",
    )
    item = dcc["administrativeData"]["items"]["item"][0]
    assert {i["value"] for i in item["identifications"]["identification"]} == {"CB-0001", JOB["subject_id"]}
    assert dcc["administrativeData"]["calibrationLaboratory"]["contact"]["id"] == CENTRE
    assert dcc["administrativeData"]["customer"]["id"] == OWNER
    statement = dcc["administrativeData"]["statements"]["statement"][0]
    assert (statement["validUntil"], statement["check"]["qrPayload"]) == ("2026-05-14", certificate["qr_payload"])
    result = dcc["measurementResults"]["measurementResult"][0]
    assert result["usedMethods"]["usedMethod"][0]["norm"] == JOB["procedure"]
    equipment = result["measuringEquipments"]["measuringEquipment"]
    assert [e["identifications"]["identification"][0]["value"] for e in equipment] == [STANDARD, "std-ref-1"]
    assert equipment[-1]["nationalStandard"] == NATIONAL
    (measured,) = [q for q in result["results"]["result"][0]["data"]["quantity"] if "expandedUnc" in q["real"]]
    assert measured["real"] == {
        "value": 10.0003,
        "unit": "kg",
        "expandedUnc": {"uncertainty": 0.0005, "coverageFactor": 2.0, "coverageProbability": 0.95},
    }


async def test_the_printable_certificate_shows_a_qr_image_of_the_signed_public_check(service):
    certificate = await issued(service)
    number = certificate["certificate_number"]

    page = await service.http.get(f"/certificates/{number}/print", headers=service.token("viewer"))

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert number in html and "Giấy chứng nhận kiểm định" in html and "Verification certificate" in html
    check = f"http://verification/public/certificates/check?qr={certificate['qr_payload'].replace('|', '%7C')}"
    assert check in html
    assert qr_svg(check, title=number) in html, "the QR image encodes exactly the public check URL"
    assert NATIONAL in html and "10.0003 kg" in html

    payload = parse_qs(urlsplit(check).query)["qr"][0]
    public = await service.http.get("/public/certificates/check", params={"qr": payload})
    assert public.status_code == 200 and public.json()["number"] == number


async def test_the_qr_code_opens_the_public_address_when_one_is_configured(service):
    number = (await issued(service))["certificate_number"]
    public = "https://kiemdinh.vinhlong.gov.vn"
    service.runtime.settings = service.runtime.settings.model_copy(update={"public_base_url": public + "/"})

    html = (await service.http.get(f"/certificates/{number}/print", headers=service.token("viewer"))).text
    dcc = (await service.http.get(f"/certificates/{number}/dcc.json", headers=service.token("viewer"))).json()

    check = f"{public}/public/certificates/check?qr="
    assert check in html and "http://verification/" not in html
    url = dcc["digitalCalibrationCertificate"]["administrativeData"]["statements"]["statement"][0]["check"]["url"]
    assert url.startswith(check)


async def test_the_qr_image_alone_is_an_svg_document(service):
    number = (await issued(service))["certificate_number"]
    image = await service.http.get(f"/certificates/{number}/qr.svg", headers=service.token("province-admin"))
    assert image.status_code == 200 and image.headers["content-type"] == "image/svg+xml"
    assert image.content.startswith(b"<?xml") and b"<svg" in image.content


async def test_another_enterprise_gets_no_document_of_a_certificate(service):
    number = (await issued(service))["certificate_number"]
    other = service.token("enterprise", enterprise_id="ent-2")
    for path in ("dcc.json", "print", "qr.svg"):
        response = await service.http.get(f"/certificates/{number}/{path}", headers=other)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
    owner = service.token("enterprise", enterprise_id=OWNER)
    assert (await service.http.get(f"/certificates/{number}/dcc.json", headers=owner)).status_code == 200
