"""Uploads (issue #16, item 1; the structure check and its pypdf oracle are tests/backend/documents/
test_pdf_structure.py): the checks run off the event loop, so one slow file does not stall everyone; previews are
rendered in a memory-capped child process, so a file that breaks pdfium costs its preview, not the API."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

from backend.core.isolation import IsolatedRunner
from backend.documents import previews, storing
from backend.documents.sniffing import sniff_upload
from tests.backend.documents.test_sniffing import handmade_pdf
from tests.security.conftest import Probe


class SlowCheck:
    """The upload check held until the test lets it go, as a PDF that takes seconds to parse would hold it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, data: bytes, *, max_bytes: int) -> object:
        self.started.set()
        self.release.wait(timeout=60)
        return sniff_upload(data, max_bytes=max_bytes)


@pytest.fixture
def slow_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowCheck]:
    check = SlowCheck()
    monkeypatch.setattr(storing, "sniff_upload", check)
    yield check
    check.release.set()


async def test_a_slow_upload_check_does_not_hold_up_other_requests(
    officer: httpx.AsyncClient, probe: Probe, slow_check: SlowCheck
) -> None:
    upload = asyncio.create_task(
        officer.post(
            "/api/v1/documents",
            data={"owner_kind": "case", "owner_id": probe.case["id"], "kind": "other"},
            files={"file": ("scan.pdf", handmade_pdf(), "application/pdf")},
        )
    )
    await asyncio.to_thread(slow_check.started.wait, 60)
    # While the check is held, the API still answers: the check is not running on the event loop.
    other = await officer.get(f"/api/v1/cases/{probe.case['id']}")
    assert other.status_code == 200
    assert not upload.done()
    slow_check.release.set()
    response = await upload
    assert response.status_code == 201, response.text


@pytest.fixture
def starved_renderer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A renderer whose child runs out of memory (here at once: 32 MiB does not even hold pdfium and Pillow),
    as one rendering a file built to exhaust pdfium would."""
    runner = IsolatedRunner(memory_bytes=32 * 1024 * 1024)
    monkeypatch.setattr(previews, "_runner", runner)
    yield
    runner.close()


async def test_a_preview_that_breaks_its_renderer_is_refused_and_the_api_keeps_serving(
    officer: httpx.AsyncClient, probe: Probe, starved_renderer: None
) -> None:
    uploaded = await officer.post(
        "/api/v1/documents",
        data={"owner_kind": "case", "owner_id": probe.case["id"], "kind": "other"},
        files={"file": ("scan.pdf", handmade_pdf(), "application/pdf")},
    )
    assert uploaded.status_code == 201, uploaded.text
    preview = await officer.get(f"/api/v1/documents/{uploaded.json()['id']}/preview")
    assert preview.status_code == 422, preview.text
    assert preview.json()["error"] == "PREVIEW_UNAVAILABLE"
    assert (await officer.get("/api/v1/auth/me")).status_code == 200
