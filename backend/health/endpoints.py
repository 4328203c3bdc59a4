"""Liveness, readiness and metrics. Liveness and readiness are unauthenticated by design (see the explicit list
in the route test); /metrics wants the METRICS_TOKEN bearer token when one is set."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from backend.config import Environment, Settings
from backend.core.metrics import READINESS_FAILURES, READY
from backend.core.temporal import temporal_client

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"], generate_unique_id_function=lambda route: route.name)

READINESS_TIMEOUT_SECONDS = 3.0


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    """`status` is ok when every check is; `checks` names each dependency (database, temporal) and its state."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, Literal["ok", "unavailable"]]


@router.get("/healthz", response_model=Liveness, summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _database_ready(request: Request) -> None:
    await request.app.state.database.ping()


async def _temporal_ready(request: Request) -> None:
    client = await temporal_client(request)
    if client is None or not await client.service_client.check_health():
        raise RuntimeError("Temporal unreachable or not serving")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency is unreachable"}},
    summary="The database and Temporal are reachable",
)
async def readyz(request: Request) -> Response:
    checks: dict[str, Any] = {}
    for name, check in (("database", _database_ready), ("temporal", _temporal_ready)):
        try:
            await asyncio.wait_for(check(request), READINESS_TIMEOUT_SECONDS)
            checks[name] = "ok"
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log, not the body
            log.warning("readiness check failed", extra={"check": name, "reason": repr(exc)})
            READINESS_FAILURES.labels(name).inc()
            checks[name] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    READY.set(1 if ready else 0)
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


def metrics_allowed(settings: Settings, authorization: str) -> bool | None:
    """True: serve; False: 401 (a token is set and this is not it); None: 404 (production without a token:
    the process's metrics are not published to whoever reaches the api port)."""
    if settings.metrics_token:
        presented = authorization.removeprefix("Bearer ").strip() if authorization.startswith("Bearer ") else ""
        return hmac.compare_digest(presented.encode(), settings.metrics_token.encode())
    return None if settings.environment == Environment.production else True


# Prometheus text for the operator's scraper (docs/operations.md), not an integrator's API: not in the OpenAPI document.
@router.get("/metrics", summary="Prometheus metrics (bearer METRICS_TOKEN)", include_in_schema=False)
async def metrics(request: Request) -> Response:
    allowed = metrics_allowed(request.app.state.settings, request.headers.get("authorization", ""))
    if allowed is None:
        return Response(status_code=404)
    if not allowed:
        return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
