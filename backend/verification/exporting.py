"""The verification inbox and outbox as CSV or XLSX files (`GET /verification/inbox|outbox?format=csv|xlsx`):
the list's filters, no paging, only the subtrees where the caller may work the list and export
(backend/audit/exporting.py), audited. The subject's ID number is in full only where the caller may read
identifiers over the unit that holds the request on its side (the responder's unit in the inbox, the
requester's in the outbox), masked otherwise."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.exporting import (
    MAX_EXPORT_ROWS,
    Column,
    ExportedList,
    FileFormat,
    ListExport,
    check_total,
    china_time,
    export_list,
    export_scopes,
    yes_no,
)
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.spreadsheets import Cell
from backend.models import VerificationRequest
from backend.persons.resident_id import mask_resident_id
from backend.verification import records
from backend.verification.repository import VerificationFilters, VerificationRepository

_COLUMNS = (
    Column("协查编号", 22),
    Column("类型", 14),
    Column("状态", 12),
    Column("发起单位", 20),
    Column("协查单位", 20),
    Column("当事人", 10),
    Column("身份证号", 22),
    Column("问题类型", 14),
    Column("协查事项", 30),
    Column("送达时间", 16),
    Column("答复期限", 16),
    Column("答复时间", 16),
    Column("已超期", 8),
    Column("答复内容", 30),
)
INBOX = ListExport("收到的协查", "verification-inbox", "verification", _COLUMNS)
OUTBOX = ListExport("发出的协查", "verification-outbox", "verification", _COLUMNS)
Side = Literal["inbox", "outbox"]


def verification_row(row: VerificationRequest, resident_id: str | None) -> list[Cell]:
    return [
        row.correlation_id,
        row.kind.value,
        row.state.value,
        row.requester_unit_name,
        row.responder_unit_name or row.responder_unit_code,
        row.subject_name,
        resident_id,
        row.question_type.value,
        row.question,
        china_time(row.arrived_at),
        china_time(row.answer_due_at),
        china_time(row.answered_at),
        yes_no(row.responder_overdue),
        row.answer,
    ]


async def export_verifications(
    session: AsyncSession, principal: Principal, side: Side, filters: VerificationFilters, file_format: FileFormat
) -> ExportedList:
    action = Action.verification_answer if side == "inbox" else Action.verification_request
    filters = replace(filters, roots=export_scopes(principal, action))
    repository = VerificationRepository(session)
    search = repository.inbox if side == "inbox" else repository.outbox
    found, total = await search(filters, offset=0, limit=MAX_EXPORT_ROWS)
    check_total(total)
    rows: list[list[Cell]] = []
    in_full = 0
    for row in found:
        resident_id = records.subject_resident_id(row)
        unit = row.responder_unit_code if side == "inbox" else row.requester_unit_code
        if resident_id and unit and principal.can(Action.person_read_identifiers, unit):
            in_full += 1
        elif resident_id:
            resident_id = mask_resident_id(resident_id)
        rows.append(verification_row(row, resident_id))
    audited = {
        "state": filters.state,
        "kind": filters.kind,
        "org_unit": filters.org_unit,
        "overdue": filters.overdue,
        "assignee_id": filters.assignee_id,
        "unassigned": filters.unassigned or None,
        "case_id": filters.case_id,
    }
    listing = INBOX if side == "inbox" else OUTBOX
    return await export_list(session, principal, listing, file_format, rows, audited, identifiers_in_full=in_full)
