"""The clean-up campaign register (清理清查, spec P12), declared like every register: 清理清查走访登记表
(campaign-findings: every entry of a work list whose visit was recorded, with the campaign, why it was on the list,
what the visit found and, for a move within the county, where to)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.campaigns.repository import CampaignItemRepository
from backend.models import Campaign, CampaignFinding, CampaignItem, Person, RentalHouse
from backend.registers.definitions import Column, Entry, EntryContext, Register
from backend.registers.repository import RegisterRow
from backend.registers.village import SERVICE_READ

REASONS = {
    "not_seen": "长期未见面",
    "uninspected_certificate": "婚育证明未查验",
    "expired_certificate": "婚育证明已过期",
    "house_not_visited": "出租房屋未走访",
    "new_arrival": "新发现流入",
}
PERSON_FINDINGS = {
    CampaignFinding.present: "在住，已见面",
    CampaignFinding.left: "已离开",
    CampaignFinding.moved_within_county: "县内迁移",
    CampaignFinding.unknown: "去向不明",
    CampaignFinding.new_arrival: "新发现流入",
}
HOUSE_FINDINGS = {CampaignFinding.present: "已走访", CampaignFinding.unknown: "无人在家"}


@dataclass(frozen=True, slots=True)
class FindingEntry(Entry):
    item: CampaignItem
    campaign: Campaign
    person: Person | None
    house: RentalHouse | None
    unit_name: str
    moved_to_name: str | None


def finding_entry(row: RegisterRow, context: EntryContext) -> FindingEntry:
    item: CampaignItem = row[0]
    person: Person | None = row[2]
    units = (item.org_unit_code,) if person is None else (item.org_unit_code, person.org_unit_code)
    return FindingEntry(
        unit_code=item.org_unit_code,
        ids=context.identifiers(person, units, False),
        item=item,
        campaign=row[1],
        person=person,
        house=row[3],
        unit_name=context.unit_name(item.org_unit_code),
        moved_to_name=context.unit_name(item.moved_to_unit_code) if item.moved_to_unit_code else None,
    )


def _finding(entry: FindingEntry) -> str | None:
    if entry.item.finding is None:  # pragma: no cover - the query selects recorded entries only
        return None
    labels = HOUSE_FINDINGS if entry.house is not None else PERSON_FINDINGS
    return labels.get(entry.item.finding, entry.item.finding.value)


def _subject(entry: FindingEntry) -> str | None:
    if entry.person is not None:
        return entry.person.name
    if entry.house is not None:
        plate = f"（{entry.house.door_plate}）" if entry.house.door_plate else ""
        return f"{entry.house.address}{plate}"
    return None


CAMPAIGN_FINDINGS: Register[FindingEntry] = Register(
    code="campaign-findings",
    title="清理清查走访登记表",
    entity_type="campaign_item",
    read_actions=SERVICE_READ,
    query=lambda repository, register_filter: CampaignItemRepository(repository.session).register(register_filter),
    entry=finding_entry,
    columns=(
        Column("found_on", "走访日期", lambda e: e.item.found_on, 12),
        Column("campaign", "清查名称", lambda e: e.campaign.name, 24),
        Column("subject", "姓名或出租房屋", _subject, 24),
        Column("resident_id", "身份证号", lambda e: e.ids.resident_id, 21),
        Column("reasons", "列入名单原因", lambda e: "、".join(REASONS.get(r, r) for r in e.item.reasons), 24),
        Column("finding", "走访结果", _finding, 12),
        Column("moved_to", "县内迁往", lambda e: e.moved_to_name, 16),
        Column("notes", "情况说明", lambda e: e.item.notes, 24),
        Column("recorded_by", "登记人", lambda e: e.item.recorded_by_label, 12),
        Column("unit", "村（居）", lambda e: e.unit_name, 16),
    ),
)

CAMPAIGN_REGISTERS: tuple[Register[Any], ...] = (CAMPAIGN_FINDINGS,)
