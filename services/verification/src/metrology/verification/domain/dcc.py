"""A certificate as a machine-readable document: JSON modelled on the content of the PTB Digital Calibration
Certificate (DCC, https://www.ptb.de/dcc/, schema 3.x), element names kept without their XML prefixes.

Two rings of the DCC are filled: `administrativeData` (software, core data, the item, the laboratory, the customer,
statements) and `measurementResults` (method, the measuring equipment with its traceability chain, each measured
value as an SI real with its expanded uncertainty). The XML DCC is the reference; this is its content in JSON, not
a schema-valid DCC.
"""

from __future__ import annotations

from datetime import date
from typing import Any

SCHEMA_VERSION = "3.3.0"  # the DCC version whose content this follows
SOFTWARE = "metrology-verification"
COVERAGE_PROBABILITY = 0.95  # stated for k = 2 only (a normal distribution)
_KIND = {
    "verification": {"vi": "Giấy chứng nhận kiểm định", "en": "Verification certificate"},
    "calibration": {"vi": "Giấy chứng nhận hiệu chuẩn", "en": "Calibration certificate"},
    "testing": {"vi": "Phiếu kết quả thử nghiệm", "en": "Test report"},
}


def title_of(kind: str) -> dict[str, str]:
    return _KIND.get(kind, {"vi": "Giấy chứng nhận", "en": "Certificate"})


def _text(texts: dict[str, str]) -> list[dict[str, str]]:
    return [{"lang": lang, "content": content} for lang, content in texts.items()]


def _day(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def dcc_document(
    certificate: dict[str, Any], *, country: str, check_url: str, type_name: dict[str, str] | None = None
) -> dict[str, Any]:
    """The DCC content of a certificate row (`certificates` with its status), for `country` (ISO 3166-1)."""
    return {
        "digitalCalibrationCertificate": {
            "schemaVersion": SCHEMA_VERSION,
            "administrativeData": _administrative_data(certificate, country, check_url, type_name),
            "measurementResults": {"measurementResult": [_measurement_result(certificate)]},
        }
    }


def _administrative_data(
    c: dict[str, Any], country: str, check_url: str, type_name: dict[str, str] | None
) -> dict[str, Any]:
    item_name = type_name or {"vi": c.get("type_code") or c["subject"], "en": c.get("type_code") or c["subject"]}
    identifications = [{"issuer": "owner", "value": c["serial"], "name": _text({"en": "serial number"})}]
    identifications = identifications if c.get("serial") else []
    identifications.append({"issuer": "other", "value": c["subject_id"], "name": _text({"en": "registry id"})})
    return {
        "dccSoftware": {"software": [{"name": _text({"en": SOFTWARE}), "release": "1"}]},
        "coreData": {
            "countryCodeISO3166_1": country,
            "usedLangCodeISO639_1": ["vi", "en"],
            "mandatoryLangCodeISO639_1": ["vi"],
            "uniqueIdentifier": c["number"],
            "identifications": {
                "identification": [
                    {"issuer": "calibrationLaboratory", "value": c["sticker_serial"], "name": _text({"en": "sticker"})}
                ]
            },
            "beginPerformanceDate": _day(c["performed_on"]),
            "endPerformanceDate": _day(c["performed_on"]),
            "performanceLocation": "laboratory",
        },
        "items": {
            "item": [
                {
                    "name": _text(item_name),
                    "typeCode": c.get("type_code"),
                    "identifications": {"identification": identifications},
                }
            ]
        },
        "calibrationLaboratory": {"contact": {"name": _text({"vi": c["provider_name"]}), "id": c["provider_id"]}},
        "customer": {"id": c.get("owner_enterprise_id")},
        "statements": {
            "statement": [
                {
                    "name": _text(title_of(c["kind"])),
                    "validUntil": _day(c.get("valid_until")),
                    "status": c.get("status"),
                    "revokedOn": _day(c.get("revoked_on")),
                    "check": {"url": check_url, "qrPayload": c["qr_payload"]},
                }
            ]
        },
    }


def _expanded(m: dict[str, Any]) -> dict[str, Any]:
    k = m.get("coverage_factor", 2.0)
    unc = {"uncertainty": m["expanded_uncertainty"], "coverageFactor": k}
    return unc | ({"coverageProbability": COVERAGE_PROBABILITY} if k == 2.0 else {})


def _measurement_result(c: dict[str, Any]) -> dict[str, Any]:
    chain = c.get("traceability") or []
    return {
        "name": _text(title_of(c["kind"])),
        "usedMethods": {"usedMethod": [{"name": _text({"vi": c["procedure"]}), "norm": c["procedure"]}]},
        "measuringEquipments": {
            "measuringEquipment": [
                {
                    "name": _text({"vi": link.get("name") or link["standard_id"]}),
                    "identifications": {"identification": [{"issuer": "owner", "value": link["standard_id"]}]},
                    "level": link["level"],
                    "certificate": {
                        "referral": link.get("certificate_number"),
                        "calibratedOn": link["calibrated_on"],
                        "dueOn": link["due_on"],
                    },
                    "calibratedAgainst": link.get("calibrated_against"),
                    "nationalStandard": link.get("national_standard"),
                }
                for link in chain
            ]
        },
        "results": {
            "result": [
                {
                    "name": _text({"en": m["quantity"]}),
                    "data": {
                        "quantity": [
                            {"name": _text({"en": "nominal"}), "real": {"value": m["nominal"], "unit": m["unit"]}},
                            {
                                "name": _text({"en": "measured"}),
                                "real": {
                                    "value": m["measured"],
                                    "unit": m["unit"],
                                    "expandedUnc": _expanded(m),
                                },
                            },
                        ]
                    },
                }
                for m in c.get("measurements") or []
            ]
        },
    }
