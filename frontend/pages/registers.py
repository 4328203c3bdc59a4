"""Register pages (台账): the list of registers, one register page by page with its unit and period filters and a
print view, and export links to the same files as GET /api/v1/registers/{register}?format=csv|xlsx (exports are
checked and audited there)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from backend.authz.vocabulary import Action
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.registers import service
from backend.registers.auth import RegistersRead
from backend.registers.catalog import REGISTERS
from frontend.pages.common import unit_options
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/registers", response_class=HTMLResponse)
async def register_index(request: Request, principal: RegistersRead) -> HTMLResponse:
    return render(request, "registers/index.html", {"registers": list(REGISTERS.values())})


def _day(raw: str) -> date | None:
    """A `date` input's value; anything else is no bound (a page, not an API: a stale link still shows the list)."""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _width_class(width: int) -> str:
    """The column's width class (frontend/static/app.css `.w-*`): the register's width in characters, rounded."""
    return f"w-{min((8, 12, 16, 20, 28), key=lambda step: abs(step - width)) if width > 6 else 6}"


@router.get("/registers/{code}", response_class=HTMLResponse)
async def register_view(
    request: Request,
    session: SessionDep,
    principal: RegistersRead,
    code: str,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    org_unit: Annotated[str, Query(max_length=12)] = "",
    period_from: Annotated[str, Query(max_length=10)] = "",
    period_to: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    units = await unit_options(session, principal, Action.person_read)
    unit = org_unit if org_unit in {code for code, _ in units} else None
    query = service.RegisterQuery(
        service.get_register(code), org_unit=unit, period_from=_day(period_from), period_to=_day(period_to)
    )
    register_page = await service.register_page(session, principal, query, PageParams(page=page, size=PAGE_SIZE))
    kept = {"org_unit": unit or "", "period_from": period_from, "period_to": period_to}
    filters = urlencode({key: value for key, value in kept.items() if value})
    return render(
        request,
        "registers/view.html",
        {
            "register": register_page,
            "code": code,
            "units": units,
            "filters": filters,
            "values": kept,
            "widths": {column.key: _width_class(column.width) for column in register_page.columns},
            "pages": max(1, (register_page.total + PAGE_SIZE - 1) // PAGE_SIZE),
            "params": kept,
        },
    )
