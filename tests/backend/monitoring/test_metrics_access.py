"""The api's /metrics answers only to the METRICS_TOKEN bearer token when one is set, and not at all in
production without one; readiness is published as a gauge and a failure counter per dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from backend.config import Environment, Settings
from backend.devservices.temporal import free_port
from backend.health.endpoints import metrics_allowed
from backend.main import create_app

TOKEN = "m" * 40


@pytest.fixture
async def guarded(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a metrics token and an unreachable Temporal (so /readyz fails on it)."""
    app: FastAPI = create_app(
        settings.model_copy(update={"metrics_token": TOKEN, "temporal_address": f"127.0.0.1:{free_port()}"})
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


async def test_metrics_want_the_token(guarded: httpx.AsyncClient) -> None:
    assert (await guarded.get("/metrics")).status_code == 401
    assert (await guarded.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
    answer = await guarded.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert "http_server_request_duration_seconds" in answer.text


async def test_readiness_is_published_as_a_gauge_and_failures_per_dependency(guarded: httpx.AsyncClient) -> None:
    assert (await guarded.get("/readyz")).status_code == 503
    text = (await guarded.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    assert "liuguan_ready 0.0" in text
    assert 'liuguan_readiness_check_failures_total{check="temporal"}' in text


@pytest.mark.parametrize(
    ("environment", "token", "authorization", "expected"),
    [
        (Environment.production, "", "", None),
        (Environment.production, "", f"Bearer {TOKEN}", None),
        (Environment.production, TOKEN, f"Bearer {TOKEN}", True),
        (Environment.production, TOKEN, f"Basic {TOKEN}", False),
        (Environment.development, "", "", True),
        (Environment.test, TOKEN, "", False),
    ],
)
def test_who_may_read_metrics(environment: Environment, token: str, authorization: str, expected: bool | None) -> None:
    settings = Settings.model_construct(environment=environment, metrics_token=token)
    assert metrics_allowed(settings, authorization) is expected
