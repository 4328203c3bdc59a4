"""Cross-county verification pages: the township's inbox (answer or send back with a reason) and outbox, and the
form on the case detail page that sends a request. Same services and checks as /api/v1/verification."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import utc_now
from backend.core.errors import DomainError
from backend.db.engine import Database
from backend.db.session import SessionDep, get_database
from backend.models import VerificationKind, VerificationState
from backend.verification import service
from backend.verification.auth import VerificationAnswer, VerificationSend
from backend.verification.repository import VerificationFilters, VerificationRepository
from backend.verification.schemas import AnswerBody, ReasonBody, VerificationCreate
from frontend.pages.common import field_errors
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
DatabaseDep = Annotated[Database, Depends(get_database)]
PAGE_SIZE = 50


def _state(params: dict[str, str]) -> VerificationState | None:
    value = params.get("state", "pending")
    return VerificationState(value) if value in VerificationState.__members__ else None


async def _inbox_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    failed_id: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    params = dict(request.query_params)
    filters = VerificationFilters(roots=principal.scopes_for(Action.verification_answer), state=_state(params))
    rows, total = await VerificationRepository(session).inbox(filters, offset=0, limit=PAGE_SIZE)
    return render(
        request,
        "verification/inbox.html",
        {
            "rows": rows,
            "total": total,
            "state": params.get("state", "pending"),
            "resident_ids": {row.id: service.subject_resident_id(row) for row in rows},
            "now": utc_now(),
            "errors": errors or {},
            "failed_id": failed_id,
        },
        status_code=status_code,
    )


@router.get("/verification/inbox", response_class=HTMLResponse)
async def inbox(request: Request, session: SessionDep, principal: VerificationAnswer) -> HTMLResponse:
    return await _inbox_page(request, session, principal)


@router.post("/verification/inbox/{request_id}/answer", response_class=HTMLResponse)
async def answer(
    request: Request,
    session: SessionDep,
    principal: VerificationAnswer,
    request_id: uuid.UUID,
    answer: Annotated[str, Form()] = "",
) -> Response:
    row = await service.get_as_responder(session, principal, request_id)
    try:
        body = AnswerBody.model_validate({"answer": answer.strip()})
    except ValidationError:
        errors = {"answer": "请填写反馈内容（至少 2 个字）/ write the answer (2 characters or more)"}
        return await _inbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    try:
        async with session.begin_nested():
            await service.answer(session, row, body)
    except DomainError as error:
        errors = field_errors(error)
        return await _inbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    return RedirectResponse("/verification/inbox?done=answered", status_code=303)


@router.post("/verification/inbox/{request_id}/reject", response_class=HTMLResponse)
async def reject(
    request: Request,
    session: SessionDep,
    principal: VerificationAnswer,
    request_id: uuid.UUID,
    reason: Annotated[str, Form()] = "",
) -> Response:
    row = await service.get_as_responder(session, principal, request_id)
    try:
        body = ReasonBody.model_validate({"reason": reason.strip()})
    except ValidationError:
        errors = {"reason": "退回须写明理由 / a reason is required to send it back"}
        return await _inbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    try:
        async with session.begin_nested():
            await service.reject(session, row, body.reason)
    except DomainError as error:
        errors = field_errors(error)
        return await _inbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    return RedirectResponse("/verification/inbox?done=rejected", status_code=303)


@router.get("/verification/outbox", response_class=HTMLResponse)
async def outbox(request: Request, session: SessionDep, principal: VerificationSend) -> HTMLResponse:
    params = dict(request.query_params)
    state = params.get("state", "")
    filters = VerificationFilters(
        roots=principal.scopes_for(Action.verification_request),
        state=VerificationState(state) if state in VerificationState.__members__ else None,
    )
    rows, total = await VerificationRepository(session).outbox(filters, offset=0, limit=PAGE_SIZE)
    return render(
        request,
        "verification/outbox.html",
        {
            "rows": rows,
            "total": total,
            "state": state,
            "now": utc_now(),
            "can_answer": principal.holds(Action.verification_answer),
        },
    )


@router.post("/cases/{case_id}/verification", response_class=HTMLResponse)
async def send_request(
    request: Request,
    session: SessionDep,
    database: DatabaseDep,
    principal: VerificationSend,
    case_id: uuid.UUID,
    person_id: Annotated[str, Form()] = "",
    question_type: Annotated[str, Form()] = "marital_childbearing",
    question: Annotated[str, Form()] = "",
) -> Response:
    """Send a request (协查) about a subject of the case to the township of her household registration."""
    from frontend.pages.cases import detail_page  # the case page shows the refused form again

    try:
        body = VerificationCreate.model_validate(
            {
                "case_id": case_id,
                "person_id": person_id or None,
                "question_type": question_type,
                "question": question.strip(),
            }
        )
    except ValidationError as invalid:
        errors = {
            f"verification_{error['loc'][0]}": "输入无效 / invalid value" for error in invalid.errors() if error["loc"]
        }
        return await detail_page(request, session, principal, case_id, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            await service.send(session, database, principal, body, VerificationKind.request)
    except DomainError as error:
        errors = {
            key if key == "form" else f"verification_{key}": message for key, message in field_errors(error).items()
        }
        return await detail_page(request, session, principal, case_id, errors=errors, status_code=422)
    return RedirectResponse(f"/cases/{case_id}?verification=sent#verification-title", status_code=303)
