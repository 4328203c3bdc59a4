"""The audit log for auditors and admins: search events, verify the county's hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from backend.audit import service
from backend.audit.auth import AuditRead
from backend.audit.exporting import (
    AUDIT_LIST,
    LIST_FORMAT,
    MAX_EXPORT_ROWS,
    ListFormat,
    as_download,
    audit_row,
    export_list,
)
from backend.audit.repository import AuditRepository
from backend.audit.schemas import AuditEventRead, ChainVerificationRead
from backend.authz.vocabulary import Action
from backend.core.input import AnyDateTime, Text
from backend.core.routing import API_V1
from backend.core.spreadsheets import SPREADSHEET_RESPONSE_TYPES
from backend.db.session import SessionDep

router = APIRouter(prefix=f"{API_V1}/audit", tags=["audit"])


@router.get(
    "/events",
    response_model=list[AuditEventRead],
    summary="Audit events in my scope, newest first; `format=csv|xlsx` downloads all of them (audited)",
    responses={200: {"content": SPREADSHEET_RESPONSE_TYPES}},
)
async def search_events(
    session: SessionDep,
    principal: AuditRead,
    entity_type: Annotated[Annotated[str, Text(64)] | None, Query()] = None,
    entity_id: Annotated[Annotated[str, Text(64)] | None, Query()] = None,
    correlation_id: Annotated[Annotated[str, Text(64)] | None, Query()] = None,
    actor_id: Annotated[Annotated[str, Text(64)] | None, Query(description="who: a user id")] = None,
    action: Annotated[
        Annotated[str, Text(64)] | None, Query(description="what: an action, or an area ending in '.'")
    ] = None,
    since: Annotated[AnyDateTime | None, Query(description="from this moment")] = None,
    until: Annotated[AnyDateTime | None, Query(description="before this moment")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="JSON only")] = 100,
    file_format: Annotated[ListFormat, Query(alias="format", description=LIST_FORMAT)] = "json",
) -> list[AuditEventRead] | StreamingResponse:
    events = await AuditRepository(session).search(
        roots=principal.scopes_for(Action.audit_read),
        entity_type=entity_type,
        entity_id=entity_id,
        correlation_id=correlation_id,
        actor_id=actor_id,
        action=action,
        since=since,
        until=until,
        offset=offset,
        limit=limit if file_format == "json" else MAX_EXPORT_ROWS + 1,
    )
    if file_format != "json":
        filters = {"entity_type": entity_type, "entity_id": entity_id, "correlation_id": correlation_id}
        rows = [audit_row(event) for event in events]
        return as_download(await export_list(session, principal, AUDIT_LIST, file_format, rows, filters))
    return [AuditEventRead.model_validate(event) for event in events]


@router.post("/verify", response_model=ChainVerificationRead, summary="Verify my county's audit hash chain")
async def verify(session: SessionDep, _: AuditRead) -> ChainVerificationRead:
    result = await service.verify_chain(session)
    return ChainVerificationRead(
        ok=result.ok, events_checked=result.events_checked, broken_seq=result.broken_seq, problem=result.problem
    )
