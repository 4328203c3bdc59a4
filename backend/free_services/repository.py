"""Every query of free technical services: the county's items, services in reach, the rate's two counts and the
register."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, func, select

from backend.db.repository import TenantScopedRepository
from backend.db.scoping import subtree, under_roots
from backend.free_services.errors import FreeServiceItemNotFound
from backend.models import FlowDirection, FreeService, FreeServiceItem, MaritalStatus, Person, PersonStatus, Sex
from backend.registers.repository import RegisterFilter, RegisterSelect, scoped

MARRIED = (MaritalStatus.first_marriage, MaritalStatus.remarried)


class ItemRepository(TenantScopedRepository[FreeServiceItem]):
    model = FreeServiceItem
    unit_column = None  # a county-wide setting
    entity_type = "free_service_item"
    not_found = FreeServiceItemNotFound

    async def by_code(self, code: str, *, for_update: bool = False) -> FreeServiceItem | None:
        """The county's item of this code."""
        statement = self.base().where(FreeServiceItem.code == code)
        return await self.one_or_none(statement.with_for_update() if for_update else statement)

    async def listed(self) -> list[FreeServiceItem]:
        """The county's own items, by code."""
        return await self.all(self.base().order_by(FreeServiceItem.code))


class ServiceRepository(TenantScopedRepository[FreeService]):
    model = FreeService
    entity_type = "free_service"

    def search(
        self, roots: list[str], org_unit: str | None, period_from: date | None, period_to: date | None
    ) -> RegisterSelect:
        """Services under the roots in the period, newest first, with the person's name."""
        statement = (
            select(FreeService, Person.name)
            .join(Person, Person.id == FreeService.person_id)
            .where(self.in_county(), self.in_county(Person), self.in_subtrees(roots))
            .order_by(FreeService.served_on.desc(), FreeService.created_at.desc())
        )
        if org_unit:
            statement = statement.where(self.in_subtree(org_unit))
        if period_from is not None:
            statement = statement.where(FreeService.served_on >= period_from)
        if period_to is not None:
            statement = statement.where(FreeService.served_on <= period_to)
        return statement

    async def rows(self, statement: RegisterSelect, *, offset: int, limit: int) -> list[tuple[FreeService, str]]:
        """One page of (service, name) rows."""
        return [(row[0], row[1]) for row in await self.session.execute(statement.offset(offset).limit(limit))]

    def _eligible(
        self, roots: list[str], born_after: date, born_by: date, org_unit: str | None
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [
            self.in_county(Person),
            Person.status == PersonStatus.active,
            Person.sex == Sex.female,
            Person.flow_direction != FlowDirection.outflow,
            Person.marital_status.in_(MARRIED),
            Person.birth_date > born_after,
            Person.birth_date <= born_by,
            under_roots(Person.org_unit_code, roots),
        ]
        if org_unit:
            conditions.append(subtree(Person.org_unit_code, org_unit))
        return conditions

    async def eligible_counts(
        self, roots: list[str], born_after: date, born_by: date, org_unit: str | None
    ) -> dict[str, int]:
        """Married women of reproductive age living in each unit now."""
        statement = (
            select(Person.org_unit_code, func.count())
            .where(*self._eligible(roots, born_after, born_by, org_unit))
            .group_by(Person.org_unit_code)
        )
        return {unit: int(count) for unit, count in await self.session.execute(statement)}

    async def served_counts(
        self,
        roots: list[str],
        born_after: date,
        born_by: date,
        org_unit: str | None,
        period_from: date | None,
        period_to: date | None,
    ) -> dict[str, int]:
        """Of them, those who received at least one free service in the period, per unit."""
        served = select(FreeService.id).where(self.in_county(), FreeService.person_id == Person.id)
        if period_from is not None:
            served = served.where(FreeService.served_on >= period_from)
        if period_to is not None:
            served = served.where(FreeService.served_on <= period_to)
        statement = (
            select(Person.org_unit_code, func.count())
            .where(*self._eligible(roots, born_after, born_by, org_unit), served.correlate(Person).exists())
            .group_by(Person.org_unit_code)
        )
        return {unit: int(count) for unit, count in await self.session.execute(statement)}

    def register(self, register_filter: RegisterFilter) -> RegisterSelect:
        """免费技术服务登记册 rows: (FreeService, Person, the county item's name or None), by day; filtered on the
        person's unit at the time of the service and, for the period, on the day of service."""
        statement = (
            select(FreeService, Person, FreeServiceItem.name)
            .join(Person, Person.id == FreeService.person_id)
            .outerjoin(
                FreeServiceItem,
                (FreeServiceItem.code == FreeService.item_code) & self.in_county(FreeServiceItem),
            )
            .where(self.in_county(), self.in_county(Person))
            .order_by(FreeService.served_on, FreeService.created_at, FreeService.id)
        )
        return scoped(statement, FreeService.org_unit_code, FreeService.served_on, register_filter)
