"""Recording what a campaign's visits found, through the registry's own services (spec P12: 「人来有登记,人走有注销」).

- `present`: she was seen (her next campaign will not list her as "not seen"); a house `present` was walked (its
  last walk is kept for the next list), a house `unknown` had nobody home.
- `left`: she is deregistered through `backend.persons.service.depart_person`, which tells her registration county
  (离开通报); her open tenancy and employments end on that day.
- `moved_within_county`: her record moves to the village she lives in now (a village the coordinator may write;
  otherwise the township officer records it), through `update_person`; her tenancy at the old address ends.
- `unknown`: recorded only; the report lists these entries to follow up.
- A new arrival found on the walk is registered through `register_person` (her registration county is told of
  her arrival) and put on the list as found; `house_id` moves her into the house walked.

A finding is recorded once; a closed campaign takes none. Dates lie between the campaign's start and today. Every
problem is found before anything is written; a refusal of the registry's service is shown at the finding's field.
Functions flush, never commit; every write is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.campaigns.errors import CampaignClosed, CampaignRejected, FindingRecorded, problem
from backend.campaigns.repository import CampaignItemRepository, CampaignRepository
from backend.campaigns.schemas import ArrivalCreate, CampaignItemRead, FindingCreate
from backend.campaigns.service import campaign_in_reach, item_read
from backend.core.clock import china_today
from backend.core.errors import DomainError, FieldError, StaleVersion
from backend.housing.repository import HouseRepository
from backend.housing.schemas import MoveIn
from backend.housing.service import close_for_person, move_into_house, record_house_visit
from backend.models import Campaign, CampaignFinding, CampaignItem, CampaignStatus, Person, PersonStatus
from backend.persons.errors import PersonInputRejected
from backend.persons.repository import PersonRepository
from backend.persons.schemas import PersonCreate, PersonDepart, PersonUpdate
from backend.persons.service import depart_person, register_person, update_person

ENTITY_TYPE = CampaignItemRepository.entity_type
HOUSE_FINDINGS = (CampaignFinding.present, CampaignFinding.unknown)


def _moved(error: DomainError, field: str, renames: dict[str, str]) -> CampaignRejected:
    """The registry's refusal, each problem at the campaign form's field that feeds it."""
    problems = []
    for found in error.fields or [FieldError(("body", field), error.detail)]:
        name = str(found.loc[-1]) if found.loc else field
        problems.append(FieldError(("body", renames.get(name, name)), found.msg))
    return CampaignRejected(problems)


def _date_problems(campaign: Campaign, body: Any) -> list[FieldError]:
    if body.found_on > china_today():
        return [problem("found_on", "走访日期不能晚于今天", "the visit date is in the future")]
    if body.found_on < campaign.period_start:
        return [problem("found_on", "走访日期早于清查开始日期", "the visit date is before the campaign began")]
    return []


async def _person_finding(
    session: AsyncSession, principal: Principal, campaign: Campaign, person: Person, body: FindingCreate
) -> str | None:
    """Change the registry as the finding says; the flow notice sent, if any."""
    reason = f"清理清查「{campaign.name}」：{body.notes or '走访发现'}"[:500]
    if body.finding is CampaignFinding.left:
        notice = None
        if person.status is PersonStatus.active:
            if not principal.can(Action.person_write, person.org_unit_code):
                raise CampaignRejected([problem("finding", "无权注销该人员", "you may not deregister this person")])
            departure = await depart_person(
                session, principal, person, PersonDepart(departed_on=body.found_on, reason=reason)
            )
            notice = departure.notice.correlation_id if departure.notice else None
        await close_for_person(session, person.id, body.found_on, reason)
        return notice
    if body.finding is CampaignFinding.moved_within_county:
        try:
            await update_person(
                session, principal, person, PersonUpdate(org_unit_code=body.moved_to_unit_code, version=person.version)
            )
        except PersonInputRejected as refused:
            raise _moved(refused, "moved_to_unit_code", {"org_unit_code": "moved_to_unit_code"}) from None
        await close_for_person(session, person.id, body.found_on, reason)
    return None


async def record_finding(
    session: AsyncSession, principal: Principal, item_id: uuid.UUID, body: FindingCreate
) -> CampaignItemRead:
    """What one visit found, and the registry changes it makes."""
    repository = CampaignItemRepository(session)
    item = await repository.get_in_reach(
        principal, Action.service_write, item_id, for_update=True, visible_with=Action.service_read
    )
    campaign = await CampaignRepository(session).get(item.campaign_id)
    assert campaign is not None  # the item's foreign key
    if campaign.status is CampaignStatus.closed:
        raise CampaignClosed()
    if body.version is not None and body.version != item.version:
        raise StaleVersion(current=item_read(item).model_dump(mode="json"))
    if item.finding is not None:
        raise FindingRecorded()
    problems = _date_problems(campaign, body)
    if body.finding is CampaignFinding.new_arrival:
        problems.append(
            problem("finding", "新发现的人员请用“登记新发现人员”", "register a new arrival with its own form")
        )
    elif item.house_id is not None and body.finding not in HOUSE_FINDINGS:
        problems.append(
            problem("finding", "出租房屋只能登记为已走访或无人", "a house is either walked or nobody was home")
        )
    if body.finding is CampaignFinding.moved_within_county and not body.moved_to_unit_code:
        problems.append(problem("moved_to_unit_code", "请选择现居住的村（居）", "choose the village she lives in now"))
    if problems:
        raise CampaignRejected(problems)
    notice = None
    name = address = None
    if item.person_id is not None:
        person = await PersonRepository(session).get(item.person_id)
        assert person is not None
        name = person.name
        notice = await _person_finding(session, principal, campaign, person, body)
    elif item.house_id is not None:
        house = await HouseRepository(session).get(item.house_id)
        assert house is not None
        address = house.address
        if body.finding is CampaignFinding.present:
            await record_house_visit(session, house, body.found_on)
    before = {"finding": None, "found_on": None}
    item.finding, item.found_on, item.notes = body.finding, body.found_on, body.notes
    item.moved_to_unit_code = body.moved_to_unit_code if body.finding is CampaignFinding.moved_within_county else None
    item.recorded_by_label = principal.label[:100]
    item.notice_correlation_id = notice
    await repository.flush()
    after = {"finding": body.finding, "found_on": body.found_on, "moved_to": item.moved_to_unit_code, "notice": notice}
    await audit.record_about(session, ENTITY_TYPE, item, "campaign.finding", audit.diff(before, after))
    return item_read(item, name, address)


async def record_arrival(
    session: AsyncSession, principal: Principal, campaign_id: uuid.UUID, body: ArrivalCreate
) -> CampaignItemRead:
    """A new arrival found on the walk: registered (her registration county told), and on the list as found."""
    campaign = await campaign_in_reach(session, principal, campaign_id)
    if campaign.status is CampaignStatus.closed:
        raise CampaignClosed()
    problems = _date_problems(campaign, body)
    villages = await CampaignRepository(session).unit_codes(campaign.id)
    if body.org_unit_code not in villages or not principal.can(Action.service_write, body.org_unit_code):
        problems.append(
            problem("org_unit_code", "不是本次清查中您负责的村（居）", "not a village of this campaign in your reach")
        )
    house = None
    if body.house_id is not None:
        house = await HouseRepository(session).get(body.house_id)
        if house is None or house.org_unit_code != body.org_unit_code:
            problems.append(problem("house_id", "出租房屋不在该村（居）", "the house is not in that village"))
    if problems:
        raise CampaignRejected(problems)
    registration = await register_person(
        session,
        principal,
        PersonCreate(
            name=body.name,
            sex=body.sex,
            resident_id=body.resident_id,
            org_unit_code=body.org_unit_code,
            flow_direction=body.flow_direction,
            registration_division_code=body.registration_division_code,
            flow_date=body.flow_date or body.found_on,
            notes=f"清理清查「{campaign.name}」新发现" + (f"：{body.notes}" if body.notes else ""),
        ),
    )
    person = registration.person
    if house is not None:
        try:
            await move_into_house(session, principal, house.id, MoveIn(person_id=person.id, moved_in_on=body.found_on))
        except DomainError as refused:
            raise _moved(refused, "house_id", {"person_id": "house_id", "moved_in_on": "found_on"}) from None
        await record_house_visit(session, house, body.found_on)
    repository = CampaignItemRepository(session)
    item = await repository.for_person(campaign.id, person.id)
    if item is None:
        item = CampaignItem(
            id=uuid.uuid4(),
            tenant_id=campaign.tenant_id,
            campaign_id=campaign.id,
            org_unit_code=person.org_unit_code,
            person_id=person.id,
            reasons=["new_arrival"],
        )
        repository.add(item)
    item.finding, item.found_on, item.notes = CampaignFinding.new_arrival, body.found_on, body.notes
    item.recorded_by_label = principal.label[:100]
    item.notice_correlation_id = registration.notice.correlation_id if registration.notice else None
    await repository.flush()
    changes = {
        "finding": [None, "new_arrival"],
        "person": [None, str(person.id)],
        "notice": [None, item.notice_correlation_id],
    }
    await audit.record_about(session, ENTITY_TYPE, item, "campaign.arrival", changes)
    return item_read(item, person.name)
