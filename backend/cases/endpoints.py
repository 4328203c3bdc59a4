"""Cases: open, list and search (the queues), read, edit, assign, claim, bulk reassign, link, move stages."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import StreamingResponse

from backend.audit.exporting import LIST_FORMAT, ListFormat, as_download
from backend.authz.vocabulary import Action
from backend.case_types.schemas import CaseTypeCode
from backend.cases import exporting, service, views
from backend.cases.auth import CasesAssign, CasesRead, CasesWrite
from backend.cases.errors import CaseNotFound
from backend.cases.repository import SORTS, CaseFilters
from backend.cases.schemas import (
    AssignRequest,
    BulkReassign,
    BulkReassignResult,
    CaseActionAccepted,
    CaseActionRequest,
    CaseCreate,
    CaseLinkCreate,
    CaseListItem,
    CaseRead,
    CaseUpdate,
    WorkloadRow,
)
from backend.cases.timeline import Timeline, case_timeline
from backend.core.input import AnyDateTime, Text
from backend.core.list_filters import AssigneeQuery, NameSearchQuery, UnitQuery
from backend.core.pagination import Page, PageParams, page_params
from backend.core.routing import API_V1
from backend.core.spreadsheets import SPREADSHEET_RESPONSE_TYPES
from backend.core.temporal import temporal_client
from backend.db.session import SessionDep
from backend.models import Case, CaseStage, CaseStatus
from workflows.cases.types import case_workflow_id_for

router = APIRouter(prefix=f"{API_V1}/cases", tags=["cases"])


async def _read(session: SessionDep, case: Case) -> CaseRead:
    return (await views.case_view(session, case)).read()


@router.post("", status_code=status.HTTP_201_CREATED, summary="Open a case")
async def open_case(session: SessionDep, principal: CasesWrite, case_create: CaseCreate) -> CaseRead:
    case = await service.open_case(session, principal, case_create)
    return (await views.opened_case_view(session, case, with_subjects=bool(case_create.subjects))).read()


@router.get(
    "",
    response_model=Page[CaseListItem],
    summary="Cases in my reach: filter, search, sort; `format=csv|xlsx` downloads all of them (audited)",
    responses={200: {"content": SPREADSHEET_RESPONSE_TYPES}},
)
async def list_cases(
    session: SessionDep,
    principal: CasesRead,
    paging: Annotated[PageParams, Depends(page_params)],
    stage: CaseStage | None = None,
    case_status: Annotated[CaseStatus | None, Query(alias="status")] = None,
    case_type: Annotated[CaseTypeCode | None, Query()] = None,
    org_unit: UnitQuery = None,
    assignee: AssigneeQuery = None,
    overdue: bool | None = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    due_before: Annotated[AnyDateTime | None, Query()] = None,
    q: NameSearchQuery = None,
    resident_id: Annotated[Annotated[str, Text(24)] | None, Query(description="exact ID number")] = None,
    sort: Annotated[Literal[tuple(SORTS)], Query()] = "due_at",  # type: ignore[valid-type]
    file_format: Annotated[ListFormat, Query(alias="format", description=LIST_FORMAT)] = "json",
) -> Page[CaseListItem] | StreamingResponse:
    assignee_id, unassigned = views.assignee_terms(principal, assignee)
    name_query, pinyin_query = views.name_terms(q) if q else (None, None)
    filters = CaseFilters(
        roots=principal.scopes_for(Action.case_read),
        stage=stage,
        status=case_status,
        case_type=case_type,
        org_unit=org_unit,
        assignee_id=assignee_id,
        unassigned=unassigned,
        overdue=overdue,
        open_only=open_only,
        due_before=due_before,
        name_query=name_query,
        pinyin_query=pinyin_query,
        subject_resident_id_hash=views.resident_id_hash(resident_id) if resident_id else None,
        sort=sort,
    )
    if file_format != "json":
        return as_download(await exporting.export_cases(session, principal, filters, file_format))
    cases, total = await views.list_cases(session, principal, filters, offset=paging.offset, limit=paging.size)
    return Page(
        items=[CaseListItem.model_validate(case) for case in cases], total=total, page=paging.page, size=paging.size
    )


@router.get("/workload", summary="Open, overdue and due-soon cases per assignee")
async def workload(session: SessionDep, principal: CasesAssign) -> list[WorkloadRow]:
    return [
        WorkloadRow(assignee_id=assignee, open_cases=open_count, overdue_cases=overdue_count, due_within_3_days=soon)
        for assignee, open_count, overdue_count, soon in await views.workload(session, principal)
    ]


@router.post("/bulk-reassign", summary="Reassign many cases at once")
async def bulk_reassign(session: SessionDep, principal: CasesAssign, body: BulkReassign) -> BulkReassignResult:
    count = await service.bulk_reassign(session, principal, body.case_ids, body.assignee_id)
    return BulkReassignResult(reassigned=count)


@router.get("/{case_id}/timeline", summary="Audit events and workflow history of a case, in time order")
async def timeline(request: Request, session: SessionDep, principal: CasesRead, case_id: uuid.UUID) -> Timeline:
    case = await service.get_case(session, principal, case_id, Action.case_read)
    workflow_id = case_workflow_id_for(case)
    return await case_timeline(session, await temporal_client(request), case, workflow_id)


@router.get("/{case_id}", summary="One case")
async def get_case(session: SessionDep, principal: CasesRead, case_id: uuid.UUID) -> CaseRead:
    return await _read(session, await service.get_case(session, principal, case_id, Action.case_read))


@router.patch("/{case_id}", summary="Edit a case (optimistic lock)")
async def update_case(session: SessionDep, principal: CasesWrite, case_id: uuid.UUID, update: CaseUpdate) -> CaseRead:
    case = await service.get_case(session, principal, case_id, Action.case_write)
    return await _read(session, await service.update_case(session, case, update))


@router.post("/{case_id}/assign", summary="Assign or return to the queue")
async def assign(session: SessionDep, principal: CasesAssign, case_id: uuid.UUID, body: AssignRequest) -> CaseRead:
    case = await service.get_case(session, principal, case_id, Action.case_assign)
    return await _read(session, await service.assign_case(session, case, body))


@router.post("/{case_id}/claim", summary="Take an unassigned case")
async def claim(session: SessionDep, principal: CasesWrite, case_id: uuid.UUID) -> CaseRead:
    case = await service.get_case(session, principal, case_id, Action.case_write)
    return await _read(session, await service.claim_case(session, principal, case))


@router.post("/{case_id}/links", status_code=status.HTTP_201_CREATED, summary="Link a related case")
async def link(session: SessionDep, principal: CasesWrite, case_id: uuid.UUID, body: CaseLinkCreate) -> CaseRead:
    case = await service.get_case(session, principal, case_id, Action.case_write)
    await service.link_cases(session, principal, case, body)
    return await _read(session, case)


@router.post(
    "/{case_id}/actions",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit a human action (advance, request materials, extend, refuse, close)",
)
async def request_action(
    session: SessionDep, principal: CasesWrite, case_id: uuid.UUID, body: CaseActionRequest
) -> CaseActionAccepted:
    case = await service.get_case(session, principal, case_id, Action.case_write)
    request_id = await service.request_action(session, principal, case, body)
    return CaseActionAccepted(request_id=request_id, status="pending")


@router.get("/{case_id}/actions/{request_id}", summary="What became of an action request")
async def action_status(
    session: SessionDep, principal: CasesRead, case_id: uuid.UUID, request_id: uuid.UUID
) -> CaseActionAccepted:
    case = await service.get_case(session, principal, case_id, Action.case_read)
    outcome = await views.action_outcome(session, case, request_id)
    if outcome is None:
        raise CaseNotFound()
    return CaseActionAccepted(request_id=request_id, status=outcome.status, result=outcome.result)
