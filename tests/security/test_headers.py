"""Headers and documentation (issue #16): a content security policy without inline scripts, no framing, no
sniffing, no referrer, nothing personal left in caches; /docs and /openapi.json off in production unless the
setting turns them on, and Swagger UI served from the app's own assets."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from backend.config import Environment, Settings
from backend.core.security_headers import CONTENT_SECURITY_POLICY
from backend.main import create_app
from tests.security.conftest import Probe

TEMPLATES = [
    *Path("frontend/templates").rglob("*.html"),
    Path("backend/documents/templates/verify.html"),
]


def _hardened(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_a_page_and_an_api_answer_carry_the_security_headers(api: httpx.AsyncClient) -> None:
    _hardened(await api.get("/login"))
    _hardened(await api.get("/api/v1/auth/me"))  # a 401 as well


async def test_answers_to_a_signed_in_user_are_not_stored(officer: httpx.AsyncClient, probe: Probe) -> None:
    person = probe.person["id"]
    for path in (f"/api/v1/persons/{person}", "/api/v1/persons", "/dashboard", f"/persons/{person}"):
        response = await officer.get(path, headers={"Accept": "text/html" if not path.startswith("/api") else "*/*"})
        assert response.status_code == 200, (path, response.status_code)
        assert response.headers["cache-control"] == "no-store", path
        _hardened(response)
    static = await officer.get("/static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path))
def test_no_template_has_an_inline_script_style_or_handler(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>: move it to frontend/static/"
    assert "<style" not in text, "inline <style>: move it to a stylesheet in frontend/static/"
    assert not re.search(r"\sstyle=", text), "a style attribute: use a class"
    assert not re.search(r"\son[a-z]+=", text), "an inline event handler: use a script file"
    assert "javascript:" not in text


async def test_the_documentation_is_served_from_the_app_itself(api: httpx.AsyncClient) -> None:
    page = await api.get("/docs")
    assert page.status_code == 200
    assert '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"' in page.text
    assert "cdn" not in page.text.lower() and "http" not in page.text.replace("http-equiv", "")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
    _hardened(page)
    assert (await api.get("/openapi.json")).status_code == 200
    assert (await api.get("/redoc")).status_code == 404
    asset = await api.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200, "make assets copies swagger-ui-dist into frontend/static/vendor/"


def _production(**overrides: object) -> FastAPI:
    settings = Settings(
        environment=Environment.production,
        secret_key="s" * 40,
        platform_admin_token="p" * 40,
        data_encryption_key="cHJvZHVjdGlvbi1rZXktb2YtMzItYnl0ZXMtZm9yLXRlc3Q=",
        database_url="postgresql+asyncpg://liuguan_app:not-the-dev-one@127.0.0.1/liuguan",
        public_base_url="https://liuguan.example.gov.cn",
        log_json=True,
        log_level="WARNING",
        **overrides,  # type: ignore[arg-type]
    )
    return create_app(settings)


@pytest.mark.parametrize(("overrides", "served"), [({}, False), ({"api_docs": True}, True)])
async def test_production_serves_no_documentation_unless_the_setting_says_so(
    overrides: dict[str, object], served: bool
) -> None:
    transport = httpx.ASGITransport(app=_production(**overrides), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for path in ("/docs", "/openapi.json", "/redoc"):
            expected = 200 if served and path != "/redoc" else 404
            assert (await client.get(path)).status_code == expected, path
