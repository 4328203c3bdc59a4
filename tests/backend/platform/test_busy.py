"""Overload is answered, not failed: a request that waits longer than the pool's timeout for a database connection
gets 503 with Retry-After (in both languages) instead of a 500, and the service answers normally once connections
are free again."""

from __future__ import annotations

import httpx

from backend.config import Settings
from backend.main import create_app

SIGN_IN = {"tenant_code": "330106", "username": "nobody", "password": "not-a-password"}


async def test_a_request_finding_no_free_connection_is_answered_busy(settings: Settings) -> None:
    busy = settings.model_copy(update={"database_pool_size": 1, "database_pool_timeout_seconds": 0.2})
    app = create_app(busy)
    async with app.router.lifespan_context(app):
        engine = app.state.database.engine
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            held = [await engine.connect() for _ in range(2)]  # the pool's one connection and its one overflow
            try:
                response = await client.post("/api/v1/auth/session", json=SIGN_IN)
            finally:
                for connection in held:
                    await connection.close()
            assert response.status_code == 503
            assert response.headers["retry-after"] == "2"
            body = response.json()
            assert body["error"] == "SERVICE_BUSY"
            assert "系统繁忙" in body["detail"] and "busy" in body["detail"]

            again = await client.post("/api/v1/auth/session", json=SIGN_IN)
            assert again.status_code in (401, 404, 422), again.text  # an ordinary answer: not busy, not a 500
        await engine.dispose()
