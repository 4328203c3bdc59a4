"""The yearly archive page (年度归档, P26): the volumes of the units in reach with their index and manifest, and the
form that asks for a year's volume of the county or a township (bound by the worker). Same services and checks as
/api/v1/archive."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.archive import service
from backend.archive.auth import ArchiveManage
from backend.archive.schemas import ArchiveRequest
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.db.session import SessionDep
from backend.org import service as org
from frontend.forms import Form, FormView
from frontend.pages.common import unit_names
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

TOWNSHIP_CODE_LENGTH = 9


async def _archive_page(
    request: Request, session: AsyncSession, principal: Principal, form: FormView | None = None
) -> HTMLResponse:
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.archive_manage))
    return render(
        request,
        "archive/volumes.html",
        {
            "volumes": await service.volumes(session, principal),
            "units": [
                (unit.code, f"{unit.name}（{unit.code}）") for unit in units if len(unit.code) <= TOWNSHIP_CODE_LENGTH
            ],
            "unit_names": await unit_names(session),
            "last_year": china_today().year - 1,
        },
        form=form or FormView(),
    )


@router.get("/archive", response_class=HTMLResponse)
async def volumes(request: Request, session: SessionDep, principal: ArchiveManage) -> HTMLResponse:
    return await _archive_page(request, session, principal)


@router.post("/archive", response_class=HTMLResponse)
async def request_volume(request: Request, session: SessionDep, principal: ArchiveManage) -> Response:
    form = await Form.read(request, ("org_unit_code", "year"))
    return await form.submit(
        session,
        ArchiveRequest,
        lambda body: service.request_volume(session, principal, body),
        done="/archive?done=requested",
        again=lambda errors: _archive_page(request, session, principal, form.view(errors)),
    )
