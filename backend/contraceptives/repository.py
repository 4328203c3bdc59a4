"""Every query of contraceptive distribution: points in reach, balances (the sum of a point's movements), movements,
the reconciliation's two sides (the registry's users of a method, the recipients of a product) and the register."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from backend.contraceptives.errors import PointNotFound
from backend.db.repository import TenantScopedRepository
from backend.db.scoping import subtree, under_roots
from backend.models import (
    ContraceptionMeasure,
    ContraceptiveProduct,
    DistributionPoint,
    FlowDirection,
    MovementKind,
    Person,
    PersonStatus,
    StockMovement,
)
from backend.registers.repository import RegisterFilter, RegisterSelect, scoped

SIGNED = case((StockMovement.kind == MovementKind.received, StockMovement.quantity), else_=-StockMovement.quantity)


class PointRepository(TenantScopedRepository[DistributionPoint]):
    model = DistributionPoint
    entity_type = "distribution_point"
    not_found = PointNotFound

    async def in_reach(self, roots: list[str], org_unit: str | None = None) -> list[DistributionPoint]:
        """The active points under the roots, by unit and name."""
        statement = self.base().where(self.in_subtrees(roots), DistributionPoint.active.is_(True))
        if org_unit:
            statement = statement.where(self.in_subtree(org_unit))
        return await self.all(statement.order_by(DistributionPoint.org_unit_code, DistributionPoint.name))

    async def name_taken(self, org_unit_code: str, name: str) -> bool:
        """Whether the unit already has a point of this name."""
        statement = self.base().where(DistributionPoint.org_unit_code == org_unit_code, DistributionPoint.name == name)
        return await self.first(statement) is not None

    async def balances(self, point_ids: Iterable[uuid.UUID]) -> dict[tuple[uuid.UUID, ContraceptiveProduct], int]:
        """(point, product) -> quantity in stock, for the products that ever moved there."""
        statement = (
            select(StockMovement.point_id, StockMovement.product, func.sum(SIGNED))
            .where(self.in_county(StockMovement), StockMovement.point_id.in_(list(point_ids)))
            .group_by(StockMovement.point_id, StockMovement.product)
        )
        return {(point, product): int(total) for point, product, total in await self.session.execute(statement)}

    async def balance(self, point_id: uuid.UUID, product: ContraceptiveProduct) -> int:
        """The point's stock of one product (the caller holds the point's row lock)."""
        statement = select(func.coalesce(func.sum(SIGNED), 0)).where(
            self.in_county(StockMovement), StockMovement.point_id == point_id, StockMovement.product == product
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def movements(self, point_id: uuid.UUID, limit: int) -> list[tuple[StockMovement, str | None]]:
        """The point's latest movements, newest first, with the recipient's name."""
        statement = (
            select(StockMovement, Person.name)
            .outerjoin(Person, (Person.id == StockMovement.person_id) & self.in_county(Person))
            .where(self.in_county(StockMovement), StockMovement.point_id == point_id)
            .order_by(StockMovement.created_at.desc(), StockMovement.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in await self.session.execute(statement)]

    async def residents(self, org_unit_code: str) -> list[Person]:
        """The active persons a point's unit keeps, by name: who may receive at its points."""
        statement = (
            self.county_rows(Person)
            .where(Person.status == PersonStatus.active, subtree(Person.org_unit_code, org_unit_code))
            .order_by(Person.name, Person.id)
        )
        return await self.all(statement)

    async def method_users(
        self, roots: list[str], measures: Iterable[ContraceptionMeasure], org_unit: str | None
    ) -> list[tuple[str, ContraceptionMeasure, uuid.UUID, str]]:
        """Active persons living here under the roots whose recorded measure is one of `measures`:
        (unit, measure, id, name)."""
        statement = select(Person.org_unit_code, Person.contraception_measure, Person.id, Person.name).where(
            self.in_county(Person),
            Person.status == PersonStatus.active,
            Person.flow_direction != FlowDirection.outflow,
            Person.contraception_measure.in_(list(measures)),
            under_roots(Person.org_unit_code, roots),
        )
        if org_unit:
            statement = statement.where(subtree(Person.org_unit_code, org_unit))
        return [tuple(row) for row in await self.session.execute(statement.order_by(Person.name))]  # type: ignore[misc]

    async def recipients(
        self, roots: list[str], period_from: date | None, period_to: date | None, org_unit: str | None
    ) -> list[tuple[Any, ...]]:
        """Who received what in the period under the roots (by the issuing unit): (unit, product, person id, name,
        quantity)."""
        statement = (
            select(
                StockMovement.org_unit_code,
                StockMovement.product,
                Person.id,
                Person.name,
                func.sum(StockMovement.quantity),
            )
            .join(Person, (Person.id == StockMovement.person_id) & self.in_county(Person))
            .where(
                self.in_county(StockMovement),
                StockMovement.kind == MovementKind.issued,
                under_roots(StockMovement.org_unit_code, roots),
            )
            .group_by(StockMovement.org_unit_code, StockMovement.product, Person.id, Person.name)
            .order_by(Person.name)
        )
        if org_unit:
            statement = statement.where(subtree(StockMovement.org_unit_code, org_unit))
        if period_from is not None:
            statement = statement.where(StockMovement.moved_on >= period_from)
        if period_to is not None:
            statement = statement.where(StockMovement.moved_on <= period_to)
        return [tuple(row) for row in await self.session.execute(statement)]

    async def anonymous_issued(
        self, roots: list[str], period_from: date | None, period_to: date | None, org_unit: str | None
    ) -> list[tuple[str, ContraceptiveProduct, int]]:
        """Quantities issued without a recipient (self-service boxes) in the period: (unit, product, quantity)."""
        statement = (
            select(StockMovement.org_unit_code, StockMovement.product, func.sum(StockMovement.quantity))
            .where(
                self.in_county(StockMovement),
                StockMovement.kind == MovementKind.issued,
                StockMovement.person_id.is_(None),
                under_roots(StockMovement.org_unit_code, roots),
            )
            .group_by(StockMovement.org_unit_code, StockMovement.product)
        )
        if org_unit:
            statement = statement.where(subtree(StockMovement.org_unit_code, org_unit))
        if period_from is not None:
            statement = statement.where(StockMovement.moved_on >= period_from)
        if period_to is not None:
            statement = statement.where(StockMovement.moved_on <= period_to)
        return [(unit, product, int(total)) for unit, product, total in await self.session.execute(statement)]

    def register(self, register_filter: RegisterFilter) -> RegisterSelect:
        """《避孕药具发放登记册》 rows: (StockMovement, DistributionPoint, recipient Person or None) of every issue, by
        day; filtered on the issuing unit and, for the period, on the day of issue."""
        statement = (
            select(StockMovement, DistributionPoint, Person)
            .join(DistributionPoint, DistributionPoint.id == StockMovement.point_id)
            .outerjoin(Person, (Person.id == StockMovement.person_id) & self.in_county(Person))
            .where(self.in_county(StockMovement), self.in_county(), StockMovement.kind == MovementKind.issued)
            .order_by(StockMovement.moved_on, StockMovement.created_at, StockMovement.id)
        )
        return scoped(statement, StockMovement.org_unit_code, StockMovement.moved_on, register_filter)
