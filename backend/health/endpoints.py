"""Liveness, readiness and metrics. Unauthenticated by design (see the explicit list in the route test)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backend.core.temporal import temporal_client

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

READINESS_TIMEOUT_SECONDS = 3.0


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _database_ready(request: Request) -> None:
    await request.app.state.database.ping()


async def _temporal_ready(request: Request) -> None:
    client = await temporal_client(request)
    if client is None or not await client.service_client.check_health():
        raise RuntimeError("Temporal unreachable or not serving")


@router.get("/readyz", summary="The database and Temporal are reachable")
async def readyz(request: Request) -> Response:
    checks: dict[str, Any] = {}
    for name, check in (("database", _database_ready), ("temporal", _temporal_ready)):
        try:
            await asyncio.wait_for(check(request), READINESS_TIMEOUT_SECONDS)
            checks[name] = "ok"
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log, not the body
            log.warning("readiness check failed", extra={"check": name, "reason": repr(exc)})
            checks[name] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
