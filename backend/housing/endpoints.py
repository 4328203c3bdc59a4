"""Rental housing and employer routes (以房管人): houses, employers, tenants and employees moving in and out."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from backend.core.input import Text
from backend.core.list_filters import UnitQuery
from backend.core.pagination import Page, PageDep
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.housing import service
from backend.housing.auth import ServiceRead, ServiceWrite
from backend.housing.repository import PlaceFilters
from backend.housing.schemas import (
    EmployerCreate,
    EmployerDetail,
    EmployerRead,
    EmployerUpdate,
    HouseCreate,
    HouseDetail,
    HouseRead,
    HouseUpdate,
    MoveIn,
    MoveOut,
    OccupancyRead,
)

router = APIRouter(prefix=f"{API_V1}/housing", tags=["housing"])

SearchText = Annotated[
    Annotated[str, Text(100, min_length=1)] | None, Query(description="address, door plate, owner or name")
]


@router.get("/houses", summary="Rental houses in your reach, with their tenant counts")
async def list_houses(
    session: SessionDep, principal: ServiceRead, page: PageDep, q: SearchText = None, org_unit: UnitQuery = None
) -> Page[HouseRead]:
    houses, total = await service.list_houses(session, principal, PlaceFilters(q, org_unit), page)
    return Page[HouseRead](items=houses, total=total, page=page.page, size=page.size)


@router.post("/houses", status_code=201, summary="Register a rental house")
async def create_house(session: SessionDep, principal: ServiceWrite, body: HouseCreate) -> HouseRead:
    return await service.create_house(session, principal, body)


@router.get("/houses/{house_id}", summary="A house with its tenants now and before")
async def get_house(session: SessionDep, principal: ServiceRead, house_id: uuid.UUID) -> HouseDetail:
    return await service.get_house(session, principal, house_id)


@router.patch("/houses/{house_id}", summary="Change a house (link the landlord's responsibility agreement ...)")
async def update_house(
    session: SessionDep, principal: ServiceWrite, house_id: uuid.UUID, body: HouseUpdate
) -> HouseRead:
    return await service.update_house(session, principal, house_id, body)


@router.post("/houses/{house_id}/tenants", status_code=201, summary="A tenant moved in (人来登记)")
async def move_in(session: SessionDep, principal: ServiceWrite, house_id: uuid.UUID, body: MoveIn) -> OccupancyRead:
    return await service.move_into_house(session, principal, house_id, body)


@router.get("/employers", summary="Employers in your reach, with their employee counts")
async def list_employers(
    session: SessionDep, principal: ServiceRead, page: PageDep, q: SearchText = None, org_unit: UnitQuery = None
) -> Page[EmployerRead]:
    employers, total = await service.list_employers(session, principal, PlaceFilters(q, org_unit), page)
    return Page[EmployerRead](items=employers, total=total, page=page.page, size=page.size)


@router.post("/employers", status_code=201, summary="Register an employer")
async def create_employer(session: SessionDep, principal: ServiceWrite, body: EmployerCreate) -> EmployerRead:
    return await service.create_employer(session, principal, body)


@router.get("/employers/{employer_id}", summary="An employer with its employees now and before")
async def get_employer(session: SessionDep, principal: ServiceRead, employer_id: uuid.UUID) -> EmployerDetail:
    return await service.get_employer(session, principal, employer_id)


@router.patch("/employers/{employer_id}", summary="Change an employer")
async def update_employer(
    session: SessionDep, principal: ServiceWrite, employer_id: uuid.UUID, body: EmployerUpdate
) -> EmployerRead:
    return await service.update_employer(session, principal, employer_id, body)


@router.post("/employers/{employer_id}/employees", status_code=201, summary="An employee started work")
async def employ(session: SessionDep, principal: ServiceWrite, employer_id: uuid.UUID, body: MoveIn) -> OccupancyRead:
    return await service.start_employment(session, principal, employer_id, body)


@router.post("/occupancies/{occupancy_id}/end", summary="She moved out, or left the job (人走注销)")
async def end(session: SessionDep, principal: ServiceWrite, occupancy_id: uuid.UUID, body: MoveOut) -> OccupancyRead:
    return await service.move_out(session, principal, occupancy_id, body)
