"""Every query of the rewards domain: applications with their case and names, payments, the yearly totals."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Row, Select, and_, case, func, select
from sqlalchemy.orm import aliased

from backend.db.repository import TenantScopedRepository
from backend.models import Case, CaseOutcome, CaseStage, Person, RewardApplication, RewardPayment
from backend.rewards.errors import RewardNotFound

ListedSelect: TypeAlias = Select[*tuple[Any, ...]]
Listed: TypeAlias = Row[*tuple[Any, ...]]
Applicant = aliased(Person, name="applicant")
Payee = aliased(Person, name="payee")


@dataclass(frozen=True, slots=True)
class RewardFilters:
    roots: list[str]
    year: int | None = None
    policy: str | None = None
    state: str | None = None
    org_unit: str | None = None


def state_of(case_row: Any) -> ColumnElement[str]:
    """The application's state from its case: pending while open, then granted / refused / withdrawn."""
    return case(
        (case_row.stage != CaseStage.closed, "pending"),
        (case_row.outcome == CaseOutcome.registered, "granted"),
        (case_row.outcome == CaseOutcome.refused, "refused"),
        else_="withdrawn",
    )


class RewardRepository(TenantScopedRepository[RewardApplication]):
    model = RewardApplication
    entity_type = "reward_application"
    not_found = RewardNotFound

    def _listed(self) -> ListedSelect:
        paid = (
            select(func.coalesce(func.sum(RewardPayment.amount), 0))
            .where(self.in_county(RewardPayment), RewardPayment.reward_id == RewardApplication.id)
            .correlate(RewardApplication)
            .scalar_subquery()
        )
        return (
            select(RewardApplication, Case, Applicant.name, Payee.name, paid.label("paid"))
            .join(Case, and_(Case.id == RewardApplication.case_id, self.in_county(Case)))
            .join(Applicant, and_(Applicant.id == RewardApplication.applicant_id, self.in_county(Applicant)))
            .join(Payee, and_(Payee.id == RewardApplication.payee_id, self.in_county(Payee)))
            .where(self.in_county())
        )

    async def listed(self, reward_id: uuid.UUID) -> Listed:
        """One application as the register shows it: (application, case, applicant name, payee name, paid)."""
        row = (await self.session.execute(self._listed().where(RewardApplication.id == reward_id))).first()
        if row is None:
            raise RewardNotFound()
        return row

    async def register(self, filters: RewardFilters, *, offset: int, limit: int) -> tuple[list[Listed], int]:
        """One page of the reward register (奖励扶助台账) in the caller's reach, by year, unit and case number."""
        statement = self._listed().where(self.in_subtrees(filters.roots))
        if filters.year is not None:
            statement = statement.where(RewardApplication.year == filters.year)
        if filters.policy is not None:
            statement = statement.where(RewardApplication.policy == filters.policy)
        if filters.state is not None:
            statement = statement.where(state_of(Case) == filters.state)
        if filters.org_unit is not None:
            statement = statement.where(self.in_subtree(filters.org_unit))
        total = await self.count(statement)
        ordered = statement.order_by(RewardApplication.year.desc(), RewardApplication.org_unit_code, Case.number)
        rows = (await self.session.execute(ordered.offset(offset).limit(limit))).all()
        return list(rows), total

    async def payments(self, reward_id: uuid.UUID) -> list[RewardPayment]:
        """The payments made on an application, oldest first."""
        statement = self.county_rows(RewardPayment).where(RewardPayment.reward_id == reward_id)
        return await self.all(statement.order_by(RewardPayment.paid_on, RewardPayment.created_at))

    async def by_case(self, case_id: uuid.UUID) -> RewardApplication | None:
        """The application a case decides, if it is a reward case."""
        return await self.one_or_none(self.base().where(RewardApplication.case_id == case_id))

    async def totals(self, roots: list[str], year: int) -> list[tuple[str, int, int, Decimal, Decimal]]:
        """(policy, applications, granted, amount granted, amount paid) of the year in the caller's reach."""
        paid = (
            select(RewardPayment.reward_id, func.sum(RewardPayment.amount).label("paid"))
            .where(self.in_county(RewardPayment))
            .group_by(RewardPayment.reward_id)
            .subquery()
        )
        granted = state_of(Case) == "granted"
        statement = (
            select(
                RewardApplication.policy,
                func.count(RewardApplication.id),
                func.count(RewardApplication.id).filter(granted),
                func.coalesce(func.sum(RewardApplication.amount).filter(granted), 0),
                func.coalesce(func.sum(paid.c.paid), 0),
            )
            .join(Case, and_(Case.id == RewardApplication.case_id, self.in_county(Case)))
            .outerjoin(paid, paid.c.reward_id == RewardApplication.id)
            .where(self.in_county(), self.in_subtrees(roots), RewardApplication.year == year)
            .group_by(RewardApplication.policy)
            .order_by(RewardApplication.policy)
        )
        return [(row[0], row[1], row[2], row[3], row[4]) for row in (await self.session.execute(statement)).all()]
