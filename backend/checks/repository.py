"""Every query of the check rounds (三查) and their results, on the tenant-scoped base: lists narrowed to the
caller's subtrees in SQL, the settlement's batches, the rates' counts and the register's rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from backend.checks.errors import CheckRoundNotFound
from backend.db.repository import TenantScopedRepository
from backend.db.search import contains
from backend.models import CheckResult, CheckRound, CheckRoundStatus, Person, PersonStatus
from backend.registers.repository import RegisterFilter, RegisterSelect, scoped


@dataclass(frozen=True, slots=True)
class RoundFilters:
    """Which rounds a list shows: a status, one subtree, the rounds whose window ends in a period, a name."""

    status: CheckRoundStatus | None = None
    org_unit: str | None = None
    window_from: date | None = None
    window_to: date | None = None
    name: str | None = None


class CheckRoundRepository(TenantScopedRepository[CheckRound]):
    model = CheckRound
    entity_type = "check_round"
    not_found = CheckRoundNotFound

    async def by_case(self, case_id: uuid.UUID) -> CheckRound | None:
        """The round a check-round case belongs to."""
        return await self.one_or_none(self.base().where(CheckRound.case_id == case_id))

    def search(self, roots: list[str], filters: RoundFilters) -> RegisterSelect:
        """Rounds under the roots with the woman's name, soonest window end first, then by name."""
        statement = (
            select(CheckRound, Person.name)
            .join(Person, Person.id == CheckRound.person_id)
            .where(self.in_county(), self.in_county(Person), self.in_subtrees(roots))
        )
        if filters.status is not None:
            statement = statement.where(CheckRound.status == filters.status)
        if filters.org_unit:
            statement = statement.where(self.in_subtree(filters.org_unit))
        if filters.window_from is not None:
            statement = statement.where(CheckRound.window_end >= filters.window_from)
        if filters.window_to is not None:
            statement = statement.where(CheckRound.window_end <= filters.window_to)
        if filters.name:
            statement = statement.where(contains(Person.name, filters.name))
        return statement.order_by(CheckRound.window_end, Person.name, CheckRound.id)

    async def rows(self, statement: RegisterSelect, *, offset: int, limit: int) -> list[tuple[Any, ...]]:
        """One page of (round, name) rows."""
        return [tuple(row) for row in await self.session.execute(statement.offset(offset).limit(limit))]

    async def person_name(self, person_id: uuid.UUID) -> str:
        """The woman's name, for a round's page."""
        name = await self.session.scalar(select(Person.name).where(self.in_county(Person), Person.id == person_id))
        return name or ""

    async def result_of(self, round_id: uuid.UUID) -> CheckResult | None:
        """The round's result, if recorded."""
        return await self.one_or_none(self.county_rows(CheckResult).where(CheckResult.round_id == round_id))

    async def due_at_window(self, window_end: date, limit: int) -> list[tuple[CheckRound, PersonStatus]]:
        """Up to `limit` rounds of the window still due, locked (others skip them), with the woman's record status."""
        statement = (
            select(CheckRound, Person.status)
            .join(Person, Person.id == CheckRound.person_id)
            .where(
                self.in_county(),
                self.in_county(Person),
                CheckRound.window_end == window_end,
                CheckRound.status == CheckRoundStatus.due,
            )
            .order_by(CheckRound.id)
            .limit(limit)
            .with_for_update(of=CheckRound, skip_locked=True)
        )
        return [(row[0], row[1]) for row in await self.session.execute(statement)]

    async def earlier_rounds(self, person_id: uuid.UUID, before: date, count: int) -> list[CheckRound]:
        """Her `count` latest rounds ending before `before`, void ones left out, newest first."""
        statement = (
            self.base()
            .where(
                CheckRound.person_id == person_id,
                CheckRound.window_end < before,
                CheckRound.status != CheckRoundStatus.void,
            )
            .order_by(CheckRound.window_end.desc())
            .limit(count)
        )
        return await self.all(statement)

    async def window_has_rounds(self, window_end: date) -> bool:
        """Whether any round of the county ends on `window_end` (its watch was asked for with the first)."""
        statement = select(CheckRound.id).where(self.in_county(), CheckRound.window_end == window_end).limit(1)
        return (await self.session.scalar(statement)) is not None

    async def counts_by_unit(
        self, roots: list[str], window_from: date | None, window_to: date | None, org_unit: str | None
    ) -> Sequence[tuple[str, CheckRoundStatus, int]]:
        """(unit, status, rounds) for the rounds under the roots whose window ends in the period."""
        statement = (
            select(CheckRound.org_unit_code, CheckRound.status, func.count())
            .where(self.in_county(), self.in_subtrees(roots))
            .group_by(CheckRound.org_unit_code, CheckRound.status)
        )
        if org_unit:
            statement = statement.where(self.in_subtree(org_unit))
        if window_from is not None:
            statement = statement.where(CheckRound.window_end >= window_from)
        if window_to is not None:
            statement = statement.where(CheckRound.window_end <= window_to)
        return [(unit, status, int(count)) for unit, status, count in await self.session.execute(statement)]

    def register(self, register_filter: RegisterFilter) -> RegisterSelect:
        """《计划生育三查登记册》 rows: (CheckRound, Person, CheckResult or None), one book per round (by window end),
        filtered on the round's unit and, for the period, on its window's end."""
        statement = (
            select(CheckRound, Person, CheckResult)
            .join(Person, Person.id == CheckRound.person_id)
            .outerjoin(CheckResult, (CheckResult.round_id == CheckRound.id) & self.in_county(CheckResult))
            .where(self.in_county(), self.in_county(Person))
            .order_by(CheckRound.window_end, CheckRound.org_unit_code, Person.name, CheckRound.id)
        )
        return scoped(statement, CheckRound.org_unit_code, CheckRound.window_end, register_filter)
