"""A certificate as documents: machine-readable (DCC content in JSON), printable (HTML with the QR image of its
public check) and the QR image alone (SVG)."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from metrology.eventkit.errors import ForbiddenError, NotFoundError
from metrology.refdata.group2 import UnknownInstrumentTypeError, group2
from metrology.servicekit.auth import Principal, Role, require
from metrology.servicekit.runtime import ServiceRuntime
from metrology.verification.adapters.qr import qr_svg, qr_svg_document
from metrology.verification.application import queries
from metrology.verification.domain.dcc import dcc_document, title_of
from metrology.verification.settings import VerificationSettings

router = APIRouter(tags=["certificate documents"])
Reader = Depends(require(Role.PROVINCE_ADMIN, Role.VIEWER, Role.PROVIDER, Role.ENTERPRISE))
COUNTRY = "VN"


def check_url(request: Request, qr_payload: str) -> str:
    """The public check a QR code opens: `GET /public/certificates/check?qr=<signed payload>` (no login), at the
    service's public address (`VERIFICATION_PUBLIC_BASE_URL`) or else the one the request came to."""
    settings = request.app.state.runtime.settings
    configured = settings.public_base_url if isinstance(settings, VerificationSettings) else None
    base = (configured or str(request.base_url)).rstrip("/")
    return f"{base}/public/certificates/check?qr={quote(qr_payload, safe='')}"


@router.get(
    "/certificates/{number}/dcc.json", summary="The certificate as a machine-readable document (PTB DCC content)"
)
async def certificate_dcc(number: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    found = await _certificate(request, principal, number)
    document = dcc_document(
        found, country=COUNTRY, check_url=check_url(request, found["qr_payload"]), type_name=_type_name(found)
    )
    return JSONResponse(document, headers={"Content-Disposition": f'inline; filename="{number}.dcc.json"'})


@router.get(
    "/certificates/{number}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The QR image"}},
    summary="The QR image of the certificate's public check (SVG)",
)
async def certificate_qr(number: str, request: Request, principal: Principal = Reader) -> Response:
    found = await _certificate(request, principal, number)
    return Response(qr_svg_document(check_url(request, found["qr_payload"])), media_type="image/svg+xml")


@router.get(
    "/certificates/{number}/print",
    response_class=HTMLResponse,
    summary="The printable certificate (HTML, Vietnamese and English) with the QR image of its public check",
)
async def certificate_print(number: str, request: Request, principal: Principal = Reader) -> HTMLResponse:
    found = await _certificate(request, principal, number)
    return HTMLResponse(printable(found, check_url(request, found["qr_payload"]), _type_name(found)))


async def _certificate(request: Request, principal: Principal, number: str) -> dict[str, Any]:
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.engine.connect() as connection:
        found = await queries.certificate(connection, number, _scope(principal), date.today())
    if found is None:
        raise NotFoundError(f"no certificate {number}", field="number")
    return found


def _scope(principal: Principal) -> queries.Scope:
    """As for `GET /certificates/{number}`: a provider its own, an enterprise its instruments'."""
    if principal.has_any([Role.PROVINCE_ADMIN, Role.VIEWER]):
        return queries.Scope(principal.tenant)
    if principal.has_any([Role.PROVIDER]) and principal.provider_id:
        return queries.Scope(principal.tenant, provider_id=principal.provider_id)
    if principal.has_any([Role.ENTERPRISE]) and principal.enterprise_id:
        return queries.Scope(principal.tenant, owner_enterprise_id=principal.enterprise_id)
    raise ForbiddenError("this token names no provider_id or enterprise_id to scope the answer", rule="no-scope")


def _type_name(found: dict[str, Any]) -> dict[str, str] | None:
    if found.get("type_code") is None:
        return None
    try:
        row = group2().type_on(found["type_code"], found["performed_on"])
    except UnknownInstrumentTypeError:
        return None
    return {"vi": row.name_vi, "en": row.name_en}


def printable(c: dict[str, Any], url: str, type_name: dict[str, str] | None) -> str:
    """One A4 page: both languages, the measured values, the traceability chain and the QR image."""
    e = escape
    title = title_of(c["kind"])
    rows = [
        ("Số / Number", c["number"]),
        ("Phương tiện đo / Instrument", " / ".join(type_name.values()) if type_name else c.get("type_code") or ""),
        ("Số sản xuất / Serial", c.get("serial") or ""),
        ("Tổ chức thực hiện / Provider", c["provider_name"]),
        ("Quy trình / Procedure", c["procedure"]),
        ("Ngày thực hiện / Performed on", str(c["performed_on"])),
        ("Có giá trị đến / Valid until", str(c["valid_until"] or "—")),
        ("Tem / Sticker", c["sticker_serial"]),
        ("Tình trạng / Status", c["status"]),
    ]
    details = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    measured = "".join(
        f"<tr><td>{e(m['quantity'])}</td><td>{m['nominal']:g} {e(m['unit'])}</td><td>{m['measured']:g} {e(m['unit'])}"
        f"</td><td>± {m['expanded_uncertainty']:g} {e(m['unit'])} (k = {m.get('coverage_factor', 2.0):g})</td></tr>"
        for m in c.get("measurements") or []
    )
    chain = "".join(
        f"<li>{e(link.get('name') or link['standard_id'])} ({e(link['level'])}): "
        f"{e(link.get('certificate_number') or '—')}"
        f", {e(link['calibrated_on'])} → {e(link['due_on'])}"
        + (
            f"; chuẩn quốc gia / national standard: {e(link['national_standard'])}"
            if link.get("national_standard")
            else ""
        )
        + "</li>"
        for link in c.get("traceability") or []
    )
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{e(c["number"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2cm; color: #111; }}
h1 {{ font-size: 1.4rem; margin: 0; }} h2 {{ font-size: 1rem; margin: 1.2em 0 .4em; }}
table {{ border-collapse: collapse; }} th, td {{ text-align: left; padding: 2px 10px 2px 0; vertical-align: top; }}
.qr {{ float: right; text-align: center; font-size: .8rem; }} .url {{ word-break: break-all; font-size: .7rem; }}
@page {{ size: A4; margin: 1.5cm; }}
</style></head>
<body>
<div class="qr">{qr_svg(url, title=c["number"])}<div>Quét để kiểm tra / Scan to check</div></div>
<h1>{e(title["vi"])}</h1><div>{e(title["en"])}</div>
<table class="details">{details}</table>
<h2>Kết quả đo / Measurement results</h2>
<table class="results"><tr><th>Đại lượng / Quantity</th><th>Danh định / Nominal</th><th>Đo được / Measured</th>
<th>Độ không đảm bảo mở rộng / Expanded uncertainty</th></tr>{measured}</table>
<h2>Liên kết chuẩn / Traceability</h2><ol class="traceability">{chain}</ol>
<p class="url">{e(url)}</p>
</body></html>
"""
