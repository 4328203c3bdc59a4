"""Clean-up campaigns (清理清查, spec P12): plan one, draw each village's work list, read progress and the report.

Rules this module keeps:
- A township or the county plans a campaign (campaign.plan on the planning unit): a name, a kind (monthly,
  quarterly, Spring Festival, special), a period, and its villages (all active villages under the planning unit when
  none are named; a named one must lie under it). Counties choose how often they run them: nothing here fixes it.
- Each village's work list is drawn from the registry when the campaign is planned (criteria kept on the campaign):
  persons not seen for `not_seen_months` months, inflow women whose certificate was never inspected, persons whose
  certificate has expired, and rental houses not walked for `houses_not_visited_months` months. A person is on a
  list once, with every reason that put her there.
- Whoever may read service records of a village sees the campaigns covering it and its list; progress and the
  report count what the caller reads.
- Findings are recorded in backend/campaigns/findings.py.

Functions flush, never commit; every write is audited.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.campaigns.errors import CampaignNotFound, CampaignRejected, problem
from backend.campaigns.repository import CampaignItemRepository, CampaignRepository
from backend.campaigns.schemas import (
    CampaignCreate,
    CampaignDetail,
    CampaignItemRead,
    CampaignRead,
    CampaignReport,
    VillageProgress,
)
from backend.core.clock import china_today
from backend.core.divisions import VILLAGE_LENGTH
from backend.core.errors import FieldError, Forbidden
from backend.followups.rules import add_months
from backend.housing.repository import HouseRepository
from backend.models import Campaign, CampaignFinding, CampaignItem, CampaignStatus, CampaignUnit, OrgUnit
from backend.org.repository import OrgUnitRepository

ENTITY_TYPE = CampaignRepository.entity_type
NOT_SEEN = "not_seen"
UNINSPECTED = "uninspected_certificate"
EXPIRED = "expired_certificate"
HOUSE = "house_not_visited"
REASON_LABELS = {
    NOT_SEEN: "长期未见面",
    UNINSPECTED: "婚育证明未查验",
    EXPIRED: "婚育证明已过期",
    HOUSE: "出租房屋未走访",
    "new_arrival": "新发现流入",
}


def _villages(units: dict[str, OrgUnit], planner: str, named: list[str]) -> list[str] | list[FieldError]:
    under = [
        code
        for code, unit in units.items()
        if unit.active and len(code) == VILLAGE_LENGTH and code[: len(planner)] == planner
    ]
    if not named:
        return sorted(under) or [problem("unit_codes", "该单位下没有村（居）", "no villages under the unit")]
    wrong = [code for code in named if code not in under]
    if wrong:
        return [
            problem(
                "unit_codes",
                f"不是该单位下的村（居）：{'、'.join(wrong)}",
                f"not villages under the unit: {', '.join(wrong)}",
            )
        ]
    return sorted(set(named))


async def plan_campaign(session: AsyncSession, principal: Principal, body: CampaignCreate) -> CampaignDetail:
    """Plan a campaign and draw its villages' work lists from the registry."""
    problems: list[FieldError] = []
    units = await OrgUnitRepository(session).all_by_code()
    planner = units.get(body.org_unit_code)
    if (
        planner is None
        or not planner.active
        or len(planner.code) == VILLAGE_LENGTH
        or not principal.can(Action.campaign_plan, planner.code)
    ):
        raise CampaignRejected(
            [problem("org_unit_code", "须为您负责的乡镇（街道）或县", "a township or county within your reach")]
        )
    if body.period_end < body.period_start:
        problems.append(problem("period_end", "结束日期早于开始日期", "the period ends before it starts"))
    villages = _villages(units, planner.code, body.unit_codes)
    if villages and isinstance(villages[0], FieldError):
        problems.extend(v for v in villages if isinstance(v, FieldError))
    if problems:
        raise CampaignRejected(problems)
    codes = [code for code in villages if isinstance(code, str)]
    repository = CampaignRepository(session)
    campaign = Campaign(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        name=body.name,
        kind=body.kind,
        period_start=body.period_start,
        period_end=body.period_end,
        org_unit_code=planner.code,
        criteria=body.criteria.model_dump(),
        status=CampaignStatus.active,
        created_by=principal.label[:100],
    )
    repository.add(campaign)
    await repository.flush()
    repository.add_all(
        [
            CampaignUnit(id=uuid.uuid4(), tenant_id=campaign.tenant_id, campaign_id=campaign.id, org_unit_code=code)
            for code in codes
        ]
    )
    counts = await _draw_lists(session, campaign, codes)
    await audit.record_about(
        session,
        ENTITY_TYPE,
        campaign,
        "campaign.plan",
        audit.diff(None, CampaignRead.model_validate(campaign).model_dump(mode="json") | {"villages": codes} | counts),
    )
    return await campaign_detail(session, principal, campaign.id)


async def _draw_lists(session: AsyncSession, campaign: Campaign, villages: list[str]) -> dict[str, int]:
    """Every village's work list: the persons and houses the criteria find, each once with all its reasons."""
    repository = CampaignRepository(session)
    criteria = campaign.criteria
    today = china_today()
    reasons: dict[uuid.UUID, list[str]] = defaultdict(list)
    unit_of: dict[uuid.UUID, str] = {}
    found: list[tuple[str, list[tuple[uuid.UUID, str]]]] = []
    if criteria.get("not_seen_months"):
        found.append(
            (NOT_SEEN, await repository.not_seen_since(villages, add_months(today, -int(criteria["not_seen_months"]))))
        )
    if criteria.get("uninspected_inflow"):
        found.append((UNINSPECTED, await repository.inflow_women_uninspected(villages)))
    if criteria.get("expired_certificates"):
        found.append((EXPIRED, await repository.expired_certificates(villages, today)))
    for reason, rows in found:
        for person_id, unit in rows:
            reasons[person_id].append(reason)
            unit_of[person_id] = unit
    items = [
        CampaignItem(
            id=uuid.uuid4(),
            tenant_id=campaign.tenant_id,
            campaign_id=campaign.id,
            org_unit_code=unit_of[person_id],
            person_id=person_id,
            reasons=person_reasons,
        )
        for person_id, person_reasons in reasons.items()
    ]
    houses = []
    if criteria.get("houses_not_visited_months"):
        before = add_months(today, -int(criteria["houses_not_visited_months"]))
        houses = await HouseRepository(session).not_visited_since(villages, before)
        items += [
            CampaignItem(
                id=uuid.uuid4(),
                tenant_id=campaign.tenant_id,
                campaign_id=campaign.id,
                org_unit_code=house.org_unit_code,
                house_id=house.id,
                reasons=[HOUSE],
            )
            for house in houses
        ]
    repository.add_all(items)
    await repository.flush()
    return {"persons": len(reasons), "houses": len(houses)}


async def campaign_in_reach(session: AsyncSession, principal: Principal, campaign_id: uuid.UUID) -> Campaign:
    """The campaign if the caller reads a village it covers or its planning unit; 404 otherwise."""
    repository = CampaignRepository(session)
    campaign = await repository.get(campaign_id)
    if campaign is None:
        raise CampaignNotFound()
    codes = [campaign.org_unit_code, *await repository.unit_codes(campaign.id)]
    if not any(principal.can(Action.service_read, code) for code in codes):
        raise CampaignNotFound()
    return campaign


async def list_campaigns(session: AsyncSession, principal: Principal) -> list[CampaignRead]:
    """The campaigns covering a village in the caller's reach, newest first."""
    campaigns = await CampaignRepository(session).in_reach(principal.scopes_for(Action.service_read))
    return [CampaignRead.model_validate(campaign) for campaign in campaigns]


async def _progress(session: AsyncSession, principal: Principal, campaign: Campaign) -> list[VillageProgress]:
    repository = CampaignRepository(session)
    units = await OrgUnitRepository(session).all_by_code()
    tallies: dict[str, Counter[str]] = {code: Counter() for code in await repository.unit_codes(campaign.id)}
    for unit, finding, count in await repository.progress(campaign.id):
        tallies.setdefault(unit, Counter())[finding.value if finding else "pending"] += count
    return [
        VillageProgress(
            org_unit_code=code,
            org_unit_name=units[code].name if code in units else code,
            items=sum(tally.values()),
            recorded=sum(count for key, count in tally.items() if key != "pending"),
            findings={key: count for key, count in sorted(tally.items()) if key != "pending"},
        )
        for code, tally in sorted(tallies.items())
        if principal.can(Action.service_read, code)
    ]


async def campaign_detail(session: AsyncSession, principal: Principal, campaign_id: uuid.UUID) -> CampaignDetail:
    """A campaign with the progress of each village the caller reads."""
    campaign = await campaign_in_reach(session, principal, campaign_id)
    return CampaignDetail(
        **CampaignRead.model_validate(campaign).model_dump(), villages=await _progress(session, principal, campaign)
    )


def item_read(item: CampaignItem, name: str | None = None, address: str | None = None) -> CampaignItemRead:
    """The API body of an entry with the person's name or the house's address."""
    return CampaignItemRead.model_validate(item).model_copy(update={"person_name": name, "house_address": address})


async def walk_list(
    session: AsyncSession, principal: Principal, campaign_id: uuid.UUID, unit: str | None = None
) -> list[CampaignItemRead]:
    """A campaign's entries the caller reads (one village's when `unit` is given): pending ones first."""
    campaign = await campaign_in_reach(session, principal, campaign_id)
    rows = await CampaignItemRepository(session).walk_list(campaign.id, principal.scopes_for(Action.service_read), unit)
    return [item_read(item, name, address) for item, name, address in rows]


async def campaign_report(session: AsyncSession, principal: Principal, campaign_id: uuid.UUID) -> CampaignReport:
    """The campaign report over the villages the caller reads: entries, findings, the registry changes they made,
    and the entries whose whereabouts are unknown."""
    campaign = await campaign_in_reach(session, principal, campaign_id)
    villages = await _progress(session, principal, campaign)
    findings: Counter[str] = Counter()
    for village in villages:
        findings.update(village.findings)
    entries = await walk_list(session, principal, campaign_id)
    return CampaignReport(
        campaign=CampaignRead.model_validate(campaign),
        items=sum(village.items for village in villages),
        recorded=sum(village.recorded for village in villages),
        findings=dict(sorted(findings.items())),
        departures=findings.get(CampaignFinding.left.value, 0),
        notices_sent=sum(1 for entry in entries if entry.notice_correlation_id),
        moved_within_county=findings.get(CampaignFinding.moved_within_county.value, 0),
        new_arrivals=findings.get(CampaignFinding.new_arrival.value, 0),
        houses_walked=sum(1 for entry in entries if entry.house_id and entry.finding is CampaignFinding.present),
        villages=villages,
        unknown=[entry for entry in entries if entry.finding is CampaignFinding.unknown],
    )


async def close_campaign(session: AsyncSession, principal: Principal, campaign_id: uuid.UUID) -> CampaignRead:
    """End the campaign (campaign.plan on its planning unit): no more findings are recorded."""
    campaign = await campaign_in_reach(session, principal, campaign_id)
    if not principal.can(Action.campaign_plan, campaign.org_unit_code):
        raise Forbidden()
    if campaign.status is CampaignStatus.active:
        campaign.status = CampaignStatus.closed
        await session.flush()
        await audit.record_about(session, ENTITY_TYPE, campaign, "campaign.close", {"status": ["active", "closed"]})
    return CampaignRead.model_validate(campaign)
