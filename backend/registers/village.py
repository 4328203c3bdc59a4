"""The registers of village service work (issue #21), declared like the registry's (backend/registers/definitions.py):
the same page view, CSV and XLSX files, masking and audited exports. Their queries live in their domains'
repositories and end in `scoped()` (the caller's subtrees, the chosen unit, the period).

- 《计划生育三查登记册》 (check-rounds): one row per woman per round, 「分册分次进行登记造册」: the period is the
  round's window end, so one book per round is one period.
- 随访服务登记册 (followup-visits): each follow-up with its visit, by due day.
- 《避孕药具发放登记册》 (contraceptive-issues): every issue with its recipient and whether she signed.
- 免费技术服务登记册 (free-services): each free service, with who bears its cost for the provincial settlement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from backend.authz.vocabulary import Action
from backend.checks.repository import CheckRoundRepository
from backend.contraceptives.repository import PointRepository
from backend.core.clock import CHINA
from backend.followups.repository import VisitRepository
from backend.free_services.items import NATIONAL_ITEMS
from backend.free_services.repository import ServiceRepository
from backend.models import (
    Case,
    CheckPlace,
    CheckResult,
    CheckRound,
    CheckRoundStatus,
    ContraceptiveProduct,
    CostBearer,
    DistributionPoint,
    FollowUpVisit,
    FreeService,
    GynaecologyFinding,
    IudFinding,
    Person,
    PregnancyFinding,
    StockMovement,
    VisitMethod,
)
from backend.registers import labels
from backend.registers.definitions import Column, Entry, EntryContext, Register, age_on
from backend.registers.repository import RegisterRow

SERVICE_READ = (Action.person_read, Action.service_read)

CHECK_ROUND_STATUS = {
    CheckRoundStatus.due: "应检",
    CheckRoundStatus.done: "已检",
    CheckRoundStatus.missed: "未到位",
    CheckRoundStatus.void: "作废",
}
PREGNANCY = {
    PregnancyFinding.not_pregnant: "未孕",
    PregnancyFinding.pregnant: "现孕",
    PregnancyFinding.not_checked: "未查",
}
IUD = {
    IudFinding.in_place: "环在位",
    IudFinding.displaced: "环位异常",
    IudFinding.absent: "环脱落",
    IudFinding.not_applicable: "未上环",
}
GYNAECOLOGY = {
    GynaecologyFinding.normal: "未见异常",
    GynaecologyFinding.findings: "有异常",
    GynaecologyFinding.not_checked: "未查",
}
PLACE = {CheckPlace.local: "本地", CheckPlace.elsewhere: "外地（寄回证明）"}
VISIT_METHOD = {
    VisitMethod.home: "入户",
    VisitMethod.phone: "电话",
    VisitMethod.service_room: "服务室",
    VisitMethod.workplace: "工作地",
}
FOLLOWUP_KIND = {
    "postpartum_visit": "产后42天随访",
    "pill_user_visit": "服药对象随访",
    "post_procedure_visit": "术后随访",
    "returned_migrant_visit": "返乡人员随访",
    "missed_checks_visit": "三查不到位上门服务",
}


@dataclass(frozen=True, slots=True)
class CheckEntry(Entry):
    round: CheckRound
    person: Person
    result: CheckResult | None
    unit_name: str
    as_of: date


def check_entry(row: RegisterRow, context: EntryContext) -> CheckEntry:
    round_: CheckRound = row[0]
    person: Person = row[1]
    return CheckEntry(
        unit_code=round_.org_unit_code,
        ids=context.identifiers(person, (round_.org_unit_code, person.org_unit_code), False),
        round=round_,
        person=person,
        result=row[2],
        unit_name=context.unit_name(round_.org_unit_code),
        as_of=context.as_of,
    )


def _result_text(entry: CheckEntry, mapping: Mapping[Any, str], field: str) -> str | None:
    return mapping[getattr(entry.result, field)] if entry.result is not None else None


K = CheckEntry

CHECK_ROUNDS: Register[K] = Register(
    code="check-rounds",
    title="计划生育三查登记册",
    entity_type="check_round",
    read_actions=SERVICE_READ,
    query=lambda repository, register_filter: CheckRoundRepository(repository.session).register(register_filter),
    entry=check_entry,
    columns=(
        Column("round", "检查轮次", lambda e: f"{e.round.year}年第{e.round.round}/{e.round.rounds}轮", 16),
        Column("name", "姓名", lambda e: e.person.name, 10),
        Column("age", "年龄", lambda e: age_on(e.person.birth_date, e.as_of), 6),
        Column("resident_id", "身份证号", lambda e: e.ids.resident_id, 21),
        Column("subject_class", "对象类别", lambda e: "重点对象" if e.round.key_subject else "一般对象", 10),
        Column(
            "window", "本轮期间", lambda e: f"{e.round.window_start.isoformat()}至{e.round.window_end.isoformat()}", 24
        ),
        Column("checked_on", "检查日期", lambda e: e.result.checked_on if e.result else None, 12),
        Column("pregnancy", "孕情", lambda e: _result_text(e, PREGNANCY, "pregnancy"), 8),
        Column("iud", "环情", lambda e: _result_text(e, IUD, "iud"), 8),
        Column("gynaecology", "妇科检查", lambda e: _result_text(e, GYNAECOLOGY, "gynaecology"), 10),
        Column("provider", "服务机构", lambda e: e.result.provider_name if e.result else None, 20),
        Column(
            "place",
            "检查地点",
            lambda e: (
                (PLACE[e.result.place] + (f"：{e.result.place_name}" if e.result.place_name else ""))
                if e.result
                else None
            ),
            20,
        ),
        Column("status", "状态", lambda e: CHECK_ROUND_STATUS[e.round.status], 8),
        Column("unit", "登记单位", lambda e: e.unit_name, 16),
    ),
)


@dataclass(frozen=True, slots=True)
class VisitEntry(Entry):
    case: Case
    person: Person | None
    visit: FollowUpVisit | None
    unit_name: str


def visit_entry(row: RegisterRow, context: EntryContext) -> VisitEntry:
    case: Case = row[0]
    person: Person | None = row[1]
    units = (case.org_unit_code,) if person is None else (case.org_unit_code, person.org_unit_code)
    return VisitEntry(
        unit_code=case.org_unit_code,
        ids=context.identifiers(person, units, False),
        case=case,
        person=person,
        visit=row[2],
        unit_name=context.unit_name(case.org_unit_code),
    )


def _kind(case: Case) -> str:
    kind = str(case.details.get("followup_kind") or "postpartum_visit") if isinstance(case.details, dict) else ""
    return FOLLOWUP_KIND.get(kind, kind)


def _effective(visit: FollowUpVisit | None) -> str | None:
    if visit is None or visit.procedure_effective is None:
        return None
    return "有效" if visit.procedure_effective else "无效"


V = VisitEntry

FOLLOWUP_VISITS: Register[V] = Register(
    code="followup-visits",
    title="随访服务登记册",
    entity_type="case",
    read_actions=SERVICE_READ,
    query=lambda repository, register_filter: VisitRepository(repository.session).register(register_filter),
    entry=visit_entry,
    columns=(
        Column("kind", "随访类别", lambda e: _kind(e.case), 16),
        Column("name", "姓名", lambda e: e.person.name if e.person else e.case.subject_name, 10),
        Column("resident_id", "身份证号", lambda e: e.ids.resident_id, 21),
        Column("due", "应访日期", lambda e: e.case.due_at.astimezone(CHINA).date() if e.case.due_at else None, 12),
        Column("visited_on", "随访日期", lambda e: e.visit.visited_on if e.visit else None, 12),
        Column("method", "随访方式", lambda e: VISIT_METHOD[e.visit.method] if e.visit else None, 8),
        Column(
            "measure",
            "避孕措施",
            lambda e: (
                labels.CONTRACEPTION[e.visit.contraception_measure]
                if e.visit and e.visit.contraception_measure
                else None
            ),
            10,
        ),
        Column("effective", "手术有效性", lambda e: _effective(e.visit), 8),
        Column("pregnancy", "孕情", lambda e: PREGNANCY[e.visit.pregnancy] if e.visit else None, 8),
        Column("side_effects", "不良反应", lambda e: e.visit.side_effects if e.visit else None, 20),
        Column("visitor", "随访人", lambda e: e.visit.recorded_by_label if e.visit else None, 12),
        Column("status", "状态", lambda e: "已随访" if e.visit else labels.CASE_STAGE[e.case.stage], 8),
        Column("unit", "单位", lambda e: e.unit_name, 16),
    ),
)

PRODUCT = {
    ContraceptiveProduct.condom: "避孕套",
    ContraceptiveProduct.oral_pill: "口服避孕药",
    ContraceptiveProduct.emergency_pill: "紧急避孕药",
    ContraceptiveProduct.injection: "避孕针",
    ContraceptiveProduct.topical: "外用避孕药",
    ContraceptiveProduct.other: "其他药具",
}


@dataclass(frozen=True, slots=True)
class IssueEntry(Entry):
    movement: StockMovement
    point: DistributionPoint
    person: Person | None
    unit_name: str


def issue_entry(row: RegisterRow, context: EntryContext) -> IssueEntry:
    movement: StockMovement = row[0]
    person: Person | None = row[2]
    units = (movement.org_unit_code,) if person is None else (movement.org_unit_code, person.org_unit_code)
    return IssueEntry(
        unit_code=movement.org_unit_code,
        ids=context.identifiers(person, units, False),
        movement=movement,
        point=row[1],
        person=person,
        unit_name=context.unit_name(movement.org_unit_code),
    )


CONTRACEPTIVE_ISSUES: Register[IssueEntry] = Register(
    code="contraceptive-issues",
    title="避孕药具发放登记册",
    entity_type="distribution_point",
    read_actions=SERVICE_READ,
    query=lambda repository, register_filter: PointRepository(repository.session).register(register_filter),
    entry=issue_entry,
    columns=(
        Column("issued_on", "发放日期", lambda e: e.movement.moved_on, 12),
        Column("recipient", "领取人", lambda e: e.person.name if e.person else "（自取）", 10),
        Column("resident_id", "身份证号", lambda e: e.ids.resident_id, 21),
        Column("product", "药具品种", lambda e: PRODUCT[e.movement.product], 12),
        Column("quantity", "数量", lambda e: e.movement.quantity, 6),
        Column("point", "发放点", lambda e: e.point.name, 18),
        Column("signed", "签字", lambda e: "已签字" if e.movement.signature_document_id else "无需签字", 8),
        Column("issued_by", "发放人", lambda e: e.movement.recorded_by_label, 12),
        Column("balance", "结存", lambda e: e.movement.balance_after, 6),
        Column("unit", "单位", lambda e: e.unit_name, 16),
    ),
)

COST_BEARER = {
    CostBearer.residence_county: "现居住地县级财政",
    CostBearer.registration_place: "户籍地",
    CostBearer.provincial_settlement: "省内结算",
    CostBearer.other: "其他",
}


@dataclass(frozen=True, slots=True)
class ServiceEntry(Entry):
    service: FreeService
    person: Person
    item_name: str
    unit_name: str


def service_entry(row: RegisterRow, context: EntryContext) -> ServiceEntry:
    service: FreeService = row[0]
    person: Person = row[1]
    return ServiceEntry(
        unit_code=service.org_unit_code,
        ids=context.identifiers(person, (service.org_unit_code, person.org_unit_code), False),
        service=service,
        person=person,
        item_name=NATIONAL_ITEMS.get(service.item_code) or row[2] or service.item_code,
        unit_name=context.unit_name(service.org_unit_code),
    )


FREE_SERVICES: Register[ServiceEntry] = Register(
    code="free-services",
    title="免费技术服务登记册",
    entity_type="free_service",
    read_actions=SERVICE_READ,
    query=lambda repository, register_filter: ServiceRepository(repository.session).register(register_filter),
    entry=service_entry,
    columns=(
        Column("served_on", "服务日期", lambda e: e.service.served_on, 12),
        Column("name", "姓名", lambda e: e.person.name, 10),
        Column("resident_id", "身份证号", lambda e: e.ids.resident_id, 21),
        Column("item", "服务项目", lambda e: e.item_name, 24),
        Column("provider", "服务机构", lambda e: e.service.provider_name, 20),
        Column("cost_bearer", "费用承担", lambda e: COST_BEARER[e.service.cost_bearer], 14),
        Column(
            "amount", "结算金额（元）", lambda e: str(e.service.amount) if e.service.amount is not None else None, 12
        ),
        Column("recorded_by", "登记人", lambda e: e.service.recorded_by_label, 12),
        Column("unit", "单位", lambda e: e.unit_name, 16),
    ),
)

VILLAGE_REGISTERS: tuple[Register[Any], ...] = (CHECK_ROUNDS, FOLLOWUP_VISITS, CONTRACEPTIVE_ISSUES, FREE_SERVICES)
