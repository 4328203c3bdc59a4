"""Auditor pages: the county's audit events with filters (who, what, when, which record), each action by its name
and each record linked to its page, and the audit-chain verification (same service as POST /api/v1/audit/verify).
Case timelines are on the case page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from backend.audit import service
from backend.audit.auth import AuditRead
from backend.audit.repository import AuditRepository
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import start_of_day
from backend.db.session import SessionDep
from frontend.pages.common import page_number, unit_names, users_by_id
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
# The areas of actions an auditor filters by (an action's prefix), and the kinds of records.
AREAS: tuple[str, ...] = ("case.", "person.", "certificate.", "document.", "verification.", "intake.", "agreement.")
AREAS += ("user.", "role_grant.", "api_client.", "calendar.", "case_type.", "register.", "break_glass.")
ENTITY_TYPES: tuple[str, ...] = ("case", "person", "certificate", "issued_document", "document", "agreement")
ENTITY_TYPES += ("verification_request", "user", "role_grant", "intake_triage", "api_client", "org_unit")
# Where a record of each kind is shown (its id completes the path).
ENTITY_PAGES = {
    "case": "/cases/",
    "person": "/persons/",
    "certificate": "/certificates/",
    "agreement": "/agreements/",
    "user": "/admin/users/",
}


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


async def _page(
    request: Request, session: SessionDep, principal: Principal, verification: object = None
) -> HTMLResponse:
    params = {key: value.strip()[:64] for key, value in request.query_params.items()}
    page = page_number(params.get("page"))
    since, until = _day(params.get("since", "")), _day(params.get("until", ""))
    users = await users_by_id(session, principal, Action.audit_read)
    actor = params.get("who", "")
    events = await AuditRepository(session).search(
        roots=principal.scopes_for(Action.audit_read),
        entity_type=params.get("entity") if params.get("entity") in ENTITY_TYPES else None,
        entity_id=None,
        correlation_id=params.get("number") or None,
        actor_id=actor if actor in {str(user_id) for user_id in users} else None,
        action=params.get("what") if params.get("what") in AREAS else None,
        since=start_of_day(since) if since else None,
        until=start_of_day(until + timedelta(days=1)) if until else None,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE + 1,  # one more: whether there is a next page
    )
    context: dict[str, Any] = {
        "events": events[:PAGE_SIZE],
        "verification": verification,
        "params": {key: value for key, value in params.items() if key != "page"},
        "page": page,
        "pages": page + 1 if len(events) > PAGE_SIZE else page,
        "user_options": [
            (str(user.id), f"{user.display_name}（{user.username}）")
            for user in sorted(users.values(), key=lambda user: user.username)
        ],
        "areas": AREAS,
        "entity_types": ENTITY_TYPES,
        "entity_pages": {
            kind: path for kind, path in ENTITY_PAGES.items() if kind != "user" or principal.holds(Action.users_manage)
        },
        "unit_names": await unit_names(session),
    }
    return render(request, "audit/index.html", context)


@router.get("/audit", response_class=HTMLResponse)
async def audit_index(
    request: Request, session: SessionDep, principal: AuditRead, page: Annotated[str, Query(max_length=8)] = "1"
) -> HTMLResponse:
    return await _page(request, session, principal)


@router.post("/audit/verify", response_class=HTMLResponse)
async def audit_verify(request: Request, session: SessionDep, principal: AuditRead) -> HTMLResponse:
    return await _page(request, session, principal, await service.verify_chain(session))
