"""The registers (台账): a paginated page view (format=json) and whole-register files (format=csv|xlsx)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from backend.core.input import AnyDate, Text, UnitCode
from backend.core.pagination import PageParams, page_params
from backend.core.routing import API_V1
from backend.core.spreadsheets import SPREADSHEET_RESPONSE_TYPES, download
from backend.db.session import SessionDep
from backend.registers import service
from backend.registers.auth import RegistersRead
from backend.registers.catalog import REGISTERS
from backend.registers.schemas import RegisterFormat, RegisterPage

router = APIRouter(prefix=f"{API_V1}/registers", tags=["registers"])


@router.get(
    "/{register}",
    response_model=None,
    summary="A register (台账): page view, or the whole register as CSV / XLSX",
    description=f"Registers: {', '.join(REGISTERS)}. Exports need register.export over the unit and are audited.",
    responses={200: {"model": RegisterPage, "content": SPREADSHEET_RESPONSE_TYPES}},
)
async def get_register(
    session: SessionDep,
    principal: RegistersRead,
    register: Annotated[str, Text(40), Path(description="the register's name; an unknown one is 404")],
    paging: Annotated[PageParams, Depends(page_params)],
    org_unit: Annotated[UnitCode | None, Query(description="subtree root (division code)")] = None,
    period_from: Annotated[AnyDate | None, Query(description="first day, inclusive")] = None,
    period_to: Annotated[AnyDate | None, Query(description="last day, inclusive")] = None,
    file_format: Annotated[RegisterFormat, Query(alias="format")] = RegisterFormat.json,
) -> RegisterPage | Response:
    query = service.RegisterQuery(service.get_register(register), org_unit, period_from, period_to)
    if file_format is RegisterFormat.json:
        return await service.register_page(session, principal, query, paging)
    exported = await service.export_register(session, principal, query, file_format)
    # The file is complete and the audit event flushed; the body streams after the transaction commits.
    return download(
        exported.content,
        exported.media_type,
        exported.filename,
        exported.ascii_filename,
        **{"X-Register-Rows": str(exported.rows)},
    )
