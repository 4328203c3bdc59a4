"""Free technical service routes (免费技术服务): the items (national and the county's), services delivered and the
free-service rate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from backend.core.input import AnyDate
from backend.core.list_filters import UnitQuery
from backend.core.pagination import Page, PageDep
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.free_services import schemas, service
from backend.free_services.auth import ItemsConfigure, ServiceRead, ServiceWrite
from backend.free_services.schemas import FreeServiceItemRead, FreeServiceRate, ItemCreate, ItemUpdate, ServiceCreate

router = APIRouter(prefix=f"{API_V1}/free-services", tags=["free-services"])


@router.get("/items", summary="The free service items: the six national ones and the county's own")
async def items(session: SessionDep, _: ServiceRead) -> list[FreeServiceItemRead]:
    return await service.list_items(session)


@router.post("/items", status_code=201, summary="Add a county item")
async def add_item(session: SessionDep, principal: ItemsConfigure, body: ItemCreate) -> FreeServiceItemRead:
    return await service.add_item(session, principal, body)


@router.patch("/items/{code}", summary="Rename or switch a county item on or off")
async def update_item(
    session: SessionDep,
    principal: ItemsConfigure,
    code: Annotated[schemas.ItemCode, Path()],
    body: ItemUpdate,
) -> FreeServiceItemRead:
    return await service.update_item(session, principal, code, body)


@router.get("", summary="Free services delivered in your reach, newest first")
async def list_services(
    session: SessionDep,
    principal: ServiceRead,
    page: PageDep,
    org_unit: UnitQuery = None,
    period_from: Annotated[AnyDate | None, Query()] = None,
    period_to: Annotated[AnyDate | None, Query()] = None,
) -> Page[schemas.ServiceRead]:
    found, total = await service.list_services(session, principal, page, org_unit, period_from, period_to)
    return Page[schemas.ServiceRead](items=found, total=total, page=page.page, size=page.size)


@router.post("", status_code=201, summary="Record a free service delivered")
async def record(session: SessionDep, principal: ServiceWrite, body: ServiceCreate) -> schemas.ServiceRead:
    return await service.record_service(session, principal, body)


@router.get("/rates", summary="免费服务落实率 per village, township and county")
async def rates(
    session: SessionDep,
    principal: ServiceRead,
    period_from: Annotated[AnyDate | None, Query()] = None,
    period_to: Annotated[AnyDate | None, Query()] = None,
    org_unit: UnitQuery = None,
) -> list[FreeServiceRate]:
    return await service.free_service_rates(session, principal, period_from, period_to, org_unit)
