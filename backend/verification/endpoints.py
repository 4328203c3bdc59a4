"""Cross-county verification: the requester's outbox (send, follow, withdraw, record an off-platform answer),
the responder's inbox (read, claim, assign, answer, reject), alerts, and the two-way assessment's rates."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import StreamingResponse

from backend.audit.exporting import LIST_FORMAT, ListFormat, as_download
from backend.authz.vocabulary import Action
from backend.core.clock import utc_now
from backend.core.input import AnyDate, AnyDateTime, CountyCode
from backend.core.list_filters import AssigneeQuery, UnitQuery
from backend.core.pagination import Page, PageParams, page_params
from backend.core.routing import API_V1
from backend.core.spreadsheets import SPREADSHEET_RESPONSE_TYPES
from backend.db.engine import Database
from backend.db.session import SessionDep, get_database
from backend.models import VerificationKind, VerificationRequest, VerificationState
from backend.verification import exporting, flow_notices, rates, records, service
from backend.verification.auth import VerificationAnswer, VerificationAssign, VerificationSend
from backend.verification.errors import InvalidVerification
from backend.verification.repository import VerificationFilters, VerificationRepository
from backend.verification.schemas import (
    AnswerBody,
    AssignBody,
    FlowNoticeFiled,
    FlowNoticeFiling,
    IncomingCreate,
    RatesReport,
    ReasonBody,
    RecordedAnswer,
    RejectBody,
    VerificationAlertRead,
    VerificationCreate,
    VerificationRead,
)

router = APIRouter(prefix=f"{API_V1}/verification", tags=["verification"])
DatabaseDep = Annotated[Database, Depends(get_database)]


def requester_view(row: VerificationRequest) -> VerificationRead:
    """The requester's view, the subject's ID number masked (lists and the answers to changes)."""
    read = VerificationRead.model_validate(row)
    read.on_platform = row.responder_tenant_id is not None
    read.subject_resident_id = records.masked_subject_resident_id(row)
    return read


def responder_view(row: VerificationRequest) -> VerificationRead:
    """The responder's view: never the requester's case; the subject's ID number masked."""
    read = requester_view(row)
    read.case_id = None
    return read


async def _in_full(
    session: SessionDep, read: VerificationRead, row: VerificationRequest, *, responder: bool
) -> VerificationRead:
    """The one request's view with the subject's ID number in full, the read audited."""
    shown = await records.subject_resident_ids_shown(session, [row], responder=responder)
    read.subject_resident_id = shown[row.id]
    return read


def _page(rows: list[VerificationRequest], total: int, paging: PageParams, view: object) -> Page[VerificationRead]:
    return Page(items=[view(row) for row in rows], total=total, page=paging.page, size=paging.size)  # type: ignore[operator]


# --- requester ---------------------------------------------------------------------------------------------------


@router.post(
    "/requests", response_model=VerificationRead, status_code=status.HTTP_201_CREATED, summary="Send a request (协查)"
)
async def send_request(
    session: SessionDep, database: DatabaseDep, principal: VerificationSend, body: VerificationCreate
) -> VerificationRead:
    return requester_view(await service.send(session, database, principal, body, VerificationKind.request))


@router.post(
    "/notices", response_model=VerificationRead, status_code=status.HTTP_201_CREATED, summary="Send a notice (通报)"
)
async def send_notice(
    session: SessionDep, database: DatabaseDep, principal: VerificationSend, body: VerificationCreate
) -> VerificationRead:
    return requester_view(await service.send(session, database, principal, body, VerificationKind.notice))


@router.get(
    "/outbox",
    response_model=Page[VerificationRead],
    summary="Requests and notices my units sent; `format=csv|xlsx` downloads all of them (audited)",
    responses={200: {"content": SPREADSHEET_RESPONSE_TYPES}},
)
async def outbox(
    session: SessionDep,
    principal: VerificationSend,
    paging: Annotated[PageParams, Depends(page_params)],
    state: VerificationState | None = None,
    kind: VerificationKind | None = None,
    org_unit: UnitQuery = None,
    overdue: bool | None = None,
    case_id: uuid.UUID | None = None,
    file_format: Annotated[ListFormat, Query(alias="format", description=LIST_FORMAT)] = "json",
) -> Page[VerificationRead] | StreamingResponse:
    filters = VerificationFilters(
        roots=principal.scopes_for(Action.verification_request),
        state=state,
        kind=kind,
        org_unit=org_unit,
        overdue=overdue,
        case_id=case_id,
    )
    if file_format != "json":
        return as_download(await exporting.export_verifications(session, principal, "outbox", filters, file_format))
    rows, total = await VerificationRepository(session).outbox(filters, offset=paging.offset, limit=paging.size)
    return _page(rows, total, paging, requester_view)


@router.get(
    "/outbox/{request_id}",
    response_model=VerificationRead,
    summary="One request my unit sent (the ID number in full, the read audited)",
)
async def get_sent(session: SessionDep, principal: VerificationSend, request_id: uuid.UUID) -> VerificationRead:
    row = await service.get_as_requester(session, principal, request_id)
    return await _in_full(session, requester_view(row), row, responder=False)


@router.post("/outbox/{request_id}/withdraw", response_model=VerificationRead, summary="Withdraw a pending request")
async def withdraw(
    session: SessionDep, principal: VerificationSend, request_id: uuid.UUID, body: ReasonBody
) -> VerificationRead:
    row = await service.get_as_requester(session, principal, request_id)
    return requester_view(await service.withdraw(session, row, body.reason))


@router.post(
    "/outbox/{request_id}/answer",
    response_model=VerificationRead,
    summary="Record the answer of an off-platform county (letter, fax, phone)",
)
async def record_answer(
    session: SessionDep, principal: VerificationSend, request_id: uuid.UUID, body: RecordedAnswer
) -> VerificationRead:
    row = await service.get_as_requester(session, principal, request_id)
    return requester_view(await service.record_answer(session, row, body))


# --- responder ---------------------------------------------------------------------------------------------------


@router.get(
    "/inbox",
    response_model=Page[VerificationRead],
    summary="Requests and notices addressed to my units; `format=csv|xlsx` downloads all of them (audited)",
    responses={200: {"content": SPREADSHEET_RESPONSE_TYPES}},
)
async def inbox(
    session: SessionDep,
    principal: VerificationAnswer,
    paging: Annotated[PageParams, Depends(page_params)],
    state: VerificationState | None = None,
    kind: VerificationKind | None = None,
    org_unit: UnitQuery = None,
    overdue: bool | None = None,
    assignee: AssigneeQuery = None,
    file_format: Annotated[ListFormat, Query(alias="format", description=LIST_FORMAT)] = "json",
) -> Page[VerificationRead] | StreamingResponse:
    assignee_id: uuid.UUID | None = None
    if assignee == "me":
        assignee_id = uuid.UUID(principal.id) if principal.kind == "user" else uuid.UUID(int=0)
    elif assignee not in (None, "none"):
        try:
            assignee_id = uuid.UUID(assignee)
        except ValueError:
            raise InvalidVerification("assignee", "应为用户标识、me 或 none / expected a user id, me or none") from None
    filters = VerificationFilters(
        roots=principal.scopes_for(Action.verification_answer),
        state=state,
        kind=kind,
        org_unit=org_unit,
        overdue=overdue,
        assignee_id=assignee_id,
        unassigned=assignee == "none",
    )
    if file_format != "json":
        return as_download(await exporting.export_verifications(session, principal, "inbox", filters, file_format))
    rows, total = await VerificationRepository(session).inbox(filters, offset=paging.offset, limit=paging.size)
    return _page(rows, total, paging, responder_view)


@router.post(
    "/incoming",
    response_model=VerificationRead,
    status_code=status.HTTP_201_CREATED,
    summary="Record a request from an off-platform county that came by letter, registered mail, fax or phone",
)
async def record_incoming(
    session: SessionDep, database: DatabaseDep, principal: VerificationAnswer, body: IncomingCreate
) -> VerificationRead:
    return responder_view(await service.record_incoming(session, database, principal, body))


@router.get(
    "/inbox/{request_id}",
    response_model=VerificationRead,
    summary="One request addressed to my unit (the ID number in full, the read audited)",
)
async def get_received(session: SessionDep, principal: VerificationAnswer, request_id: uuid.UUID) -> VerificationRead:
    row = await service.get_as_responder(session, principal, request_id)
    return await _in_full(session, responder_view(row), row, responder=True)


@router.post("/inbox/{request_id}/answer", response_model=VerificationRead, summary="Answer (反馈) or acknowledge")
async def answer(
    session: SessionDep, principal: VerificationAnswer, request_id: uuid.UUID, body: AnswerBody
) -> VerificationRead:
    row = await service.get_as_responder(session, principal, request_id)
    return responder_view(await service.answer(session, row, body))


@router.post(
    "/inbox/{request_id}/file",
    response_model=FlowNoticeFiled,
    summary="File an inflow/left notice: link it to the outflow entry, or create one",
)
async def file_flow_notice(
    session: SessionDep, principal: VerificationAnswer, request_id: uuid.UUID, body: FlowNoticeFiling
) -> FlowNoticeFiled:
    row = await service.get_as_responder(session, principal, request_id)
    row, person, filing = await flow_notices.file_notice(
        session, principal, row, body.action, body.org_unit_code, body.note
    )
    return FlowNoticeFiled(notice=responder_view(row), filing=filing, person_id=person.id)


@router.post("/inbox/{request_id}/reject", response_model=VerificationRead, summary="Send back with a reason")
async def reject(
    session: SessionDep, principal: VerificationAnswer, request_id: uuid.UUID, body: RejectBody
) -> VerificationRead:
    row = await service.get_as_responder(session, principal, request_id)
    return responder_view(await service.reject(session, row, body.reason, body.reply))


@router.post("/inbox/{request_id}/claim", response_model=VerificationRead, summary="Take an incoming request")
async def claim(session: SessionDep, principal: VerificationAnswer, request_id: uuid.UUID) -> VerificationRead:
    row = await service.get_as_responder(session, principal, request_id)
    return responder_view(await service.claim(session, principal, row))


@router.post("/inbox/{request_id}/assign", response_model=VerificationRead, summary="Assign an incoming request")
async def assign(
    session: SessionDep, principal: VerificationAssign, request_id: uuid.UUID, body: AssignBody
) -> VerificationRead:
    row = await service.get_to_assign(session, principal, request_id)
    return responder_view(await service.assign(session, principal, row, body.assignee_id))


@router.get("/alerts", response_model=list[VerificationAlertRead], summary="Reminders and escalations for my units")
async def alerts(session: SessionDep, principal: VerificationAnswer) -> list[VerificationAlertRead]:
    roots = principal.scopes_for(Action.verification_answer) + principal.scopes_for(Action.verification_request)
    rows = await VerificationRepository(session).alerts(sorted(set(roots)))
    return [VerificationAlertRead.model_validate(row) for row in rows]


@router.get("/rates", response_model=RatesReport, summary="Two-way assessment figures per township and county")
async def verification_rates(
    session: SessionDep,
    principal: VerificationSend,
    period_start: Annotated[AnyDate, Query()],
    period_end: Annotated[AnyDate, Query()],
    counterpart: Annotated[CountyCode | None, Query(description="the other county's code")] = None,
    as_of: Annotated[AnyDateTime | None, Query()] = None,
) -> RatesReport:
    return await rates.report(session, principal, period_start, period_end, counterpart, as_of or utc_now())
