"""Register pages (台账): the list of registers, one register page by page, and export links to the same
files as GET /api/v1/registers/{register}?format=csv|xlsx (exports are checked and audited there)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.registers import service
from backend.registers.auth import RegistersRead
from backend.registers.catalog import REGISTERS
from frontend.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/registers", response_class=HTMLResponse)
async def register_index(request: Request, principal: RegistersRead) -> HTMLResponse:
    return render(request, "registers/index.html", {"registers": list(REGISTERS.values())})


@router.get("/registers/{code}", response_class=HTMLResponse)
async def register_view(
    request: Request,
    session: SessionDep,
    principal: RegistersRead,
    code: str,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    query = service.RegisterQuery(service.get_register(code))
    register_page = await service.register_page(session, principal, query, PageParams(page=page, size=50))
    return render(request, "registers/view.html", {"register": register_page, "code": code})
