"""Auditor pages: recent audit events of the county and the audit-chain verification (same service as
POST /api/v1/audit/verify). Case timelines are on the case page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.audit import service
from backend.audit.auth import AuditRead
from backend.audit.repository import AuditRepository
from backend.authz.vocabulary import Action
from backend.db.session import SessionDep
from frontend.rendering import render

router = APIRouter(include_in_schema=False)


async def _page(
    request: Request, session: SessionDep, principal: AuditRead, verification: object = None
) -> HTMLResponse:
    events = await AuditRepository(session).search(
        roots=principal.scopes_for(Action.audit_read), entity_type=None, entity_id=None, correlation_id=None, limit=50
    )
    return render(request, "audit/index.html", {"events": events, "verification": verification})


@router.get("/audit", response_class=HTMLResponse)
async def audit_index(request: Request, session: SessionDep, principal: AuditRead) -> HTMLResponse:
    return await _page(request, session, principal)


@router.post("/audit/verify", response_class=HTMLResponse)
async def audit_verify(request: Request, session: SessionDep, principal: AuditRead) -> HTMLResponse:
    return await _page(request, session, principal, await service.verify_chain(session))
