"""Every query behind the registers, on the tenant-scoped base (backend/db/repository.py). Each one filters every
table it reads on the transaction's county as well as relying on row-level security (two locks), and on the
caller's org subtrees in SQL (`RegisterFilter.roots`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Row, Select, func, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import InstrumentedAttribute, aliased, with_loader_criteria

from backend.core.clock import start_of_day
from backend.db.repository import TenantScopedRepository
from backend.db.scoping import subtree, under_roots
from backend.models import (
    Case,
    CaseSubject,
    Certificate,
    CertificateInspection,
    CertificateStatus,
    FlowDirection,
    OrgUnit,
    Person,
    PersonChild,
    PersonStatus,
    counted_person,
)

STREAM_CHUNK = 500

RegisterSelect: TypeAlias = Select[*tuple[Any, ...]]
RegisterRow: TypeAlias = Row[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class RegisterFilter:
    """Which rows a register shows.

    `roots` holds one list of subtree roots per permission the rows need (e.g. person.read, and for an
    export also register.export): a row must lie under a root of every list, so the lists intersect.
    `org_unit` narrows to one subtree; the period bounds are inclusive calendar days.
    """

    roots: tuple[tuple[str, ...], ...]
    org_unit: str | None = None
    period_from: date | None = None
    period_to: date | None = None


def scoped(
    statement: RegisterSelect,
    unit: InstrumentedAttribute[str],
    period: InstrumentedAttribute[date] | InstrumentedAttribute[date | None] | InstrumentedAttribute[datetime],
    register_filter: RegisterFilter,
    *,
    timestamps: bool = False,
) -> RegisterSelect:
    """`statement` narrowed to the filter: the caller's subtrees on `unit` (one list per permission, intersected),
    the chosen subtree, and the period on `period` (a date column, or a timestamp column with `timestamps`).
    Every register's query ends here, the domains' own registers too (backend/registers/village.py), so here too,
    once, every person row it reads (joined, aliased or selected) is limited to the records that count: a village
    entry still waiting for the township's confirmation (三级把关) is on no register."""
    statement = statement.options(with_loader_criteria(Person, counted_person, include_aliases=True))
    conditions: list[ColumnElement[bool]] = [under_roots(unit, list(roots)) for roots in register_filter.roots]
    if register_filter.org_unit:
        conditions.append(subtree(unit, register_filter.org_unit))
    if register_filter.period_from is not None:
        start: date | datetime = register_filter.period_from
        conditions.append(period >= (start_of_day(register_filter.period_from) if timestamps else start))
    if register_filter.period_to is not None:
        if timestamps:
            conditions.append(period < start_of_day(register_filter.period_to + timedelta(days=1)))
        else:
            conditions.append(period <= register_filter.period_to)
    return statement.where(*conditions)


class RegisterRepository(TenantScopedRepository[Person]):
    """The registers read persons, their certificates and cases; each query names the tables it joins."""

    model = Person

    def _scoped(
        self,
        statement: RegisterSelect,
        unit: InstrumentedAttribute[str],
        period: InstrumentedAttribute[date] | InstrumentedAttribute[date | None] | InstrumentedAttribute[datetime],
        register_filter: RegisterFilter,
        *,
        timestamps: bool = False,
    ) -> RegisterSelect:
        return scoped(statement, unit, period, register_filter, timestamps=timestamps)

    def persons(self, direction: FlowDirection, register_filter: RegisterFilter) -> RegisterSelect:
        """Inflow or outflow register rows: (Person, children, latest valid Certificate or None, last inspection).

        Merged duplicates are left out; persons who left (注销) stay, marked by their status. The period applies
        to the flow date (流入/流出时间).
        """
        children = (
            select(func.count(PersonChild.id))
            .where(self.in_county(PersonChild), PersonChild.person_id == Person.id)
            .correlate(Person)
            .scalar_subquery()
        )
        latest = (
            select(Certificate)
            .where(
                self.in_county(Certificate),
                Certificate.person_id == Person.id,
                Certificate.status == CertificateStatus.valid,
            )
            .order_by(Certificate.issue_date.desc(), Certificate.created_at.desc())
            .limit(1)
            .correlate(Person)
            .lateral("latest_certificate")
        )
        certificate = aliased(Certificate, latest)
        last_inspected = (
            select(func.max(CertificateInspection.inspected_on))
            .join(Certificate, Certificate.id == CertificateInspection.certificate_id)
            .where(
                self.in_county(CertificateInspection),
                self.in_county(Certificate),
                Certificate.person_id == Person.id,
            )
            .correlate(Person)
            .scalar_subquery()
        )
        statement = (
            select(Person, children.label("children"), certificate, last_inspected.label("last_inspected_on"))
            .outerjoin(latest, true())
            .where(
                self.in_county(),
                Person.flow_direction == direction,
                Person.status != PersonStatus.merged,
            )
            .order_by(Person.org_unit_code, Person.flow_date.asc().nulls_last(), Person.name, Person.id)
        )
        return self._scoped(statement, Person.org_unit_code, Person.flow_date, register_filter)

    def certificates(self, register_filter: RegisterFilter) -> RegisterSelect:
        """Certificate register rows: (Certificate, holder Person, number of the certificate it renews or None),
        filtered on the unit keeping the record and, for the period, on the issue date."""
        earlier = aliased(Certificate)
        statement = (
            select(Certificate, Person, earlier.number.label("renews_number"))
            .join(Person, Person.id == Certificate.person_id)
            .outerjoin(earlier, (earlier.id == Certificate.renews_id) & self.in_county(earlier))
            .where(self.in_county(Certificate), self.in_county())
            .order_by(Certificate.issue_date, Certificate.number)
        )
        return self._scoped(statement, Certificate.org_unit_code, Certificate.issue_date, register_filter)

    def cases(self, case_type: str, register_filter: RegisterFilter) -> RegisterSelect:
        """Case register rows: (Case, primary subject Person or None, the other subjects as ["part:name", ...]),
        filtered on the case's unit and, for the period, on when it was received (受理时间)."""
        other = aliased(Person)
        others = (
            select(
                func.array_agg(
                    aggregate_order_by(func.concat(CaseSubject.part, ":", other.name), CaseSubject.part, other.name)
                )
            )
            .join(other, other.id == CaseSubject.person_id)
            .where(
                self.in_county(CaseSubject),
                self.in_county(other),
                CaseSubject.case_id == Case.id,
                CaseSubject.person_id.is_distinct_from(Case.primary_person_id),
            )
            .correlate(Case)
            .scalar_subquery()
        )
        statement = (
            select(Case, Person, others.label("others"))
            .outerjoin(Person, (Person.id == Case.primary_person_id) & self.in_county(Person))
            .where(self.in_county(Case), Case.case_type == case_type)
            .order_by(Case.received_at, Case.number)
        )
        return self._scoped(statement, Case.org_unit_code, Case.received_at, register_filter, timestamps=True)

    async def rows(self, statement: RegisterSelect, *, offset: int, limit: int) -> Sequence[RegisterRow]:
        """One page of rows, in register order."""
        return (await self.session.execute(statement.offset(offset).limit(limit))).all()

    async def stream(self, statement: RegisterSelect) -> AsyncIterator[Sequence[RegisterRow]]:
        """Every row, in chunks, through a server-side cursor: a county-wide export never sits in memory whole."""
        result = await self.session.stream(statement.execution_options(yield_per=STREAM_CHUNK))
        async for chunk in result.partitions():
            yield chunk

    async def unit_names(self) -> dict[str, str]:
        """Names of the county's org units by code (hundreds of rows, read once per request)."""
        rows = await self.session.execute(select(OrgUnit.code, OrgUnit.name).where(self.in_county(OrgUnit)))
        return {code: name for code, name in rows}
