"""The case list as a CSV or XLSX file (`GET /cases?format=csv|xlsx`): the list's filters, no paging, only the
subtrees where the caller may read cases and export (backend/audit/exporting.py), audited. The list carries no
identifiers, so nothing needs masking."""

from __future__ import annotations

from dataclasses import replace

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
from backend.cases.repository import CaseFilters, CaseRepository
from backend.core.spreadsheets import Cell
from backend.models import Case

CASE_LIST = ListExport(
    "案件",
    "cases",
    "case",
    (
        Column("案件编号", 18),
        Column("案件类型", 16),
        Column("标题", 24),
        Column("所属单位代码", 14),
        Column("阶段"),
        Column("状态"),
        Column("优先级", 8),
        Column("当事人", 10),
        Column("受理时间", 16),
        Column("办理期限", 16),
        Column("期限暂定", 8),
        Column("已超期", 8),
    ),
)


def case_row(case: Case) -> list[Cell]:
    return [
        case.number,
        case.case_type,
        case.title,
        case.org_unit_code,
        case.stage.value,
        case.status.value,
        case.priority.value,
        case.subject_name,
        china_time(case.received_at),
        china_time(case.due_at),
        yes_no(case.due_provisional),
        yes_no(case.overdue),
    ]


async def export_cases(
    session: AsyncSession, principal: Principal, filters: CaseFilters, file_format: FileFormat
) -> ExportedList:
    filters = replace(filters, roots=export_scopes(principal, Action.case_read))
    cases, total = await CaseRepository(session).search(filters, offset=0, limit=MAX_EXPORT_ROWS)
    check_total(total)
    audited = {
        "stage": filters.stage,
        "status": filters.status,
        "case_type": filters.case_type,
        "org_unit": filters.org_unit,
        "assignee_id": filters.assignee_id,
        "overdue": filters.overdue,
        "open": filters.open_only or None,
        "due_before": filters.due_before,
        "q": filters.name_query or filters.pinyin_query,
        "resident_id": "given" if filters.subject_resident_id_hash else None,
    }
    rows = [case_row(case) for case in cases]
    return await export_list(session, principal, CASE_LIST, file_format, rows, audited)
