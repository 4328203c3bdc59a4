from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from backend.breakglass import service
from backend.breakglass.auth import Authenticated, BreakGlassRequester
from backend.breakglass.schemas import BreakGlassRead, BreakGlassRequest
from backend.core.clock import utc_now
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.models import BreakGlassGrant

router = APIRouter(prefix=f"{API_V1}/break-glass", tags=["break-glass"])


def _read(grant: BreakGlassGrant) -> BreakGlassRead:
    read = BreakGlassRead.model_validate(grant)
    read.active = grant.revoked_at is None and grant.expires_at > utc_now()
    return read


@router.post(
    "",
    response_model=BreakGlassRead,
    status_code=status.HTTP_201_CREATED,
    summary="Ask for time-boxed read access outside my scope, with a reason",
)
async def request_access(
    request: Request, session: SessionDep, principal: BreakGlassRequester, body: BreakGlassRequest
) -> BreakGlassRead:
    return _read(await service.request_break_glass(session, request.app.state.settings, principal, body))


@router.get("", response_model=list[BreakGlassRead], summary="Active and past grants (all, for reviewers)")
async def list_grants(session: SessionDep, principal: Authenticated) -> list[BreakGlassRead]:
    return [_read(grant) for grant in await service.list_grants(session, principal)]


@router.post("/{grant_id}/revoke", response_model=BreakGlassRead, summary="End a grant early")
async def revoke(session: SessionDep, principal: Authenticated, grant_id: uuid.UUID) -> BreakGlassRead:
    return _read(await service.revoke_grant(session, principal, grant_id))
