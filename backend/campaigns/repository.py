"""Every query of clean-up campaigns: campaigns and work lists in reach, the registry queries that draw a village's
list (persons not seen for months, inflow women never inspected, expired certificates), and progress counts."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Date, String, and_, cast, exists, func, literal, or_, select

from backend.campaigns.errors import CampaignItemNotFound, CampaignNotFound
from backend.db.repository import TenantScopedRepository
from backend.db.scoping import under_roots
from backend.models import (
    Campaign,
    CampaignFinding,
    CampaignItem,
    CampaignUnit,
    Certificate,
    CertificateInspection,
    CertificateStatus,
    CheckResult,
    FlowDirection,
    FollowUpVisit,
    Occupancy,
    Person,
    PersonStatus,
    RentalHouse,
    Sex,
    StockMovement,
)
from backend.registers.repository import RegisterFilter, RegisterSelect, scoped

NEVER = date(1900, 1, 1)
SEEN = (CampaignFinding.present, CampaignFinding.new_arrival)


class CampaignRepository(TenantScopedRepository[Campaign]):
    model = Campaign
    entity_type = "campaign"
    not_found = CampaignNotFound

    async def in_reach(self, roots: list[str]) -> list[Campaign]:
        """Campaigns covering a village under the roots, or planned by a unit under them; newest first."""
        covering = exists().where(
            self.in_county(CampaignUnit),
            CampaignUnit.campaign_id == Campaign.id,
            under_roots(CampaignUnit.org_unit_code, roots),
        )
        statement = self.base().where(or_(covering, self.in_subtrees(roots)))
        return await self.all(statement.order_by(Campaign.period_start.desc(), Campaign.created_at.desc()))

    async def unit_codes(self, campaign_id: uuid.UUID) -> list[str]:
        """The villages the campaign covers, in code order."""
        statement = (
            select(CampaignUnit.org_unit_code)
            .where(self.in_county(CampaignUnit), CampaignUnit.campaign_id == campaign_id)
            .order_by(CampaignUnit.org_unit_code)
        )
        return list((await self.session.scalars(statement)).all())

    async def progress(self, campaign_id: uuid.UUID) -> list[tuple[str, CampaignFinding | None, int]]:
        """(village, finding or None while pending, entries) of the campaign."""
        statement = (
            select(CampaignItem.org_unit_code, CampaignItem.finding, func.count())
            .where(self.in_county(CampaignItem), CampaignItem.campaign_id == campaign_id)
            .group_by(CampaignItem.org_unit_code, CampaignItem.finding)
        )
        return [(unit, finding, int(count)) for unit, finding, count in await self.session.execute(statement)]

    # --- drawing the work lists ---------------------------------------------------------------------------------

    def _living_here(self, units: list[str]) -> Any:
        return and_(
            self.in_county(Person),
            Person.status == PersonStatus.active,
            Person.flow_direction != FlowDirection.outflow,
            under_roots(Person.org_unit_code, units),
        )

    async def not_seen_since(self, units: list[str], since: date) -> list[tuple[uuid.UUID, str]]:
        """Active persons living in these villages whom nothing has shown since `since`: their arrival or
        registration, a check, a visit, a certificate inspection, a campaign finding, a contraceptive issue or a
        move into a house. (id, unit)."""

        def latest(column: Any, *where: Any) -> Any:
            subquery = select(func.max(column)).where(*where).correlate(Person).scalar_subquery()
            return func.coalesce(subquery, literal(NEVER, Date))

        last_seen = func.greatest(
            func.coalesce(Person.flow_date, literal(NEVER, Date)),
            cast(Person.created_at, Date),
            latest(CheckResult.checked_on, self.in_county(CheckResult), CheckResult.person_id == Person.id),
            latest(FollowUpVisit.visited_on, self.in_county(FollowUpVisit), FollowUpVisit.person_id == Person.id),
            latest(
                CertificateInspection.inspected_on,
                self.in_county(CertificateInspection),
                CertificateInspection.certificate_id.in_(
                    select(Certificate.id).where(self.in_county(Certificate), Certificate.person_id == Person.id)
                ),
            ),
            latest(
                CampaignItem.found_on,
                self.in_county(CampaignItem),
                CampaignItem.person_id == Person.id,
                CampaignItem.finding.in_(SEEN),
            ),
            latest(StockMovement.moved_on, self.in_county(StockMovement), StockMovement.person_id == Person.id),
            latest(Occupancy.moved_in_on, self.in_county(Occupancy), Occupancy.person_id == Person.id),
        )
        statement = (
            select(Person.id, Person.org_unit_code)
            .where(self._living_here(units), last_seen < since)
            .order_by(Person.org_unit_code, Person.name)
        )
        return [(row[0], row[1]) for row in await self.session.execute(statement)]

    async def inflow_women_uninspected(self, units: list[str]) -> list[tuple[uuid.UUID, str]]:
        """Active inflow women of these villages none of whose certificates was ever inspected (or who have none)."""
        inspected = (
            select(CertificateInspection.id)
            .join(Certificate, Certificate.id == CertificateInspection.certificate_id)
            .where(
                self.in_county(CertificateInspection),
                self.in_county(Certificate),
                Certificate.person_id == Person.id,
            )
            .correlate(Person)
            .exists()
        )
        statement = select(Person.id, Person.org_unit_code).where(
            self._living_here(units),
            Person.flow_direction == FlowDirection.inflow,
            Person.sex == Sex.female,
            ~inspected,
        )
        return [(row[0], row[1]) for row in await self.session.execute(statement)]

    async def expired_certificates(self, units: list[str], today: date) -> list[tuple[uuid.UUID, str]]:
        """Active persons of these villages holding an expired certificate and none in force."""
        expired = (
            select(Certificate.id)
            .where(
                self.in_county(Certificate),
                Certificate.person_id == Person.id,
                or_(
                    Certificate.status == CertificateStatus.expired,
                    and_(
                        Certificate.status == CertificateStatus.valid,
                        Certificate.permanent.is_(False),
                        Certificate.valid_until < today,
                    ),
                ),
            )
            .correlate(Person)
            .exists()
        )
        in_force = (
            select(Certificate.id)
            .where(
                self.in_county(Certificate),
                Certificate.person_id == Person.id,
                Certificate.status == CertificateStatus.valid,
                or_(Certificate.permanent.is_(True), Certificate.valid_until >= today),
            )
            .correlate(Person)
            .exists()
        )
        statement = select(Person.id, Person.org_unit_code).where(self._living_here(units), expired, ~in_force)
        return [(row[0], row[1]) for row in await self.session.execute(statement)]


class CampaignItemRepository(TenantScopedRepository[CampaignItem]):
    model = CampaignItem
    entity_type = "campaign_item"
    not_found = CampaignItemNotFound

    async def walk_list(
        self, campaign_id: uuid.UUID, roots: list[str], unit: str | None
    ) -> list[tuple[CampaignItem, str | None, str | None]]:
        """A campaign's entries under the roots (one village when `unit` is given): pending first, then by name or
        address; with the person's name and the house's address."""
        statement = (
            select(CampaignItem, Person.name, RentalHouse.address)
            .outerjoin(Person, (Person.id == CampaignItem.person_id) & self.in_county(Person))
            .outerjoin(RentalHouse, (RentalHouse.id == CampaignItem.house_id) & self.in_county(RentalHouse))
            .where(self.in_county(), CampaignItem.campaign_id == campaign_id, self.in_subtrees(roots))
            .order_by(
                CampaignItem.finding.is_not(None),
                CampaignItem.org_unit_code,
                CampaignItem.house_id.is_not(None),
                func.coalesce(Person.name, cast(RentalHouse.address, String)),
                CampaignItem.id,
            )
        )
        if unit:
            statement = statement.where(self.in_subtree(unit))
        return [(row[0], row[1], row[2]) for row in await self.session.execute(statement)]

    async def for_person(self, campaign_id: uuid.UUID, person_id: uuid.UUID) -> CampaignItem | None:
        """The campaign's entry of a person, if any."""
        statement = self.base().where(CampaignItem.campaign_id == campaign_id, CampaignItem.person_id == person_id)
        return await self.one_or_none(statement)

    def register(self, register_filter: RegisterFilter) -> RegisterSelect:
        """清理清查走访登记表 rows: (CampaignItem, Campaign, Person or None, RentalHouse or None), the entries with a
        finding, by day of the visit; the period applies to the day of the visit."""
        statement = (
            select(CampaignItem, Campaign, Person, RentalHouse)
            .join(Campaign, Campaign.id == CampaignItem.campaign_id)
            .outerjoin(Person, (Person.id == CampaignItem.person_id) & self.in_county(Person))
            .outerjoin(RentalHouse, (RentalHouse.id == CampaignItem.house_id) & self.in_county(RentalHouse))
            .where(self.in_county(), self.in_county(Campaign), CampaignItem.finding.is_not(None))
            .order_by(CampaignItem.found_on, CampaignItem.org_unit_code, CampaignItem.id)
        )
        return scoped(statement, CampaignItem.org_unit_code, CampaignItem.found_on, register_filter)
