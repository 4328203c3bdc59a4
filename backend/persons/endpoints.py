"""The person registry API (人员登记): register, read, change, depart, list, history, duplicates, merge, import,
export and the import template."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from backend.audit.exporting import as_download
from backend.authz.vocabulary import Action
from backend.core.input import Text
from backend.core.list_filters import NameSearchQuery, UnitQuery
from backend.core.pagination import Page, PageParams, page_params
from backend.core.routing import API_V1
from backend.core.spreadsheets import SPREADSHEET_RESPONSE_TYPES, XLSX_MEDIA_TYPE, content_disposition
from backend.db.session import SessionDep
from backend.models import FlowDirection, PersonStatus, Sex
from backend.persons import exporting, importer, merging, service, spreadsheet
from backend.persons.auth import PersonsExport, PersonsRead, PersonsWrite
from backend.persons.errors import ImportFileRejected
from backend.persons.schemas import (
    ImportMode,
    ImportReport,
    PersonCreate,
    PersonDepart,
    PersonHistoryEntry,
    PersonListItem,
    PersonMerge,
    PersonMergeRead,
    PersonRead,
    PersonRegistrationRead,
    PersonUnmerge,
    PersonUpdate,
    SortKey,
)
from backend.verification import notices

router = APIRouter(prefix=f"{API_V1}/persons", tags=["persons"])

# Multipart framing (boundaries, part headers) on top of the file itself.
_MULTIPART_OVERHEAD = 64 * 1024
_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.get("", response_model=Page[PersonListItem], summary="The registry, within my reach (identifiers masked)")
async def list_persons(
    session: SessionDep,
    principal: PersonsRead,
    page: Annotated[PageParams, Depends(page_params)],
    org_unit: UnitQuery = None,
    flow_direction: FlowDirection | None = None,
    person_status: Annotated[PersonStatus | None, Query(alias="status")] = None,
    key_subject: bool | None = None,
    sex: Sex | None = None,
    q: NameSearchQuery = None,
    resident_id: Annotated[Annotated[str, Text(40)] | None, Query(description="Exact ID number")] = None,
    phone: Annotated[Annotated[str, Text(30)] | None, Query(description="Exact phone number")] = None,
    sort: SortKey = "name",
) -> Page[PersonListItem]:
    query = service.PersonQuery(
        org_unit=org_unit,
        flow_direction=flow_direction,
        status=person_status,
        key_subject=key_subject,
        sex=sex,
        q=q,
        resident_id=resident_id,
        phone=phone,
        sort=sort,
    )
    return await service.list_persons(session, principal, query, page)


@router.post(
    "",
    response_model=PersonRegistrationRead,
    status_code=status.HTTP_201_CREATED,
    summary="Register a person (an ID number already registered updates that record: 200)",
)
async def register_person(session: SessionDep, principal: PersonsWrite, body: PersonCreate) -> JSONResponse:
    registration = await service.register_person(session, principal, body)
    read = await service.person_read(session, principal, registration.person)
    merged = registration.merged_into_existing
    return JSONResponse(
        PersonRegistrationRead(**read.model_dump(), merged_into_existing=merged).model_dump(mode="json"),
        status_code=status.HTTP_200_OK if merged else status.HTTP_201_CREATED,
        headers=_notice_header(registration.notice),
    )


@router.get(
    ":export",
    response_model=None,
    summary="The registry as a CSV or XLSX file (the import's columns; audited)",
    description="Needs register.export; identifiers in full only with person.read_identifiers over the person's "
    "unit. At most 20,000 rows (the import's limit): narrow with the list's filters.",
    responses={200: {"content": SPREADSHEET_RESPONSE_TYPES}},
)
async def export_persons(
    session: SessionDep,
    principal: PersonsExport,
    file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "xlsx",
    org_unit: UnitQuery = None,
    flow_direction: FlowDirection | None = None,
    person_status: Annotated[PersonStatus | None, Query(alias="status")] = None,
    key_subject: bool | None = None,
    sex: Sex | None = None,
    q: NameSearchQuery = None,
) -> StreamingResponse:
    query = service.PersonQuery(
        org_unit=org_unit, flow_direction=flow_direction, status=person_status, key_subject=key_subject, sex=sex, q=q
    )
    return as_download(await exporting.export_persons(session, principal, query, file_format))


@router.get(
    ":import-template",
    response_model=None,
    summary="The import template (.xlsx: text-formatted ID columns, drop-down lists, instructions)",
    responses={200: {"content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def import_template(_: PersonsWrite) -> Response:
    filename, ascii_filename = exporting.template_filename()
    return Response(
        await run_in_threadpool(exporting.import_template),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(filename, ascii_filename)},
    )


@router.post(
    ":import", response_model=ImportReport, summary="Import persons from .xlsx or .csv", openapi_extra=_IMPORT_BODY
)
async def import_persons(
    request: Request,
    session: SessionDep,
    principal: PersonsWrite,
    mode: ImportMode = "all_or_nothing",
    dry_run: bool = False,
) -> ImportReport:
    data = await _read_upload(request)
    return await importer.import_persons(session, principal, data, mode=mode, dry_run=dry_run)


@router.get("/{person_id}", response_model=PersonRead, summary="One person (full identifiers only with permission)")
async def get_person(session: SessionDep, principal: PersonsRead, person_id: uuid.UUID) -> PersonRead:
    person = await service.person_in_reach(session, principal, person_id, Action.person_read)
    return await service.person_read(session, principal, person, reveal_identifiers=True)


@router.patch("/{person_id}", response_model=PersonRead, summary="Change a person (optimistic lock on version)")
async def update_person(
    session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID, body: PersonUpdate
) -> PersonRead:
    person = await service.person_in_reach(session, principal, person_id, Action.person_write)
    await service.update_person(session, principal, person, body)
    return await service.person_read(session, principal, person)


@router.post("/{person_id}/depart", response_model=PersonRead, summary="注销: the person left")
async def depart_person(
    session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID, body: PersonDepart, response: Response
) -> PersonRead:
    person = await service.person_in_reach(session, principal, person_id, Action.person_write)
    departure = await service.depart_person(session, principal, person, body)
    response.headers.update(_notice_header(departure.notice) or {})
    return await service.person_read(session, principal, person)


@router.get("/{person_id}/history", response_model=list[PersonHistoryEntry], summary="The person's change history")
async def person_history(session: SessionDep, principal: PersonsRead, person_id: uuid.UUID) -> list[PersonHistoryEntry]:
    person = await service.person_in_reach(session, principal, person_id, Action.person_read)
    return await service.person_history(session, person)


@router.get(
    "/{person_id}/duplicates",
    response_model=list[PersonListItem],
    summary="Possible duplicates: same sex and birth date, matching name (characters or pinyin)",
)
async def duplicate_candidates(
    session: SessionDep, principal: PersonsRead, person_id: uuid.UUID
) -> list[PersonListItem]:
    person = await service.person_in_reach(session, principal, person_id, Action.person_read)
    return await merging.duplicate_candidates(session, principal, person)


@router.post("/{person_id}/merge", response_model=PersonMergeRead, summary="Merge this duplicate into another record")
async def merge_person(
    session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID, body: PersonMerge
) -> PersonMergeRead:
    source = await service.person_in_reach(session, principal, person_id, Action.person_write)
    source, target = await merging.merge_persons(session, principal, source, body)
    return PersonMergeRead(
        source=await service.person_read(session, principal, source),
        target=await service.person_read(session, principal, target),
    )


@router.post(
    "/{person_id}/unmerge",
    response_model=PersonRead,
    summary="Undo a merge (county supervisor)",
)
async def unmerge_person(
    session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID, body: PersonUnmerge
) -> PersonRead:
    source = await service.person_in_reach(session, principal, person_id, Action.person_write)
    source, _ = await merging.unmerge_person(session, principal, source, body)
    return await service.person_read(session, principal, source)


def _notice_header(notice: notices.FlowNotice | None) -> dict[str, str] | None:
    """The `X-Flow-Notice` header telling the client the registration county was notified (or could not be)."""
    return {notices.HEADER: notice.header()} if notice is not None else None


async def _read_upload(request: Request) -> bytes:
    """The `file` part of a multipart body, read after authentication and never beyond the size limit.

    The Content-Length header only lets an oversized upload be refused early; the bytes are counted anyway.
    """
    limit = min(spreadsheet.MAX_IMPORT_BYTES, request.app.state.settings.upload_max_bytes)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ImportFileRejected(
            "请以 multipart/form-data 上传文件（字段名 file）",
            "upload the file as multipart/form-data (field 'file')",
            status_code=415,
            code="UNSUPPORTED_MEDIA_TYPE",
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
        raise spreadsheet.file_too_large()
    try:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit + _MULTIPART_OVERHEAD:
                raise spreadsheet.file_too_large()

        async def replay() -> AsyncGenerator[bytes, None]:
            yield bytes(body)

        form = await MultiPartParser(request.headers, replay(), max_files=1, max_fields=5).parse()
    except RuntimeError:
        # The CSRF check already parsed the form (browser forms send the token as a field).
        form = await request.form(max_files=1, max_fields=5)
    except MultiPartException:
        raise ImportFileRejected("上传内容格式错误", "malformed multipart upload") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ImportFileRejected("缺少文件（字段名 file）", "no file in the upload (field 'file')")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise spreadsheet.file_too_large()
    return data
