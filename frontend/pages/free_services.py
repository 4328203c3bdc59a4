"""Free technical service pages (免费技术服务): the services delivered in reach with the recording form, the
free-service rate per unit, and the county's items (for its administrators). Same services as
/api/v1/free-services (checked and audited there)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.free_services import service
from backend.free_services.auth import ItemsConfigure, ServiceRead, ServiceWrite
from backend.free_services.schemas import ItemCreate, ItemUpdate, ServiceCreate
from frontend.forms import Form, FormView
from frontend.pages.common import page_count, page_number
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
SERVICE_FIELDS = ("resident_id", "item_code", "provider_name", "served_on", "cost_bearer", "amount", "notes")


async def _services_page(
    request: Request, session: AsyncSession, principal: Principal, form: FormView | None = None
) -> HTMLResponse:
    number = page_number(request.query_params.get("page"))
    found, total = await service.list_services(session, principal, PageParams(page=number, size=PAGE_SIZE))
    items = await service.list_items(session, active_only=True)
    context = {
        "services": found,
        "total": total,
        "page": number,
        "pages": page_count(total, PAGE_SIZE),
        "params": dict(request.query_params),
        "items": [(item.code, item.name) for item in items],
        "names": {item.code: item.name for item in await service.list_items(session)},
        "can_write": principal.holds(Action.service_write),
    }
    return render(request, "free_services/list.html", context, form=form or FormView())


@router.get("/free-services", response_class=HTMLResponse)
async def services(request: Request, session: SessionDep, principal: ServiceRead) -> HTMLResponse:
    return await _services_page(request, session, principal)


@router.post("/free-services", response_class=HTMLResponse)
async def record(request: Request, session: SessionDep, principal: ServiceWrite) -> Response:
    form = await Form.read(request, SERVICE_FIELDS)
    return await form.submit(
        session,
        ServiceCreate,
        lambda body: service.record_service(session, principal, body),
        done="/free-services?done=recorded",
        again=lambda errors: _services_page(request, session, principal, form.view(errors)),
    )


@router.get("/free-services/rates", response_class=HTMLResponse)
async def rates(
    request: Request,
    session: SessionDep,
    principal: ServiceRead,
    period_from: date | None = None,
    period_to: date | None = None,
) -> HTMLResponse:
    found = await service.free_service_rates(session, principal, period_from, period_to)
    context = {"rates": found, "period_from": period_from, "period_to": period_to}
    return render(request, "free_services/rates.html", context)


async def _items_page(request: Request, session: AsyncSession, form: FormView | None = None) -> HTMLResponse:
    context = {"items": await service.list_items(session)}
    return render(request, "free_services/items.html", context, form=form or FormView())


@router.get("/admin/free-service-items", response_class=HTMLResponse)
async def items(request: Request, session: SessionDep, principal: ItemsConfigure) -> HTMLResponse:
    return await _items_page(request, session)


@router.post("/admin/free-service-items", response_class=HTMLResponse)
async def add_item(request: Request, session: SessionDep, principal: ItemsConfigure) -> Response:
    form = await Form.read(request, ("code", "name", "note"))
    return await form.submit(
        session,
        ItemCreate,
        lambda body: service.add_item(session, principal, body),
        done="/admin/free-service-items?done=added",
        again=lambda errors: _items_page(request, session, form.view(errors)),
    )


@router.post("/admin/free-service-items/{code}", response_class=HTMLResponse)
async def switch_item(request: Request, session: SessionDep, principal: ItemsConfigure, code: str) -> Response:
    form = await Form.read(request, ("version", "active"))
    return await form.submit(
        session,
        ItemUpdate,
        lambda body: service.update_item(session, principal, code, body),
        data={"version": form.values["version"], "active": form.values["active"] == "1"},
        done="/admin/free-service-items?done=saved",
        again=lambda errors: _items_page(request, session, form.view(errors)),
    )
