"""Thumbnails (缩略图): an image scaled down, or the first page of a PDF rendered with pdfium, as PNG.

The bytes were checked on upload (sniffing.py: pixel budget, complete decode; pdf_structure.py: no active
content), and a preview is a re-rendering anyway: a raster image, which carries nothing of the PDF (no script,
no form, no attachment) to the browser. What is left is pdfium parsing someone's file, so the rendering runs in a
child process with a memory ceiling and a deadline (backend/core/isolation.py), like the structure check: a file
built to crash or exhaust pdfium costs its preview, not the API process. Downloads still give the file as it was
received (its SHA-256 is the record), served with `Content-Security-Policy: sandbox`.
"""

from __future__ import annotations

import io

import anyio.to_thread
from PIL import Image

from backend.core.isolation import IsolatedRunner, IsolatedWorkFailed
from backend.documents.errors import PreviewUnavailable

MAX_PREVIEW_WIDTH = 1024
RENDER_MEMORY_BYTES = 768 * 1024 * 1024
RENDER_TIMEOUT_SECONDS = 20.0

_runner = IsolatedRunner(RENDER_MEMORY_BYTES)


def _pdf_first_page(data: bytes, width: int) -> Image.Image:
    try:
        import pypdfium2  # in the rendering child only: the API process never loads pdfium
    except OSError as failure:
        # Under the child's memory ceiling the library itself may not map ("failed to map segment"): that is the
        # child running out of memory, and it is reported as such (a preview unavailable, not a server error).
        raise MemoryError(str(failure)) from None

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
    try:
        return await anyio.to_thread.run_sync(_isolated_render, data, media_type, width)
    except IsolatedWorkFailed:
        raise PreviewUnavailable() from None


def _isolated_render(data: bytes, media_type: str, width: int) -> bytes:
    return _runner.run(_render, data, media_type, width, timeout=RENDER_TIMEOUT_SECONDS)
