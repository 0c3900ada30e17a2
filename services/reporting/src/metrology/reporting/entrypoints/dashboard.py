"""The web dashboard: one page and its assets, shipped with the service (no CDN, works offline)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from metrology.eventkit.errors import NotFoundError

router = APIRouter(tags=["dashboard"])

ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "uplot.min.js": "text/javascript; charset=utf-8",
    "uplot.min.css": "text/css; charset=utf-8",
    "uplot.LICENSE": "text/plain; charset=utf-8",
}


def _static(name: str) -> bytes:
    return resources.files("metrology.reporting").joinpath(f"static/{name}").read_bytes()


@router.get("/", response_class=HTMLResponse, summary="The dashboard (Vietnamese by default, English by switch)")
async def index() -> HTMLResponse:
    return HTMLResponse(_static("index.html"))


@router.get("/static/{name}", summary="Dashboard assets", response_class=Response)
async def asset(name: str) -> Response:
    if name not in ASSETS:
        raise NotFoundError(f"no asset '{name}'", field="name")
    return Response(_static(name), media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=3600"})
