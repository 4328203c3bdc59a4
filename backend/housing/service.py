"""Rental housing and employers (以房管人, spec P24): houses, employers, tenants and employees (人来登记、人走注销).

Rules this module keeps:
- Houses and employers belong to a unit the caller may write service records for; a door-plate number belongs to
  one house in the county. The landlord's (or legal representative's) responsibility agreement is linked from the
  agreements: one the caller may read, in the county.
- A tenant or employee is a registered, active person in the caller's reach. A person lives in one house at a time:
  moving her in while she still lives in another house is refused at her field, naming that house (the database's
  unique index keeps it so under concurrent requests too). Dates are not in the future; a move-out is not before
  the move-in.
- Moving out closes the tenancy (`moved_out_on`); the house keeps it in its history. A departure found by a
  clean-up campaign closes every open tenancy and employment of the person (`close_for_person`).

Functions flush, never commit; every write is audited.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.agreements.repository import AgreementRepository
from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.core.errors import FieldError, StaleVersion
from backend.core.pagination import PageParams
from backend.housing.errors import DoorPlateTaken, HousingRejected, problem
from backend.housing.repository import EmployerRepository, HouseRepository, OccupancyRepository, PlaceFilters
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
from backend.models import Employer, Occupancy, OccupancyKind, Person, PersonStatus, RentalHouse
from backend.org.repository import OrgUnitRepository
from backend.persons.repository import PersonRepository

HOUSE_ENTITY = HouseRepository.entity_type
EMPLOYER_ENTITY = EmployerRepository.entity_type
OCCUPANCY_ENTITY = OccupancyRepository.entity_type
HOUSE_FIELDS = (
    "org_unit_code",
    "address",
    "door_plate",
    "owner_name",
    "owner_person_id",
    "business_type",
    "agreement_id",
    "notes",
    "active",
)
EMPLOYER_FIELDS = (
    "org_unit_code",
    "name",
    "address",
    "legal_representative",
    "industry",
    "agreement_id",
    "notes",
    "active",
)
OCCUPANCY_FIELDS = ("kind", "house_id", "employer_id", "person_id", "org_unit_code", "moved_in_on", "moved_out_on")


def _snapshot(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in fields} | {"version": row.version}


async def _unit_problems(session: AsyncSession, principal: Principal, code: str) -> list[FieldError]:
    unit = await OrgUnitRepository(session).get_by_code(code)
    if unit is None or not unit.active or not principal.can(Action.service_write, unit.code):
        return [problem("org_unit_code", "单位不存在或超出您的范围", "unknown unit or outside your reach")]
    return []


async def _agreement_problems(
    session: AsyncSession, principal: Principal, agreement_id: uuid.UUID | None
) -> list[FieldError]:
    if agreement_id is None:
        return []
    agreement = await AgreementRepository(session).get(agreement_id)
    if agreement is None or not principal.can(Action.document_read, agreement.org_unit_code):
        return [problem("agreement_id", "责任书不存在或无权查看", "no such agreement in your reach")]
    return []


async def _owner_problems(session: AsyncSession, principal: Principal, person_id: uuid.UUID | None) -> list[FieldError]:
    if person_id is None:
        return []
    person = await PersonRepository(session).get(person_id)
    if person is None or not principal.can(Action.person_read, person.org_unit_code):
        return [problem("owner_person_id", "房主不存在或不在您的范围内", "no such owner in your reach")]
    return []


# --- houses -----------------------------------------------------------------------------------------------------


def _house_read(house: RentalHouse, tenants: int = 0) -> HouseRead:
    return HouseRead.model_validate(house).model_copy(update={"tenants": tenants})


async def create_house(session: AsyncSession, principal: Principal, body: HouseCreate) -> HouseRead:
    """Register a rented house (《房屋出租户登记表》)."""
    repository = HouseRepository(session)
    problems = await _unit_problems(session, principal, body.org_unit_code)
    problems += await _agreement_problems(session, principal, body.agreement_id)
    problems += await _owner_problems(session, principal, body.owner_person_id)
    if problems:
        raise HousingRejected(problems)
    if body.door_plate and await repository.door_plate_holder(body.door_plate) is not None:
        raise DoorPlateTaken()
    house = RentalHouse(id=uuid.uuid4(), tenant_id=repository.tenant_id, **body.model_dump(), active=True)
    repository.add(house)
    await repository.flush_unique("uq_rental_houses_door_plate", DoorPlateTaken)
    await audit.record_about(
        session, HOUSE_ENTITY, house, "housing.house_create", audit.diff(None, _snapshot(house, HOUSE_FIELDS))
    )
    return _house_read(house)


async def house_in_reach(
    session: AsyncSession, principal: Principal, house_id: uuid.UUID, action: Action, *, for_update: bool = False
) -> RentalHouse:
    """The house if the caller may `action` on its unit; 404 otherwise (403 to change one she may only read)."""
    return await HouseRepository(session).get_in_reach(
        principal, action, house_id, for_update=for_update, visible_with=Action.service_read
    )


async def update_house(
    session: AsyncSession, principal: Principal, house_id: uuid.UUID, body: HouseUpdate
) -> HouseRead:
    """Change a house (link the landlord's agreement, correct the address ...), optimistic lock on `version`."""
    house = await house_in_reach(session, principal, house_id, Action.service_write, for_update=True)
    if body.version != house.version:
        raise StaleVersion(current=HouseRead.model_validate(house).model_dump(mode="json"))
    given = body.model_dump(exclude_unset=True, exclude={"version"})
    problems = await _agreement_problems(session, principal, given.get("agreement_id"))
    if problems:
        raise HousingRejected(problems)
    plate = given.get("door_plate")
    if plate and plate != house.door_plate and await HouseRepository(session).door_plate_holder(plate) is not None:
        raise DoorPlateTaken()
    before = _snapshot(house, HOUSE_FIELDS)
    for name, value in given.items():
        setattr(house, name, value)
    await HouseRepository(session).flush_unique("uq_rental_houses_door_plate", DoorPlateTaken)
    changes = audit.diff(before, _snapshot(house, HOUSE_FIELDS))
    if changes:
        await audit.record_about(session, HOUSE_ENTITY, house, "housing.house_update", changes)
    counts = await HouseRepository(session).tenant_counts([house.id])
    return _house_read(house, counts.get(house.id, 0))


async def list_houses(
    session: AsyncSession, principal: Principal, filters: PlaceFilters, paging: PageParams
) -> tuple[list[HouseRead], int]:
    """A page of the houses in the caller's reach with their tenant counts."""
    repository = HouseRepository(session)
    houses, total = await repository.page(
        repository.search(principal.scopes_for(Action.service_read), filters), offset=paging.offset, limit=paging.size
    )
    counts = await repository.tenant_counts([house.id for house in houses])
    return [_house_read(house, counts.get(house.id, 0)) for house in houses], total


def _occupancies(rows: list[tuple[Occupancy, str]]) -> tuple[list[OccupancyRead], list[OccupancyRead]]:
    reads = [OccupancyRead.model_validate(row).model_copy(update={"person_name": name}) for row, name in rows]
    return [read for read in reads if read.moved_out_on is None], [read for read in reads if read.moved_out_on]


async def get_house(session: AsyncSession, principal: Principal, house_id: uuid.UUID) -> HouseDetail:
    """A house in reach with who lives there now and who lived there."""
    house = await house_in_reach(session, principal, house_id, Action.service_read)
    current, history = _occupancies(await OccupancyRepository(session).of_place(house_id=house.id))
    return HouseDetail.model_validate(house).model_copy(
        update={"tenants": len(current), "current": current, "history": history}
    )


# --- employers --------------------------------------------------------------------------------------------------


async def create_employer(session: AsyncSession, principal: Principal, body: EmployerCreate) -> EmployerRead:
    """Register an employer of floating people (用工单位)."""
    repository = EmployerRepository(session)
    problems = await _unit_problems(session, principal, body.org_unit_code)
    problems += await _agreement_problems(session, principal, body.agreement_id)
    if problems:
        raise HousingRejected(problems)
    employer = Employer(id=uuid.uuid4(), tenant_id=repository.tenant_id, **body.model_dump(), active=True)
    repository.add(employer)
    await repository.flush()
    changes = audit.diff(None, _snapshot(employer, EMPLOYER_FIELDS))
    await audit.record_about(session, EMPLOYER_ENTITY, employer, "housing.employer_create", changes)
    return EmployerRead.model_validate(employer)


async def employer_in_reach(
    session: AsyncSession, principal: Principal, employer_id: uuid.UUID, action: Action, *, for_update: bool = False
) -> Employer:
    """The employer if the caller may `action` on its unit; 404 otherwise."""
    return await EmployerRepository(session).get_in_reach(
        principal, action, employer_id, for_update=for_update, visible_with=Action.service_read
    )


async def update_employer(
    session: AsyncSession, principal: Principal, employer_id: uuid.UUID, body: EmployerUpdate
) -> EmployerRead:
    """Change an employer (link the agreement ...), optimistic lock on `version`."""
    employer = await employer_in_reach(session, principal, employer_id, Action.service_write, for_update=True)
    if body.version != employer.version:
        raise StaleVersion(current=EmployerRead.model_validate(employer).model_dump(mode="json"))
    given = body.model_dump(exclude_unset=True, exclude={"version"})
    problems = await _agreement_problems(session, principal, given.get("agreement_id"))
    if problems:
        raise HousingRejected(problems)
    before = _snapshot(employer, EMPLOYER_FIELDS)
    for name, value in given.items():
        setattr(employer, name, value)
    await session.flush()
    changes = audit.diff(before, _snapshot(employer, EMPLOYER_FIELDS))
    if changes:
        await audit.record_about(session, EMPLOYER_ENTITY, employer, "housing.employer_update", changes)
    return EmployerRead.model_validate(employer)


async def list_employers(
    session: AsyncSession, principal: Principal, filters: PlaceFilters, paging: PageParams
) -> tuple[list[EmployerRead], int]:
    """A page of the employers in the caller's reach with their employee counts."""
    repository = EmployerRepository(session)
    employers, total = await repository.page(
        repository.search(principal.scopes_for(Action.service_read), filters), offset=paging.offset, limit=paging.size
    )
    counts = await repository.employee_counts([employer.id for employer in employers])
    return [
        EmployerRead.model_validate(employer).model_copy(update={"employees": counts.get(employer.id, 0)})
        for employer in employers
    ], total


async def get_employer(session: AsyncSession, principal: Principal, employer_id: uuid.UUID) -> EmployerDetail:
    """An employer in reach with its employees now and before."""
    employer = await employer_in_reach(session, principal, employer_id, Action.service_read)
    current, history = _occupancies(await OccupancyRepository(session).of_place(employer_id=employer.id))
    return EmployerDetail.model_validate(employer).model_copy(
        update={"employees": len(current), "current": current, "history": history}
    )


# --- moving in and out ------------------------------------------------------------------------------------------


async def _person(session: AsyncSession, principal: Principal, body: MoveIn) -> Person | FieldError:
    person, field = await PersonRepository(session).by_reference(body.person_id, body.resident_id)
    if field is None:
        return problem("person_id", "请填写身份证号码或选择人员", "give her ID number or choose the person")
    if person is None or not principal.can(Action.service_write, person.org_unit_code):
        return problem(
            field, "未找到该人员，或不在您的范围内（请先登记人员）", "no such person in your reach (register her first)"
        )
    if person.status is not PersonStatus.active:
        return problem(field, "该人员已注销或已合并", "the person's record is no longer active")
    return person


def _field_of(body: MoveIn) -> str:
    return "person_id" if body.person_id is not None else "resident_id"


async def _occupy(
    session: AsyncSession,
    principal: Principal,
    body: MoveIn,
    *,
    house: RentalHouse | None = None,
    employer: Employer | None = None,
) -> OccupancyRead:
    found = await _person(session, principal, body)
    problems = [found] if isinstance(found, FieldError) else []
    if body.moved_in_on > china_today():
        problems.append(problem("moved_in_on", "入住日期不能晚于今天", "the move-in date is in the future"))
    repository = OccupancyRepository(session)
    if isinstance(found, Person):
        if house is not None and (living := await repository.open_tenancy(found.id)) is not None:
            _, where = living
            plate = f"（{where.door_plate}）" if where.door_plate else ""
            problems.append(
                problem(
                    _field_of(body),
                    f"{found.name}已登记住在{where.address}{plate}，请先在该处登记迁出",
                    f"{found.name} is registered as living at {where.address}{plate}: record her move-out there first",
                )
            )
        if employer is not None and await repository.open_job(found.id, employer.id) is not None:
            problems.append(problem(_field_of(body), f"{found.name}已登记在本单位务工", "already working here"))
    if problems or not isinstance(found, Person):
        raise HousingRejected(problems)
    place = house or employer
    assert place is not None
    occupancy = Occupancy(
        id=uuid.uuid4(),
        tenant_id=place.tenant_id,
        kind=OccupancyKind.tenant if house is not None else OccupancyKind.employee,
        house_id=house.id if house is not None else None,
        employer_id=employer.id if employer is not None else None,
        person_id=found.id,
        org_unit_code=place.org_unit_code,
        moved_in_on=body.moved_in_on,
        notes=body.notes,
    )
    repository.add(occupancy)

    def taken() -> HousingRejected:
        return HousingRejected(
            [problem(_field_of(body), "该人员刚刚被登记在另一处", "she was just registered elsewhere; reload")]
        )

    await repository.flush_unique("uq_occupancies_", taken)
    await audit.record_about(
        session,
        OCCUPANCY_ENTITY,
        occupancy,
        "housing.move_in",
        audit.diff(None, _snapshot(occupancy, OCCUPANCY_FIELDS)),
    )
    return OccupancyRead.model_validate(occupancy).model_copy(update={"person_name": found.name})


async def move_into_house(
    session: AsyncSession, principal: Principal, house_id: uuid.UUID, body: MoveIn
) -> OccupancyRead:
    """人来登记: a tenant moved into the house."""
    house = await house_in_reach(session, principal, house_id, Action.service_write, for_update=True)
    return await _occupy(session, principal, body, house=house)


async def start_employment(
    session: AsyncSession, principal: Principal, employer_id: uuid.UUID, body: MoveIn
) -> OccupancyRead:
    """An employee started work at the employer."""
    employer = await employer_in_reach(session, principal, employer_id, Action.service_write, for_update=True)
    return await _occupy(session, principal, body, employer=employer)


async def _close(session: AsyncSession, occupancy: Occupancy, on: date, reason: str | None = None) -> None:
    before = _snapshot(occupancy, OCCUPANCY_FIELDS)
    occupancy.moved_out_on = on
    await session.flush()
    changes = audit.diff(before, _snapshot(occupancy, OCCUPANCY_FIELDS))
    await audit.record_about(session, OCCUPANCY_ENTITY, occupancy, "housing.move_out", changes, reason=reason)


async def move_out(
    session: AsyncSession, principal: Principal, occupancy_id: uuid.UUID, body: MoveOut
) -> OccupancyRead:
    """人走注销: she moved out of the house (or left the job); the tenancy is closed and kept in the history."""
    repository = OccupancyRepository(session)
    occupancy = await repository.get_in_reach(
        principal, Action.service_write, occupancy_id, for_update=True, visible_with=Action.service_read
    )
    if body.version is not None and body.version != occupancy.version:
        raise StaleVersion(current=OccupancyRead.model_validate(occupancy).model_dump(mode="json"))
    problems = []
    if occupancy.moved_out_on is not None:
        problems.append(problem("moved_out_on", "已登记迁出", "the move-out is already recorded"))
    elif body.moved_out_on > china_today():
        problems.append(problem("moved_out_on", "迁出日期不能晚于今天", "the move-out date is in the future"))
    elif body.moved_out_on < occupancy.moved_in_on:
        problems.append(problem("moved_out_on", "迁出日期早于入住日期", "the move-out date is before the move-in"))
    if problems:
        raise HousingRejected(problems)
    await _close(session, occupancy, body.moved_out_on)
    name = await PersonRepository(session).get(occupancy.person_id)
    return OccupancyRead.model_validate(occupancy).model_copy(update={"person_name": name.name if name else ""})


async def close_for_person(session: AsyncSession, person_id: uuid.UUID, on: date, reason: str) -> int:
    """Close every open tenancy and employment of a person who left (a departure recorded elsewhere, e.g. by a
    clean-up campaign); how many were closed."""
    occupancies = await OccupancyRepository(session).open_for_person(person_id)
    for occupancy in occupancies:
        await _close(session, occupancy, max(on, occupancy.moved_in_on), reason)
    return len(occupancies)


async def record_house_visit(session: AsyncSession, house: RentalHouse, on: date) -> None:
    """A campaign walked the house on `on` (the latest walk is kept for the next campaign's list)."""
    if house.last_visited_on is None or house.last_visited_on < on:
        before = house.last_visited_on
        house.last_visited_on = on
        await session.flush()
        await audit.record_about(session, HOUSE_ENTITY, house, "housing.visit", {"last_visited_on": [before, on]})
