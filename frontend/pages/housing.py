"""Rental housing pages (以房管人): houses and employers in reach, one house or employer with who lives or works
there now and before, moving in (人来登记) by ID number, moving out (人走注销), and linking the landlord's
responsibility agreement. Same services as /api/v1/housing (checked and audited there)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.agreements.repository import AgreementFilters
from backend.agreements.service import list_agreements
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.divisions import township_of
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.housing import service
from backend.housing.auth import ServiceRead, ServiceWrite
from backend.housing.repository import PlaceFilters
from backend.housing.schemas import EmployerCreate, HouseCreate, HouseUpdate, MoveIn, MoveOut
from frontend.forms import Form, FormView
from frontend.pages.common import page_count, page_number, unit_options
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
HOUSE_FIELDS = ("org_unit_code", "address", "door_plate", "owner_name", "business_type", "notes")
EMPLOYER_FIELDS = ("org_unit_code", "name", "address", "legal_representative", "industry")


async def _houses_page(
    request: Request, session: AsyncSession, principal: Principal, form: FormView | None = None
) -> HTMLResponse:
    text = request.query_params.get("q", "").strip()[:100]
    number = page_number(request.query_params.get("page"))
    houses, total = await service.list_houses(
        session, principal, PlaceFilters(text=text or None), PageParams(page=number, size=PAGE_SIZE)
    )
    context = {
        "houses": houses,
        "total": total,
        "q": text,
        "page": number,
        "pages": page_count(total, PAGE_SIZE),
        "params": dict(request.query_params),
        "units": await unit_options(session, principal, Action.service_write),
        "can_write": principal.holds(Action.service_write),
    }
    return render(request, "housing/houses.html", context, form=form or FormView())


@router.get("/housing", response_class=HTMLResponse)
async def houses(request: Request, session: SessionDep, principal: ServiceRead) -> HTMLResponse:
    return await _houses_page(request, session, principal)


@router.post("/housing/houses", response_class=HTMLResponse)
async def create_house(request: Request, session: SessionDep, principal: ServiceWrite) -> Response:
    form = await Form.read(request, HOUSE_FIELDS)
    return await form.submit(
        session,
        HouseCreate,
        lambda body: service.create_house(session, principal, body),
        done=lambda house: f"/housing/houses/{house.id}?done=created",
        again=lambda errors: _houses_page(request, session, principal, form.view(errors)),
    )


@router.get("/housing/employers", response_class=HTMLResponse)
async def employers(request: Request, session: SessionDep, principal: ServiceRead) -> HTMLResponse:
    return await _employers_page(request, session, principal)


async def _employers_page(
    request: Request, session: AsyncSession, principal: Principal, form: FormView | None = None
) -> HTMLResponse:
    found, total = await service.list_employers(session, principal, PlaceFilters(), PageParams(page=1, size=100))
    context = {
        "employers": found,
        "total": total,
        "units": await unit_options(session, principal, Action.service_write),
        "can_write": principal.holds(Action.service_write),
    }
    return render(request, "housing/employers.html", context, form=form or FormView())


@router.post("/housing/employers", response_class=HTMLResponse)
async def create_employer(request: Request, session: SessionDep, principal: ServiceWrite) -> Response:
    form = await Form.read(request, EMPLOYER_FIELDS)
    return await form.submit(
        session,
        EmployerCreate,
        lambda body: service.create_employer(session, principal, body),
        done=lambda employer: f"/housing/employers/{employer.id}?done=created",
        again=lambda errors: _employers_page(request, session, principal, form.view(errors)),
    )


async def _house_page(
    request: Request, session: AsyncSession, principal: Principal, house_id: uuid.UUID, form: FormView | None = None
) -> HTMLResponse:
    house = await service.get_house(session, principal, house_id)
    township = township_of(house.org_unit_code) or house.org_unit_code
    agreements, _ = await list_agreements(
        session, principal, AgreementFilters(org_unit_code=township), offset=0, limit=100
    )
    context = {
        "house": house,
        "agreements": [(str(agreement.id), agreement.title) for agreement in agreements],
        "can_write": principal.can(Action.service_write, house.org_unit_code),
    }
    return render(request, "housing/house.html", context, form=form or FormView())


@router.get("/housing/houses/{house_id}", response_class=HTMLResponse)
async def house_detail(request: Request, session: SessionDep, principal: ServiceRead, house_id: uuid.UUID) -> Response:
    return await _house_page(request, session, principal, house_id)


@router.post("/housing/houses/{house_id}/tenants", response_class=HTMLResponse)
async def move_in(request: Request, session: SessionDep, principal: ServiceWrite, house_id: uuid.UUID) -> Response:
    form = await Form.read(request, ("resident_id", "moved_in_on"))
    return await form.submit(
        session,
        MoveIn,
        lambda body: service.move_into_house(session, principal, house_id, body),
        done=f"/housing/houses/{house_id}?done=moved_in",
        again=lambda errors: _house_page(request, session, principal, house_id, form.view(errors)),
    )


@router.post("/housing/houses/{house_id}/agreement", response_class=HTMLResponse)
async def link_agreement(
    request: Request, session: SessionDep, principal: ServiceWrite, house_id: uuid.UUID
) -> Response:
    form = await Form.read(request, ("agreement_id", "version"))
    data = {"version": form.values["version"], "agreement_id": form.values["agreement_id"] or None}
    return await form.submit(
        session,
        HouseUpdate,
        lambda body: service.update_house(session, principal, house_id, body),
        data=data,
        done=f"/housing/houses/{house_id}?done=linked",
        again=lambda errors: _house_page(request, session, principal, house_id, form.view(errors)),
    )


@router.post("/housing/occupancies/{occupancy_id}/end", response_class=HTMLResponse)
async def move_out(request: Request, session: SessionDep, principal: ServiceWrite, occupancy_id: uuid.UUID) -> Response:
    form = await Form.read(request, ("moved_out_on", "version", "back"))
    back = form.values["back"] if form.values["back"].startswith("/housing/") else "/housing"
    form.fields["moved_out_on"] = f"moved_out_on_{occupancy_id}"

    async def again(errors: dict[str, str]) -> HTMLResponse:
        place = uuid.UUID(back.rsplit("/", 1)[-1])
        if back.startswith("/housing/employers/"):
            return await _employer_page(request, session, principal, place, form.view(errors))
        return await _house_page(request, session, principal, place, form.view(errors))

    return await form.submit(
        session,
        MoveOut,
        lambda body: service.move_out(session, principal, occupancy_id, body),
        data=form.given("moved_out_on", "version"),
        done=f"{back}?done=moved_out",
        again=again,
    )


async def _employer_page(
    request: Request, session: AsyncSession, principal: Principal, employer_id: uuid.UUID, form: FormView | None = None
) -> HTMLResponse:
    employer = await service.get_employer(session, principal, employer_id)
    context = {"employer": employer, "can_write": principal.can(Action.service_write, employer.org_unit_code)}
    return render(request, "housing/employer.html", context, form=form or FormView())


@router.get("/housing/employers/{employer_id}", response_class=HTMLResponse)
async def employer_detail(
    request: Request, session: SessionDep, principal: ServiceRead, employer_id: uuid.UUID
) -> Response:
    return await _employer_page(request, session, principal, employer_id)


@router.post("/housing/employers/{employer_id}/employees", response_class=HTMLResponse)
async def employ(request: Request, session: SessionDep, principal: ServiceWrite, employer_id: uuid.UUID) -> Response:
    form = await Form.read(request, ("resident_id", "moved_in_on"))
    return await form.submit(
        session,
        MoveIn,
        lambda body: service.start_employment(session, principal, employer_id, body),
        done=f"/housing/employers/{employer_id}?done=employed",
        again=lambda errors: _employer_page(request, session, principal, employer_id, form.view(errors)),
    )
