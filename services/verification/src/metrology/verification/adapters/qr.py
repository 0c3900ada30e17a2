"""QR images of a certificate's public check, drawn by segno (ISO/IEC 18004)."""

from __future__ import annotations

import io

import segno


def qr_svg(text: str, *, scale: int = 4, title: str | None = None) -> str:
    """An inline SVG element encoding `text` (error correction M: a worn sticker still reads)."""
    return str(segno.make(text, error="m").svg_inline(scale=scale, title=title))


def qr_svg_document(text: str, *, scale: int = 4) -> bytes:
    """A standalone SVG document encoding `text`."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=scale, xmldecl=True)
    return out.getvalue()
