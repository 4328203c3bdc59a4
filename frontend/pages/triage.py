"""Department notification triage (部门通报核实): the township's triage cases, each with the notification as the
department sent it and the persons it matched; verify, accept into the registry, or reject with a reason.
Same services and checks as /api/v1/intake/triages."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.errors import DomainError
from backend.db.session import SessionDep
from backend.db.tenancy import current_tenant_id
from backend.intake import service
from backend.intake.auth import TriageRead, TriageWrite
from backend.intake.schemas import TriageDecision
from backend.models import Case, IntakeTriage
from frontend.forms import field_errors
from frontend.pages.common import page_count, page_number
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
PERSON_KEYS = ("person", "mother", "wife", "husband", "father")


async def _triage_cases(
    session: AsyncSession, roots: list[str], *, open_only: bool, page: int
) -> tuple[list[tuple[IntakeTriage, Case]], int]:
    """One page of the triage cases of the units under `roots`, newest first, and how many there are in all
    (a read helper: the cases' own reach rules)."""
    if not roots:
        return [], 0
    condition = and_(
        IntakeTriage.tenant_id == current_tenant_id(session),
        or_(*[Case.org_unit_code.startswith(root) for root in roots]),
    )
    if open_only:
        condition = and_(condition, IntakeTriage.decision.is_(None))
    joined = select(IntakeTriage, Case).join(Case, Case.id == IntakeTriage.case_id).where(condition)
    total = (
        await session.execute(
            select(func.count()).select_from(IntakeTriage).join(Case, Case.id == IntakeTriage.case_id).where(condition)
        )
    ).scalar_one()
    statement = (
        joined.order_by(IntakeTriage.created_at.desc(), IntakeTriage.case_id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return [(triage, case) for triage, case in (await session.execute(statement)).all()], int(total)


def _subjects(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(key, payload[key]) for key in PERSON_KEYS if isinstance(payload.get(key), dict)]


async def _page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    failed_id: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    show = request.query_params.get("show", "open")
    if show not in ("open", "all"):
        show = "open"
    page = page_number(request.query_params.get("page"))
    rows, total = await _triage_cases(
        session, principal.scopes_for(Action.case_read), open_only=show != "all", page=page
    )
    items = []
    for triage, case in rows:
        payload = service.decrypt_payload(triage.payload_encrypted)
        items.append(
            {
                "triage": triage,
                "case": case,
                "payload": payload,
                "subjects": _subjects(payload),
                "can_write": principal.can(Action.case_write, case.org_unit_code),
            }
        )
    return render(
        request,
        "triage/list.html",
        {
            "items": items,
            "show": show,
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "params": {"show": show},
            "errors": errors or {},
            "failed_id": failed_id,
        },
        status_code=status_code,
    )


@router.get("/triage", response_class=HTMLResponse)
async def triage_list(request: Request, session: SessionDep, principal: TriageRead) -> HTMLResponse:
    return await _page(request, session, principal)


async def _decided(
    request: Request, session: AsyncSession, principal: Principal, case_id: uuid.UUID, action: str, reason: str
) -> Response:
    try:
        async with session.begin_nested():
            if action == "verify":
                await service.verify(session, principal, case_id)
            elif action == "accept":
                await service.accept(session, principal, case_id)
            else:
                await service.reject(session, principal, case_id, reason)
    except DomainError as error:
        if error.status_code == 404:
            raise
        return await _page(
            request, session, principal, errors=field_errors(error), failed_id=str(case_id), status_code=422
        )
    # Back to the list as it was (range and page), with the outcome.
    kept = {key: value for key, value in request.query_params.items() if key in ("show", "page")}
    return RedirectResponse(f"/triage?{urlencode({**kept, 'done': action})}", status_code=303)


@router.post("/triage/{case_id}/verify", response_class=HTMLResponse)
async def verify(request: Request, session: SessionDep, principal: TriageWrite, case_id: uuid.UUID) -> Response:
    return await _decided(request, session, principal, case_id, "verify", "")


@router.post("/triage/{case_id}/accept", response_class=HTMLResponse)
async def accept(request: Request, session: SessionDep, principal: TriageWrite, case_id: uuid.UUID) -> Response:
    return await _decided(request, session, principal, case_id, "accept", "")


@router.post("/triage/{case_id}/reject", response_class=HTMLResponse)
async def reject(
    request: Request,
    session: SessionDep,
    principal: TriageWrite,
    case_id: uuid.UUID,
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        body = TriageDecision.model_validate({"reason": reason.strip()})
    except ValidationError:
        body = TriageDecision(reason=None)
    if not body.reason:
        await service.read_triage(session, principal, case_id)  # 404 outside reach, before the form error
        errors = {"reason": "退回须写明理由 / a reason is required"}
        return await _page(request, session, principal, errors=errors, failed_id=str(case_id), status_code=422)
    return await _decided(request, session, principal, case_id, "reject", body.reason)
