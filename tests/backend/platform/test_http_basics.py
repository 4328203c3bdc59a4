"""HTTP basics: one error shape, no 500 for bad input, request ids, health, readiness and metrics."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from backend.config import Settings
from backend.main import create_app


class TestErrorBodies:
    @pytest.mark.parametrize(
        ("body", "status", "error"),
        [
            (b'{"code": "330106", "name": ', 400, "MALFORMED_JSON"),
            (b'{"code": 330106, "name": "x"}', 422, "INVALID_INPUT"),
            (b'{"code": "330106", "name": "x", "admin": true}', 422, "INVALID_INPUT"),
            (b'{"code": "3301", "name": "x"}', 422, "INVALID_INPUT"),
            (b'{"name": "x"}', 422, "INVALID_INPUT"),
            (b"[]", 422, "INVALID_INPUT"),
            (b"\xff\xfe", 400, "MALFORMED_JSON"),
        ],
        ids=["malformed", "wrong-type", "unknown-field", "pattern", "missing", "not-object", "not-utf8"],
    )
    async def test_bad_input_is_a_4xx_with_the_error_body(
        self, api: httpx.AsyncClient, platform_headers: dict[str, str], body: bytes, status: int, error: str
    ) -> None:
        response = await api.post(
            "/api/v1/platform/tenants", content=body, headers={**platform_headers, "Content-Type": "application/json"}
        )
        assert response.status_code == status, response.text
        payload = response.json()
        assert set(payload) == {"error", "detail", "fields"}
        assert payload["error"] == error
        assert "/" in payload["detail"]  # Chinese / English

    async def test_unknown_field_is_named(self, api: httpx.AsyncClient, platform_headers: dict[str, str]) -> None:
        response = await api.post(
            "/api/v1/platform/tenants", json={"code": "330106", "name": "x", "admin": True}, headers=platform_headers
        )
        assert response.json()["fields"] == [{"loc": ["body", "admin"], "msg": "不允许的字段 / unknown field"}]

    async def test_missing_or_wrong_credentials_are_401(self, api: httpx.AsyncClient) -> None:
        body = {"code": "330106", "name": "x"}
        missing = await api.post("/api/v1/platform/tenants", json=body)
        assert (missing.status_code, missing.json()["error"]) == (401, "UNAUTHORIZED")
        wrong = await api.post("/api/v1/platform/tenants", json=body, headers={"Authorization": "Bearer wrong"})
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_token")
        assert wrong.headers["www-authenticate"].startswith("Bearer")

    async def test_duplicate_tenant_is_a_409(
        self, api: httpx.AsyncClient, platform_headers: dict[str, str], tenant_factory
    ) -> None:  # type: ignore[no-untyped-def]
        tenant = await tenant_factory()
        response = await api.post(
            "/api/v1/platform/tenants", json={"code": tenant.code, "name": "x"}, headers=platform_headers
        )
        assert response.status_code == 409
        assert response.json()["error"] == "TENANT_EXISTS"

    async def test_unknown_api_path_is_json_404(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/api/v1/nothing-here", headers={"Accept": "text/html"})
        assert response.status_code == 404
        assert response.json()["error"] == "NOT_FOUND"

    async def test_browser_gets_a_page_without_internals(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/no-such-page", headers={"Accept": "text/html"})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "页面不存在或您无权查看" in response.text

    async def test_unexpected_error_is_a_500_without_trace(self, settings: Settings) -> None:
        application = create_app(settings)

        @application.get("/boom")
        async def boom() -> None:
            raise RuntimeError("secret internals")

        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get("/boom")
        assert response.status_code == 500
        assert response.json()["error"] == "INTERNAL_ERROR"
        assert "secret internals" not in response.text
        assert response.headers["x-request-id"]


class TestRequestIds:
    async def test_every_response_has_a_request_id(self, api: httpx.AsyncClient) -> None:
        first, second = await api.get("/healthz"), await api.get("/healthz")
        assert first.headers["x-request-id"] != second.headers["x-request-id"]

    async def test_a_safe_caller_id_is_kept_and_an_unsafe_one_replaced(self, api: httpx.AsyncClient) -> None:
        kept = await api.get("/healthz", headers={"X-Request-Id": "gateway-abc12345"})
        assert kept.headers["x-request-id"] == "gateway-abc12345"
        replaced = await api.get("/healthz", headers={"X-Request-Id": "evil\nline"})
        assert replaced.headers["x-request-id"] != "evil\nline"
        assert len(replaced.headers["x-request-id"]) == 32

    async def test_log_lines_are_json_with_the_request_id(self, api: httpx.AsyncClient) -> None:
        import io
        import json
        import logging

        from backend.core.logging import JsonFormatter

        buffer = io.StringIO()
        handler = logging.StreamHandler(buffer)
        handler.setFormatter(JsonFormatter())
        access_log = logging.getLogger("liuguan.access")
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        try:
            await api.get("/healthz", headers={"X-Request-Id": "trace-0000000001"})
        finally:
            access_log.removeHandler(handler)
            access_log.setLevel(logging.NOTSET)
        line = json.loads(buffer.getvalue().splitlines()[-1])
        assert (line["request_id"], line["status"], line["level"]) == ("trace-0000000001", 200, "INFO")


class TestHealth:
    async def test_healthz(self, api: httpx.AsyncClient) -> None:
        assert (await api.get("/healthz")).json() == {"status": "ok"}

    async def test_readyz_checks_database_and_temporal(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/readyz")
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "ok", "temporal": "ok"}

    async def test_readyz_reports_unreachable_temporal(self, settings: Settings) -> None:
        from backend.devservices.temporal import free_port

        application: FastAPI = create_app(settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"}))
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"] == {"database": "ok", "temporal": "unavailable"}

    async def test_metrics_time_requests_by_route_template_in_a_conventional_histogram(
        self, api: httpx.AsyncClient, platform_headers: dict[str, str]
    ) -> None:
        await api.get("/api/v1/platform/tenants/999999/org-units", headers=platform_headers)
        text = (await api.get("/metrics")).text
        labels = (
            'http_request_method="GET",http_response_status_code="404",'
            'http_route="/api/v1/platform/tenants/{code}/org-units"'
        )
        assert f"http_server_request_duration_seconds_bucket{{{labels},le=" in text
        assert f"http_server_request_duration_seconds_count{{{labels}}}" in text
        assert "tenants/999999" not in text  # the raw path never becomes a label
