"""Lists as files: the case list, the verification inbox and outbox and the audit search download as CSV or XLSX
(`?format=csv|xlsx` on the list route, with the list's own filters and no paging).

One way for all of them, as for the registers: the spreadsheet writers of backend/core/spreadsheets.py (ID,
phone and code cells kept as text; A4 landscape, frozen filterable header, 制表单位/页码/制表日期 footer), at
most 20,000 rows a file, and one audit event per export naming the list, the format, the row count and the
filters. Who may export what: the casework lists need `register.export` (the registers' permission, regular
grants only, never break-glass) and cover only the subtrees where the caller may both read and export; the
audit search is the auditor's own list and needs only `audit.read`. Identifiers are masked unless the caller
may read them over the row's unit (the domain's row function decides).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Literal

from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import CHINA, china_today
from backend.core.errors import FieldError, Forbidden, InvalidInput
from backend.core.spreadsheets import Cell, CsvWriter, Footer, SheetWriter, XlsxWriter, download
from backend.models import AuditEvent
from backend.org.errors import OrgUnitNotFound
from backend.org.service import get_unit

MAX_EXPORT_ROWS = 20_000
FileFormat = Literal["csv", "xlsx"]
ListFormat = Literal["json", "csv", "xlsx"]
LIST_FORMAT = "json: one page; csv or xlsx: every row the filters select (at most 20,000), as a file, audited"


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    width: int = 12


@dataclass(frozen=True, slots=True)
class ListExport:
    """What a list is called in a file: `name` in Chinese (the sheet, title and file name), `ascii_name` for the
    fallback file name, `entity_type` of the audit event (`case`, `verification`, `audit`)."""

    name: str
    ascii_name: str
    entity_type: str
    columns: Sequence[Column]


@dataclass(frozen=True, slots=True)
class ExportedList:
    content: IO[bytes]
    filename: str
    ascii_filename: str
    media_type: str
    rows: int


class ExportNotAllowed(Forbidden):
    def __init__(self) -> None:
        super().__init__("无权导出 / Not allowed to export")


class TooManyToExport(InvalidInput):
    def __init__(self, total: int) -> None:
        super().__init__(
            f"共{total}行，超过单个文件{MAX_EXPORT_ROWS}行的上限，请用筛选条件缩小范围 / "
            f"{total} rows exceed the {MAX_EXPORT_ROWS}-row limit of one file; narrow with the filters",
            [FieldError(("query", "format"), "范围过大 / too many rows")],
        )


def export_scopes(principal: Principal, read_action: Action) -> list[str]:
    """The subtree roots where the caller may both read (`read_action`, break-glass included) and export
    (`register.export`, regular grants only); 403 when there is none."""
    exporting = principal.regular_scopes_for(Action.register_export)
    roots = {
        inner
        for read in principal.scopes_for(read_action)
        for export in exporting
        for inner in (read, export)
        if inner.startswith(read) and inner.startswith(export)
    }
    kept = sorted(root for root in roots if not any(root != outer and root.startswith(outer) for outer in roots))
    if not kept:
        raise ExportNotAllowed()
    return kept


def check_total(total: int) -> None:
    if total > MAX_EXPORT_ROWS:
        raise TooManyToExport(total)


def china_time(value: datetime | None) -> str | None:
    """A time as China local text (`2026-11-20 10:30`): Excel cells hold no time zone."""
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if value is not None else None


def yes_no(value: bool | None) -> str | None:
    return None if value is None else ("是" if value else "否")


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | bool) else str(value)


async def export_county_name(session: AsyncSession, principal: Principal) -> str:
    """制表单位 of the printed footer: the county's name (its code when the unit is missing)."""
    code = principal.tenant_code or ""
    try:
        return (await get_unit(session, code)).name
    except OrgUnitNotFound:
        return code


def _writer(listing: ListExport, file_format: FileFormat, county_name: str) -> SheetWriter:
    headers = ["序号", *(column.header for column in listing.columns)]
    if file_format == "xlsx":
        widths = [6, *(column.width for column in listing.columns)]
        title = f"{county_name}{listing.name}（{china_today().isoformat()}）"
        return XlsxWriter(title, listing.name, headers, widths, footer=Footer(county_name, china_today()))
    return CsvWriter(headers)


async def export_list(
    session: AsyncSession,
    principal: Principal,
    listing: ListExport,
    file_format: FileFormat,
    rows: Sequence[Sequence[Cell]],
    filters: dict[str, Any],
    *,
    identifiers_in_full: int = 0,
) -> ExportedList:
    """Write `rows` (one list of cells per row, in `listing.columns` order) as a file and audit the export."""
    check_total(len(rows))
    writer = _writer(listing, file_format, await export_county_name(session, principal))
    try:
        await run_in_threadpool(writer.write_rows, [[index, *row] for index, row in enumerate(rows, start=1)])
        content = await run_in_threadpool(writer.finish)
    except BaseException:
        writer.discard()
        raise
    await audit.record(
        session,
        action=f"{listing.entity_type}.export",
        entity_type=listing.entity_type,
        entity_id="export",
        org_unit_code=filters.get("org_unit") or principal.org_unit_code,
        changes={
            "list": listing.ascii_name,
            "format": file_format,
            "rows": len(rows),
            "rows_with_identifiers_in_full": identifiers_in_full,
            "filters": {key: _plain(value) for key, value in filters.items() if value is not None},
        },
    )
    day = china_today().isoformat()
    extension = writer.extension
    return ExportedList(
        content,
        f"{listing.name}-{day}.{extension}",
        f"{listing.ascii_name}-{day}.{extension}",
        writer.media_type,
        len(rows),
    )


AUDIT_LIST = ListExport(
    "审计日志",
    "audit-events",
    "audit",
    (
        Column("序列号", 10),
        Column("时间", 16),
        Column("操作者类型", 10),
        Column("操作者", 16),
        Column("单位代码", 14),
        Column("操作", 22),
        Column("对象类型", 14),
        Column("对象标识", 38),
        Column("变更内容", 60),
        Column("原因", 24),
        Column("关联号", 20),
        Column("请求号", 20),
    ),
)


def audit_row(event: AuditEvent) -> list[Cell]:
    return [
        event.seq,
        china_time(event.occurred_at),
        event.actor_kind,
        event.actor_label,
        event.org_unit_code,
        event.action,
        event.entity_type,
        event.entity_id,
        json.dumps(event.changes, ensure_ascii=False, sort_keys=True, default=str),
        event.reason,
        event.correlation_id,
        event.request_id,
    ]


def as_download(exported: ExportedList) -> StreamingResponse:
    """The route's answer: the file as an attachment, never cached, with its row count."""
    return download(
        exported.content,
        exported.media_type,
        exported.filename,
        exported.ascii_filename,
        **{"X-Export-Rows": str(exported.rows)},
    )
