"""Department notification triage (部门通报核实): the township's triage cases, each with the notification as the
department sent it and the persons it matched; verify, accept into the registry, or reject with a reason.
Same services and checks as /api/v1/intake/triages; the list comes from the cases' reading side
(backend/cases/views.py), as triage cases are cases of the type `department_notification`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases import views
from backend.db.session import SessionDep
from backend.intake import service
from backend.intake.auth import TriageRead, TriageWrite
from backend.intake.schemas import TriageDecision
from frontend.forms import FieldErrors, Form
from frontend.pages.common import page_count, page_number
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
PERSON_KEYS = ("person", "mother", "wife", "husband", "father")


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
    rows, total = await views.triage_cases(
        session, principal, open_only=show != "all", offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    items = []
    for triage, case in rows:
        # ID numbers in full to those who may read them (each read audited), masked for anyone else.
        payload = await service.payload_shown(session, principal, case, triage)
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
            # A refused decision is shown at its notification (`failed_id`).
            "errors": errors or {},
            "failed_id": failed_id,
            "items": items,
            "show": show,
            "params": {"show": show},
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
        },
        status_code=status_code,
    )


@router.get("/triage", response_class=HTMLResponse)
async def triage_list(request: Request, session: SessionDep, principal: TriageRead) -> HTMLResponse:
    return await _page(request, session, principal)


def _decided(
    request: Request, session: AsyncSession, principal: Principal, case_id: uuid.UUID, action: str
) -> Callable[[Callable[[], Awaitable[Any]]], Awaitable[Response]]:
    """Run a decision on one notification: back to the list as it was (range and page) with the outcome, or the
    list again with the refusal at that notification (a 404 stays a 404)."""

    async def decide(perform: Callable[[], Awaitable[Any]]) -> Response:
        decided = await Form({}).run(session, perform)
        if isinstance(decided, FieldErrors):
            return await _page(request, session, principal, errors=decided, failed_id=str(case_id), status_code=422)
        kept = {key: value for key, value in request.query_params.items() if key in ("show", "page")}
        return RedirectResponse(f"/triage?{urlencode({**kept, 'done': action})}", status_code=303)

    return decide


@router.post("/triage/{case_id}/verify", response_class=HTMLResponse)
async def verify(request: Request, session: SessionDep, principal: TriageWrite, case_id: uuid.UUID) -> Response:
    decide = _decided(request, session, principal, case_id, "verify")
    return await decide(lambda: service.verify(session, principal, case_id))


@router.post("/triage/{case_id}/accept", response_class=HTMLResponse)
async def accept(request: Request, session: SessionDep, principal: TriageWrite, case_id: uuid.UUID) -> Response:
    decide = _decided(request, session, principal, case_id, "accept")
    return await decide(lambda: service.accept(session, principal, case_id))


@router.post("/triage/{case_id}/reject", response_class=HTMLResponse)
async def reject(request: Request, session: SessionDep, principal: TriageWrite, case_id: uuid.UUID) -> Response:
    form = await Form.read(request, ("reason",))
    body = form.parse(TriageDecision)
    if isinstance(body, FieldErrors) or not body.reason:
        await service.read_triage(session, principal, case_id)  # 404 outside reach, before the form error
        errors = {"reason": "退回须写明理由 / a reason is required"}
        return await _page(request, session, principal, errors=errors, failed_id=str(case_id), status_code=422)
    reason = body.reason
    decide = _decided(request, session, principal, case_id, "reject")
    return await decide(lambda: service.reject(session, principal, case_id, reason))
