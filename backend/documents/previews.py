"""Thumbnails (缩略图): an image scaled down, or the first page of a PDF rendered with pdfium, as PNG.

The bytes were checked on upload (sniffing.py: pixel budget, complete decode), so decoding here is bounded.
Rendering runs in a worker thread.
"""

from __future__ import annotations

import io

import anyio.to_thread
import pypdfium2
from PIL import Image

MAX_PREVIEW_WIDTH = 1024


def _pdf_first_page(data: bytes, width: int) -> Image.Image:
    pdf = pypdfium2.PdfDocument(data)
    try:
        page = pdf[0]
        page_width = page.get_width() or 1
        bitmap = page.render(scale=width / page_width)
        image = bitmap.to_pil()
        page.close()
        return image
    finally:
        pdf.close()


def _render(data: bytes, media_type: str, width: int) -> bytes:
    if media_type == "application/pdf":
        image = _pdf_first_page(data, width)
    else:
        with Image.open(io.BytesIO(data)) as opened:
            opened.seek(0)
            image = opened.convert("RGB")
    image.thumbnail((width, width * 2))
    output = io.BytesIO()
    image.convert("RGB").save(output, format="PNG", optimize=True)
    return output.getvalue()


async def render_preview(data: bytes, media_type: str, *, width: int) -> bytes:
    """A PNG at most `width` pixels wide of the image or the PDF's first page."""
    width = max(32, min(width, MAX_PREVIEW_WIDTH))
    return await anyio.to_thread.run_sync(_render, data, media_type, width)
