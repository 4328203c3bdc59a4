"""Cross-county verification pages: the township's inbox (answer, send back with a reason, claim, record a request
that came by letter, fax or phone from a county not on the platform) and outbox (withdraw, record the answer of
an off-platform county), paged by 50 with the filters kept, and the form on the case detail page that sends a
request. Same services and checks as /api/v1/verification."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import CHINA, utc_now
from backend.core.errors import DomainError
from backend.db.engine import Database
from backend.db.session import SessionDep, get_database
from backend.documents import service as documents
from backend.models import DocumentKind, DocumentOwnerKind, VerificationKind, VerificationState
from backend.org.repository import OrgUnitRepository
from backend.verification import service
from backend.verification.auth import VerificationAnswer, VerificationAssign, VerificationSend
from backend.verification.errors import InvalidVerification
from backend.verification.repository import VerificationFilters, VerificationRepository
from backend.verification.schemas import (
    AnswerBody,
    IncomingCreate,
    ReasonBody,
    RecordedAnswer,
    Reply,
    VerificationCreate,
)
from frontend.forms import field_errors
from frontend.pages.common import page_count, page_number, users_by_id
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
DatabaseDep = Annotated[Database, Depends(get_database)]
PAGE_SIZE = 50
INVALID = "输入无效 / invalid value"
# Channels of a county not on the platform, in the order the forms offer them.
OFF_PLATFORM_CHANNELS = ("registered_mail", "letter", "fax", "phone")


def _state(params: dict[str, str], default: str) -> VerificationState | None:
    value = params.get("state", default)
    return VerificationState(value) if value in VerificationState.__members__ else None


def _list_params(params: dict[str, str]) -> dict[str, str]:
    """The list's own query (filters), without the one-off notices, for the page links."""
    return {key: value for key, value in params.items() if key not in ("done", "page")}


def _china_time(value: str) -> datetime | None:
    """A `datetime-local` field (no zone) is China time."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _validation_errors(invalid: ValidationError, prefix: str = "") -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in invalid.errors():
        names = [str(part) for part in error["loc"]]
        if names:
            errors.setdefault(prefix + ".".join(names), INVALID)
    return errors or {"form": INVALID}


async def _townships(session: AsyncSession, principal: Principal) -> list[tuple[str, str]]:
    """The townships the caller answers for: where an incoming letter can be recorded."""
    units = await OrgUnitRepository(session).list_under_roots(principal.scopes_for(Action.verification_answer))
    return [(unit.code, unit.name) for unit in units if len(unit.code) == 9]


async def _assignee_options(session: AsyncSession, principal: Principal) -> list[tuple[str, str]]:
    """Active users under the units where the caller may assign work (supervisors); the service then refuses
    anyone who cannot answer for the request's township, with a message."""
    if not principal.holds(Action.case_assign):
        return []
    users = await users_by_id(session, principal, Action.case_assign)
    ordered = sorted((user for user in users.values() if user.active), key=lambda user: user.username)
    return [(str(user.id), f"{user.display_name}（{user.username}）") for user in ordered]


async def _inbox_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    failed_id: str | None = None,
    incoming: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    params = dict(request.query_params)
    page = page_number(params.get("page"))
    filters = VerificationFilters(
        roots=principal.scopes_for(Action.verification_answer), state=_state(params, "pending")
    )
    rows, total = await VerificationRepository(session).inbox(filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(
        request,
        "verification/inbox.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "params": _list_params(params),
            "state": params.get("state", "pending"),
            "resident_ids": {row.id: service.subject_resident_id(row) for row in rows},
            "now": utc_now(),
            "me": uuid.UUID(principal.id) if principal.kind == "user" else None,
            "assignable_ids": {row.id for row in rows if principal.can(Action.case_assign, row.responder_unit_code)},
            "assignee_options": await _assignee_options(session, principal),
            "townships": await _townships(session, principal),
            "channels": OFF_PLATFORM_CHANNELS,
            "incoming": incoming or {},
            "incoming_errors": {
                key.removeprefix("incoming_"): message
                for key, message in (errors or {}).items()
                if key.startswith("incoming_")
            },
            "errors": errors or {},
            "failed_id": failed_id,
        },
        status_code=status_code,
    )


@router.get("/verification/inbox", response_class=HTMLResponse)
async def inbox(request: Request, session: SessionDep, principal: VerificationAnswer) -> HTMLResponse:
    return await _inbox_page(request, session, principal)


def _reply(form: dict[str, str]) -> dict[str, Any] | None:
    """The reply fields of an answer to an off-platform county (how it went back), if any were given."""
    if not any(form.get(name) for name in ("reply_channel", "reply_sent_at", "reply_evidence")):
        return None
    return {
        "channel": form.get("reply_channel", ""),
        "sent_at": _china_time(form.get("reply_sent_at", "")),
        "evidence": form.get("reply_evidence", "").strip() or None,
    }


@router.post("/verification/inbox/{request_id}/answer", response_class=HTMLResponse)
async def answer(
    request: Request,
    session: SessionDep,
    principal: VerificationAnswer,
    request_id: uuid.UUID,
    answer: Annotated[str, Form()] = "",
    reply_channel: Annotated[str, Form()] = "",
    reply_sent_at: Annotated[str, Form()] = "",
    reply_evidence: Annotated[str, Form()] = "",
) -> Response:
    row = await service.get_as_responder(session, principal, request_id)
    reply = _reply({"reply_channel": reply_channel, "reply_sent_at": reply_sent_at, "reply_evidence": reply_evidence})
    try:
        body = AnswerBody.model_validate({"answer": answer.strip(), "reply": reply})
    except ValidationError as invalid:
        errors = _validation_errors(invalid)
        if "answer" in errors:
            errors["answer"] = "请填写反馈内容（至少 2 个字）/ write the answer (2 characters or more)"
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
    reply_channel: Annotated[str, Form()] = "",
    reply_sent_at: Annotated[str, Form()] = "",
    reply_evidence: Annotated[str, Form()] = "",
) -> Response:
    row = await service.get_as_responder(session, principal, request_id)
    reply_fields = {"reply_channel": reply_channel, "reply_sent_at": reply_sent_at, "reply_evidence": reply_evidence}
    try:
        body = ReasonBody.model_validate({"reason": reason.strip()})
        raw_reply = _reply(reply_fields)
        reply = Reply.model_validate(raw_reply) if raw_reply is not None else None
    except ValidationError as invalid:
        errors = _validation_errors(invalid, "" if not reason.strip() else "reply.")
        if not reason.strip() or len(reason.strip()) < 2:
            errors = {"reason": "退回须写明理由 / a reason is required to send it back"}
        return await _inbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    try:
        async with session.begin_nested():
            await service.reject(session, row, body.reason, reply)
    except DomainError as error:
        errors = field_errors(error)
        return await _inbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    return RedirectResponse("/verification/inbox?done=rejected", status_code=303)


@router.post("/verification/inbox/{request_id}/claim", response_class=HTMLResponse)
async def claim(
    request: Request, session: SessionDep, principal: VerificationAnswer, request_id: uuid.UUID
) -> Response:
    """Assign an incoming request to myself (认领)."""
    row = await service.get_as_responder(session, principal, request_id)
    try:
        if principal.kind != "user":
            raise InvalidVerification("assignee_id", "只有用户可以认领 / only users claim requests")
        async with session.begin_nested():
            await service.assign(session, principal, row, uuid.UUID(principal.id))
    except DomainError as error:
        errors = field_errors(error)
        errors = {"form": next(iter(errors.values()))}
        return await _inbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    return RedirectResponse("/verification/inbox?done=claimed", status_code=303)


@router.post("/verification/inbox/{request_id}/assign", response_class=HTMLResponse)
async def assign(
    request: Request,
    session: SessionDep,
    principal: VerificationAssign,
    request_id: uuid.UUID,
    assignee_id: Annotated[str, Form()] = "",
) -> Response:
    """Give an incoming request to an officer of the township (指派), or back to its queue (empty choice)."""
    row = await service.get_as_responder(session, principal, request_id)
    if not principal.can(Action.case_assign, row.responder_unit_code):
        raise service.VerificationNotFound()
    try:
        try:
            assignee = uuid.UUID(assignee_id) if assignee_id else None
        except ValueError:
            raise InvalidVerification("assignee_id", "请选择办理人 / choose an officer") from None
        async with session.begin_nested():
            await service.assign(session, principal, row, assignee)
    except DomainError as error:
        errors = {"assign": next(iter(field_errors(error).values()))}
        return await _inbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    return RedirectResponse("/verification/inbox?done=assigned", status_code=303)


@router.post("/verification/incoming", response_class=HTMLResponse)
async def record_incoming(
    request: Request, session: SessionDep, database: DatabaseDep, principal: VerificationAnswer
) -> Response:
    """Record a request that came by letter, registered mail, fax or phone from a county not on the platform,
    with the scan of the letter or fax uploaded in the same form."""
    form = await request.form()
    values = {name: str(value).strip() for name, value in form.items() if isinstance(value, str)}
    upload = form.get("evidence_file")
    has_file = isinstance(upload, UploadFile) and bool(upload.filename)
    request_id = uuid.uuid4()
    raw = {
        "id": request_id,
        "responder_unit_code": values.get("responder_unit_code", ""),
        "requester_unit_name": values.get("requester_unit_name", ""),
        "requester_division_code": values.get("requester_division_code") or None,
        "requester_reference": values.get("requester_reference") or None,
        "subject_name": values.get("subject_name", ""),
        "subject_resident_id": values.get("subject_resident_id") or None,
        "question_type": values.get("question_type") or "marital_childbearing",
        "question": values.get("question", ""),
        "channel": values.get("channel", ""),
        "sent_at": _china_time(values.get("sent_at", "")),
        "arrived_at": _china_time(values.get("arrived_at", "")),
        "evidence": values.get("evidence") or None,
    }
    try:
        body = IncomingCreate.model_validate(raw)
    except ValidationError as invalid:
        errors = {f"incoming_{name}": message for name, message in _validation_errors(invalid).items()}
        return await _inbox_page(request, session, principal, errors=errors, incoming=values, status_code=422)
    try:
        async with session.begin_nested():
            if has_file and isinstance(upload, UploadFile):
                scan = await documents.upload_document(
                    session,
                    principal,
                    owner_kind=DocumentOwnerKind.verification_request,
                    owner_id=request_id,
                    kind=DocumentKind.contact_evidence,
                    file=documents.NewFile(data=await upload.read(), filename=upload.filename or ""),
                    org_unit_code=body.responder_unit_code,
                )
                body = body.model_copy(update={"evidence_document_id": scan.id})
            await service.record_incoming(session, database, principal, body)
    except DomainError as error:
        errors = {
            ("form" if key == "form" else f"incoming_{key}"): message for key, message in field_errors(error).items()
        }
        if "incoming_file" in errors:
            errors["incoming_evidence_document_id"] = errors.pop("incoming_file")
        return await _inbox_page(request, session, principal, errors=errors, incoming=values, status_code=422)
    return RedirectResponse("/verification/inbox?done=recorded", status_code=303)


async def _outbox_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    errors: dict[str, str] | None = None,
    failed_id: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    params = dict(request.query_params)
    page = page_number(params.get("page"))
    state = params.get("state", "")
    filters = VerificationFilters(roots=principal.scopes_for(Action.verification_request), state=_state(params, ""))
    rows, total = await VerificationRepository(session).outbox(filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render(
        request,
        "verification/outbox.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "params": _list_params(params),
            "state": state,
            "now": utc_now(),
            "channels": OFF_PLATFORM_CHANNELS,
            "can_answer": principal.holds(Action.verification_answer),
            "errors": errors or {},
            "failed_id": failed_id,
        },
        status_code=status_code,
    )


@router.get("/verification/outbox", response_class=HTMLResponse)
async def outbox(request: Request, session: SessionDep, principal: VerificationSend) -> HTMLResponse:
    return await _outbox_page(request, session, principal)


@router.post("/verification/outbox/{request_id}/withdraw", response_class=HTMLResponse)
async def withdraw(
    request: Request,
    session: SessionDep,
    principal: VerificationSend,
    request_id: uuid.UUID,
    reason: Annotated[str, Form()] = "",
) -> Response:
    row = await service.get_as_requester(session, principal, request_id)
    try:
        body = ReasonBody.model_validate({"reason": reason.strip()})
    except ValidationError:
        errors = {"withdraw_reason": "撤回须写明理由 / a reason is required to withdraw"}
        return await _outbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    try:
        async with session.begin_nested():
            await service.withdraw(session, row, body.reason)
    except DomainError as error:
        errors = {"form": field_errors(error).get("form", error.detail)}
        return await _outbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    return RedirectResponse("/verification/outbox?done=withdrawn", status_code=303)


@router.post("/verification/outbox/{request_id}/answer", response_class=HTMLResponse)
async def record_answer(
    request: Request,
    session: SessionDep,
    principal: VerificationSend,
    request_id: uuid.UUID,
    answer: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
    arrived_at: Annotated[str, Form()] = "",
) -> Response:
    """Record the answer of an off-platform county to one of our requests, as it arrived by letter, fax or
    phone."""
    row = await service.get_as_requester(session, principal, request_id)
    try:
        body = RecordedAnswer.model_validate(
            {"answer": answer.strip(), "channel": channel, "arrived_at": _china_time(arrived_at)}
        )
    except ValidationError as invalid:
        errors = {f"recorded_{name}": message for name, message in _validation_errors(invalid).items()}
        return await _outbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    try:
        async with session.begin_nested():
            await service.record_answer(session, row, body)
    except DomainError as error:
        errors = {f"recorded_{key}": message for key, message in field_errors(error).items()}
        return await _outbox_page(request, session, principal, errors=errors, failed_id=str(row.id), status_code=422)
    return RedirectResponse("/verification/outbox?done=recorded", status_code=303)


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
