"""Every query of rental housing and employers: houses and employers in reach with their current occupants,
occupancies (tenancies and employments), the houses a campaign should walk, and the two registers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select

from backend.db.repository import TenantScopedRepository
from backend.db.search import contains
from backend.housing.errors import EmployerNotFound, HouseNotFound, OccupancyNotFound
from backend.models import Employer, Occupancy, OccupancyKind, Person, RentalHouse
from backend.registers.repository import RegisterFilter, RegisterSelect, scoped


@dataclass(frozen=True, slots=True)
class PlaceFilters:
    """Which houses or employers a list shows: a text (address, door plate, owner or name) and one subtree."""

    text: str | None = None
    org_unit: str | None = None
    active_only: bool = True


def _open(kind: OccupancyKind) -> Any:
    return (Occupancy.kind == kind) & Occupancy.moved_out_on.is_(None)


class HouseRepository(TenantScopedRepository[RentalHouse]):
    model = RentalHouse
    entity_type = "rental_house"
    not_found = HouseNotFound

    def search(self, roots: list[str], filters: PlaceFilters) -> Select[RentalHouse]:
        """Houses under the roots, by unit and address."""
        statement = self.base().where(self.in_subtrees(roots))
        if filters.active_only:
            statement = statement.where(RentalHouse.active.is_(True))
        if filters.org_unit:
            statement = statement.where(self.in_subtree(filters.org_unit))
        if filters.text:
            statement = statement.where(
                or_(
                    contains(RentalHouse.address, filters.text),
                    contains(RentalHouse.door_plate, filters.text),
                    contains(RentalHouse.owner_name, filters.text),
                )
            )
        return statement.order_by(RentalHouse.org_unit_code, RentalHouse.address, RentalHouse.id)

    async def door_plate_holder(self, door_plate: str) -> RentalHouse | None:
        """The house holding a door-plate number in the county, if any."""
        return await self.one_or_none(self.base().where(RentalHouse.door_plate == door_plate))

    async def tenant_counts(self, house_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Tenants living in each house now."""
        statement = (
            select(Occupancy.house_id, func.count())
            .where(self.in_county(Occupancy), _open(OccupancyKind.tenant), Occupancy.house_id.in_(house_ids))
            .group_by(Occupancy.house_id)
        )
        return {house_id: int(count) for house_id, count in await self.session.execute(statement) if house_id}

    async def not_visited_since(self, unit_codes: list[str], before: date) -> list[RentalHouse]:
        """Active houses of these units never walked by a campaign, or last walked before `before`."""
        statement = self.base().where(
            RentalHouse.active.is_(True),
            self.in_subtrees(unit_codes),
            or_(RentalHouse.last_visited_on.is_(None), RentalHouse.last_visited_on < before),
        )
        return await self.all(statement.order_by(RentalHouse.org_unit_code, RentalHouse.address))

    def register(self, register_filter: RegisterFilter) -> RegisterSelect:
        """《房屋出租户登记表》 rows: (RentalHouse, tenants now), by unit and address; the period applies to when
        the house was registered."""
        tenants = (
            select(func.count(Occupancy.id))
            .where(self.in_county(Occupancy), _open(OccupancyKind.tenant), Occupancy.house_id == RentalHouse.id)
            .correlate(RentalHouse)
            .scalar_subquery()
        )
        statement = (
            select(RentalHouse, tenants.label("tenants"))
            .where(self.in_county())
            .order_by(RentalHouse.org_unit_code, RentalHouse.address, RentalHouse.id)
        )
        return scoped(statement, RentalHouse.org_unit_code, RentalHouse.created_at, register_filter, timestamps=True)


class EmployerRepository(TenantScopedRepository[Employer]):
    model = Employer
    entity_type = "employer"
    not_found = EmployerNotFound

    def search(self, roots: list[str], filters: PlaceFilters) -> Select[Employer]:
        """Employers under the roots, by unit and name."""
        statement = self.base().where(self.in_subtrees(roots))
        if filters.active_only:
            statement = statement.where(Employer.active.is_(True))
        if filters.org_unit:
            statement = statement.where(self.in_subtree(filters.org_unit))
        if filters.text:
            statement = statement.where(
                or_(
                    contains(Employer.name, filters.text),
                    contains(Employer.address, filters.text),
                )
            )
        return statement.order_by(Employer.org_unit_code, Employer.name, Employer.id)

    async def employee_counts(self, employer_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Employees working for each employer now."""
        statement = (
            select(Occupancy.employer_id, func.count())
            .where(self.in_county(Occupancy), _open(OccupancyKind.employee), Occupancy.employer_id.in_(employer_ids))
            .group_by(Occupancy.employer_id)
        )
        return {employer_id: int(count) for employer_id, count in await self.session.execute(statement) if employer_id}


class OccupancyRepository(TenantScopedRepository[Occupancy]):
    model = Occupancy
    entity_type = "occupancy"
    not_found = OccupancyNotFound

    async def of_place(
        self, *, house_id: uuid.UUID | None = None, employer_id: uuid.UUID | None = None
    ) -> list[tuple[Occupancy, str]]:
        """A house's or an employer's occupancies with the person's name: current ones first, then by move-out."""
        statement = (
            select(Occupancy, Person.name)
            .join(Person, Person.id == Occupancy.person_id)
            .where(self.in_county(), self.in_county(Person))
            .order_by(Occupancy.moved_out_on.desc().nulls_first(), Occupancy.moved_in_on.desc(), Occupancy.id)
        )
        if house_id is not None:
            statement = statement.where(Occupancy.house_id == house_id)
        if employer_id is not None:
            statement = statement.where(Occupancy.employer_id == employer_id)
        return [(row[0], row[1]) for row in await self.session.execute(statement)]

    async def open_tenancy(self, person_id: uuid.UUID) -> tuple[Occupancy, RentalHouse] | None:
        """Where the person lives now (her open tenancy and its house), if anywhere."""
        statement = (
            select(Occupancy, RentalHouse)
            .join(RentalHouse, RentalHouse.id == Occupancy.house_id)
            .where(self.in_county(), self.in_county(RentalHouse), Occupancy.person_id == person_id)
            .where(_open(OccupancyKind.tenant))
        )
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1]) if row is not None else None

    async def open_job(self, person_id: uuid.UUID, employer_id: uuid.UUID) -> Occupancy | None:
        """Her open employment with this employer, if any."""
        statement = self.base().where(
            Occupancy.person_id == person_id, Occupancy.employer_id == employer_id, _open(OccupancyKind.employee)
        )
        return await self.one_or_none(statement)

    async def open_for_person(self, person_id: uuid.UUID) -> list[Occupancy]:
        """Every open tenancy and employment of the person, locked to close them."""
        statement = (
            self.base().where(Occupancy.person_id == person_id, Occupancy.moved_out_on.is_(None)).with_for_update()
        )
        return await self.all(statement)

    def register(self, register_filter: RegisterFilter) -> RegisterSelect:
        """《暂住人口情况登记簿》 rows: (Occupancy, Person, RentalHouse or None, Employer or None), by unit and
        move-in day; the period applies to the move-in day."""
        statement = (
            select(Occupancy, Person, RentalHouse, Employer)
            .join(Person, Person.id == Occupancy.person_id)
            .outerjoin(RentalHouse, (RentalHouse.id == Occupancy.house_id) & self.in_county(RentalHouse))
            .outerjoin(Employer, (Employer.id == Occupancy.employer_id) & self.in_county(Employer))
            .where(self.in_county(), self.in_county(Person))
            .order_by(Occupancy.org_unit_code, Occupancy.moved_in_on, Occupancy.id)
        )
        return scoped(statement, Occupancy.org_unit_code, Occupancy.moved_in_on, register_filter)
