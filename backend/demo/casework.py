"""The demo's casework: cases of every type in every stage, verification requests both ways between 西湖 and 阜南
(answered, pending, late), department notifications waiting for triage, agreements and a county holiday.

How the clock fields come out right: each case is opened with its real arrival time (the case service takes a
past `received_at`), and each human action is requested, through the outbox, at the moment the officer took it
(the service stamps `requested_at` from the platform clock the history sets). The case workflow, started by
`make run`'s worker, applies the actions in order from those moments and then raises whatever reminders,
overdue notices and escalations have fallen due since. So that it never raises one that the history had
already made moot, a case that moves through stages with deadlines does so within the last few days (before any
reminder was due), and the overdue cases are overdue in the stage they are in: a first stage with a deadline, or
a stage entered weeks ago after a first stage without one (流入人口登记, 举报投诉, 避孕节育情况报告).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from backend.agreements.schemas import AgreementCreate, AgreementParty
from backend.agreements.service import create_agreement
from backend.authz.vocabulary import Action
from backend.calendar.service import declare_county_holiday
from backend.cases import service as cases
from backend.cases.schemas import AssignRequest, CaseActionRequest, CaseCreate, CaseSubjectIn
from backend.config import Settings
from backend.demo.departments import Departments
from backend.demo.names import FUNAN, XIHU
from backend.demo.people import Cast, Resident, staff_for
from backend.demo.timeline import DemoCounty, Timeline
from backend.models import AgreementKind, CaseOutcome, QuestionType, VerificationKind
from backend.verification import service as verification
from backend.verification.schemas import AnswerBody, VerificationCreate
from workflows.cases.types import CaseAction

A = CaseAction
QUESTIONS = {
    QuestionType.marital_childbearing: "请核实其婚育情况及生育子女数。",
    QuestionType.contraception: "请核实其避孕节育措施落实情况。",
    QuestionType.pregnancy: "请核实其孕情。",
    QuestionType.certificate: "请核实其婚育证明是否由贵单位出具、是否有效。",
}
NOTICE = "该夫妻已在我街道办理一孩生育服务登记，特此通报。"
ANSWERS = (
    "经核实，该人员初婚，现有子女0个，未发现违法生育情况。",
    "经核实，该人员已婚，生育一孩，已落实长效避孕措施。",
    "经核实，婚育证明系我镇出具，真实有效。",
)
REASONS = {
    "materials": "请补交原婚育证明原件及户口簿复印件",
    "extension": "当事人在外地务工，需延期核实",
    "refusal": "重复登记，已在原记录办理",
}
HOLIDAYS = {
    XIHU: ("区级防汛抢险补休", "西湖区人民政府办公室通知"),
    FUNAN: ("蒙洼蓄洪区防汛补休", "阜南县人民政府办公室通知"),
}


@dataclass
class Casework:
    """Schedules the casework events; keeps the ids each later event needs."""

    timeline: Timeline
    counties: dict[str, DemoCounty]
    case_ids: dict[str, uuid.UUID] = field(default_factory=dict)
    case_units: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (county, unit)

    def _schedule(self, days_ago: int, hour: int, event: Callable[[], Awaitable[None]]) -> None:
        self.timeline.schedule(self.timeline.at(days_ago, hour), event)

    # --- cases ---------------------------------------------------------------------------------------------

    def open(
        self,
        key: str,
        county: str,
        case_type: str,
        unit: str,
        subjects: list[tuple[Resident, str]],
        days_ago: int,
        *,
        claim: str | None = "",
    ) -> None:
        """Open the case as the unit's officer when it arrived, then (unless `claim` is None) she claims it (or
        the named colleague does)."""
        self.case_units[key] = (county, unit)
        demo = self.counties[county]
        opener = staff_for(demo, unit)

        async def event() -> None:
            body = CaseCreate(
                case_type=case_type,
                org_unit_code=unit,
                subjects=[CaseSubjectIn(person_id=resident.ids[county], part=part) for resident, part in subjects],
                received_at=None,
            )
            async with self.timeline.acting(demo, opener) as (session, principal):
                case = await cases.open_case(session, principal, body)
                self.case_ids[key] = case.id
                if claim == "":
                    await cases.claim_case(session, principal, case)
            if claim:
                async with self.timeline.acting(demo, claim) as (session, principal):
                    await cases.claim_case(session, principal, await self._case(session, principal, key))

        self._schedule(days_ago, 9, event)

    async def _case(self, session: Any, principal: Any, key: str) -> Any:
        return await cases.get_case(session, principal, self.case_ids[key], Action.case_write)

    def act(self, key: str, days_ago: int, action: CaseAction, who: str | None = None, **fields: Any) -> None:
        """A human action on the case, requested at that moment (the workflow applies it when it runs)."""
        county, unit = self.case_units[key]
        demo = self.counties[county]

        async def event() -> None:
            async with self.timeline.acting(demo, who or staff_for(demo, unit)) as (session, principal):
                case = await self._case(session, principal, key)
                body = CaseActionRequest(version=case.version, action=action, **fields)
                await cases.request_action(session, principal, case, body)

        self._schedule(days_ago, 15, event)

    def assign(self, key: str, days_ago: int, assignee: str) -> None:
        """The township supervisor gives the case to a colleague."""
        county, unit = self.case_units[key]
        demo = self.counties[county]

        async def event() -> None:
            async with self.timeline.acting(demo, "township.sup") as (session, principal):
                case = await cases.get_case(session, principal, self.case_ids[key], Action.case_assign)
                body = AssignRequest(assignee_id=demo.users[assignee].id, version=case.version)
                await cases.assign_case(session, case, body)

        self._schedule(days_ago, 11, event)

    # --- verification ---------------------------------------------------------------------------------------

    def ask(
        self,
        key: str,
        days_ago: int,
        resident: Resident,
        question_type: QuestionType,
        *,
        place: str = "registration",
        answered: int | None = None,
        answer: str = ANSWERS[0],
    ) -> None:
        """The case's township asks the other county (协查) about `resident`; the other side answers `answered`
        days ago, or leaves it pending."""
        county, unit = self.case_units[key]
        demo = self.counties[county]
        other = self.counties[FUNAN if county == XIHU else XIHU]
        row_id: list[uuid.UUID] = []

        async def send() -> None:
            async with self.timeline.acting(demo, staff_for(demo, unit[:9])) as (session, principal):
                body = VerificationCreate(
                    case_id=self.case_ids[key],
                    person_id=resident.ids[county],
                    place=place,
                    question_type=question_type,
                    question=QUESTIONS[question_type],
                )
                row = await verification.send(
                    session, self.timeline.database, principal, body, VerificationKind.request
                )
                row_id.append(row.id)
                responder = row.responder_unit_code

            if answered is not None:

                async def reply() -> None:
                    async with self.timeline.acting(other, staff_for(other, responder)) as (session, principal):
                        row = await verification.get_as_responder(session, principal, row_id[0])
                        await verification.answer(session, row, AnswerBody(answer=answer))

                self._schedule(answered, 14, reply)

        self._schedule(days_ago, 10, send)

    def notify(self, key: str, days_ago: int, spouses: list[Resident]) -> None:
        """The case's township notifies the spouses' registration townships of the first-child registration (通报,
        P04): one notice to each township other than its own, before the case is closed as registered or leaves
        its notifying stage."""
        county, unit = self.case_units[key]
        demo = self.counties[county]

        async def send() -> None:
            notified = {unit[:9]}  # its own township checks locally: no notice to itself
            async with self.timeline.acting(demo, staff_for(demo, unit[:9])) as (session, principal):
                for resident in spouses:
                    if resident.origin[:9] in notified:
                        continue
                    notified.add(resident.origin[:9])
                    body = VerificationCreate(
                        case_id=self.case_ids[key],
                        person_id=resident.ids[county],
                        question_type=QuestionType.first_child_registration,
                        question=NOTICE,
                    )
                    await verification.send(session, self.timeline.database, principal, body, VerificationKind.notice)

        self._schedule(days_ago, 14, send)


def _pick(residents: list[Resident], where: str, count: int, *, skip: set[str]) -> list[Resident]:
    """`count` residents of `where` (living there, for 西湖; registered there, for 阜南's outflow) not used by
    another story."""
    picked = []
    for resident in residents:
        home = resident.residence if where.startswith(XIHU) else resident.origin
        if home.startswith(where) and resident.key not in skip:
            picked.append(resident)
            skip.add(resident.key)
            if len(picked) == count:
                break
    return picked


def tell(timeline: Timeline, cast: Cast, counties: dict[str, DemoCounty], settings: Settings) -> None:
    """Schedule the casework of both counties."""
    work = Casework(timeline, counties)
    used: set[str] = set()
    couples = [woman for woman in cast.shared_women() if not woman.children]
    singles = [r for r in cast.residents.values() if r.key.startswith("shared") and r.spouse is None]
    _xihu_cases(work, couples, singles, used)
    _funan_cases(work, cast, used)
    Departments(timeline, counties, settings).notify_all(cast, used)
    _agreements(timeline, counties)
    _holidays(timeline, counties)


def _xihu_cases(work: Casework, couples: list[Resident], singles: list[Resident], used: set[str]) -> None:
    beishan = XIHU + "001"
    # 流入人口登记: new ones in the queue or claimed, some in verification, three far overdue, two done.
    recent = _pick(singles, beishan, 4, skip=used)
    for index, resident in enumerate(recent):
        key = f"xh-inflow-new-{index}"
        work.open(
            key,
            XIHU,
            "inflow_registration",
            resident.residence,
            [(resident, "subject")],
            index % 3,
            claim=None if index < 2 else "",
        )
    checking = _pick(singles, beishan, 3, skip=used)
    for index, resident in enumerate(checking):
        key = f"xh-inflow-check-{index}"
        work.open(key, XIHU, "inflow_registration", resident.residence, [(resident, "subject")], 6)
        work.act(key, 5, A.advance)
        work.ask(key, 5, resident, QuestionType.marital_childbearing, answered=2 if index == 0 else None)
    work.assign("xh-inflow-check-2", 4, "township2")
    work.act(
        "xh-inflow-check-1", 1, A.extend, who="township.sup", reason=REASONS["extension"], extension_working_days=5
    )
    # Three far overdue: asked of 阜南 then, answered (but never closed), left to expire, and late this week.
    overdue = _pick(singles, beishan, 3, skip=used)
    for index, (resident, received) in enumerate(zip(overdue, (45, 38, 27), strict=True)):
        key = f"xh-inflow-overdue-{index}"
        work.open(key, XIHU, "inflow_registration", resident.residence, [(resident, "subject")], received)
        work.act(key, received - 1, A.advance)
        work.ask(
            key,
            received - 1,
            resident,
            QuestionType.marital_childbearing,
            answered=received - 12 if index == 0 else None,
        )
    # Two whose verification deadline falls within the next two days (三日内到期), reminders raised.
    for index, resident in enumerate(_pick(singles, beishan, 2, skip=used)):
        key = f"xh-inflow-due-soon-{index}"
        started = work.timeline.started_for_due_soon(15)
        work.open(key, XIHU, "inflow_registration", resident.residence, [(resident, "subject")], started + 1)
        work.act(key, started, A.advance)
        work.ask(key, started, resident, QuestionType.marital_childbearing, answered=started - 3)
    done = _pick(singles, XIHU, 2, skip=used)
    for index, resident in enumerate(done):
        key = f"xh-inflow-done-{index}"
        work.open(key, XIHU, "inflow_registration", resident.residence, [(resident, "subject")], 12)
        work.act(key, 11, A.advance)
        work.ask(key, 11, resident, QuestionType.marital_childbearing, answered=9)
        work.act(key, 8, A.close, outcome=CaseOutcome.registered)

    # 一孩生育服务登记: the couple's 阜南 township is asked (协查) and answers the next day; one couple per stage.
    # Every stage of this type has a deadline, so each history fits in the last three days (see the docstring).
    # Once registered, the township notifies the couple's registration township (通报, P04) before it closes the
    # case as registered or lets it leave the notifying stage (follow_up).
    notify: None = None  # a step that sends the registration notice
    stages: tuple[tuple[str, list[tuple[int, CaseAction | None, dict[str, Any]]]], ...] = (
        ("xh-first-child-new", []),
        ("xh-first-child-checking", [(1, A.advance, {})]),
        (
            "xh-first-child-registered",
            [(1, A.advance, {}), (0, notify, {}), (0, A.close, {"outcome": CaseOutcome.registered})],
        ),
        # Notified too: a visitor (and tests/frontend/e2e/test_demo_actions.py) can move it on from follow_up.
        ("xh-first-child-follow-up", [(1, A.advance, {}), (1, A.advance, {}), (0, A.advance, {}), (0, notify, {})]),
        (
            "xh-first-child-audit",
            [(1, A.advance, {}), (1, A.advance, {}), (0, A.advance, {}), (0, notify, {}), (0, A.advance, {})],
        ),
    )
    for (key, steps), wife in zip(stages, _pick(couples, beishan, 5, skip=used), strict=False):
        assert wife.spouse is not None
        subjects = [(wife, "applicant"), (wife.spouse, "spouse")]
        work.open(key, XIHU, "first_child_registration", wife.residence, subjects, 3 if steps else 1)
        if steps:
            work.ask(key, 3, wife, QuestionType.marital_childbearing, answered=2)
        for days_ago, action, fields in steps:
            if action is None:
                work.notify(key, days_ago, [wife, wife.spouse])
            else:
                work.act(key, days_ago, action, **fields)

    # Other work of the street offices: a complaint and a postpartum visit left overdue, a certificate case
    # waiting for materials (the clock suspended), inspections and a contraception report on time.
    others = _pick(singles, XIHU, 6, skip=used)
    work.open("xh-complaint-overdue", XIHU, "complaint", others[0].residence, [(others[0], "subject")], 35)
    work.act("xh-complaint-overdue", 34, A.advance)
    work.open("xh-visit-overdue", XIHU, "follow_up_visit", others[1].residence, [(others[1], "subject")], 50)
    work.open("xh-renewal-materials", XIHU, "certificate_renewal", others[2].residence, [(others[2], "subject")], 3)
    work.act("xh-renewal-materials", 2, A.request_materials, reason=REASONS["materials"])
    work.open("xh-inspection", XIHU, "certificate_inspection", others[3].residence, [(others[3], "subject")], 2)
    work.open("xh-inspection-2", XIHU, "certificate_inspection", others[4].residence, [(others[4], "subject")], 4)
    work.act("xh-inspection-2", 3, A.advance)
    work.open("xh-contraception", XIHU, "contraception_report", others[5].residence, [(others[5], "subject")], 3)
    work.act("xh-contraception", 2, A.advance)


def _funan_cases(work: Casework, cast: Cast, used: set[str]) -> None:
    lucheng = FUNAN + "100"
    outflow = [r for r in cast.residents.values() if r.key.startswith(("shared", "funan-out")) and r.spouse is None]
    shared = [r for r in outflow if r.key.startswith("shared")]
    registrations = _pick(outflow, lucheng, 4, skip=used)
    for index, resident in enumerate(registrations):
        key = f"fn-outflow-{index}"
        work.open(
            key,
            FUNAN,
            "outflow_registration",
            resident.origin,
            [(resident, "subject")],
            index * 2 + 1,
            claim=None if index == 0 else "",
        )
    work.act("fn-outflow-3", 2, A.close, outcome=CaseOutcome.registered)
    issues = _pick(outflow, lucheng, 3, skip=used)
    for index, resident in enumerate(issues):
        key = f"fn-certificate-{index}"
        work.open(key, FUNAN, "certificate_issue", resident.origin, [(resident, "subject")], 4 - index)
        if index >= 1:
            work.act(key, 3 - index, A.advance)
        if index == 2:
            work.act(key, 0, A.close, outcome=CaseOutcome.completed)
    # 阜南 asks 西湖 (where she lives) about contraception and pregnancy: answered, pending, and one left late.
    asked = _pick(shared, lucheng, 3, skip=used)
    work.open("fn-report-answered", FUNAN, "contraception_report", asked[0].origin, [(asked[0], "subject")], 6)
    work.ask(
        "fn-report-answered", 6, asked[0], QuestionType.contraception, place="residence", answered=4, answer=ANSWERS[1]
    )
    work.open("fn-rebirth", FUNAN, "rebirth_approval", asked[1].origin, [(asked[1], "applicant")], 3)
    work.act("fn-rebirth", 2, A.advance)
    work.ask("fn-rebirth", 2, asked[1], QuestionType.pregnancy, place="residence")
    work.open("fn-report-overdue", FUNAN, "contraception_report", asked[2].origin, [(asked[2], "subject")], 27)
    work.act("fn-report-overdue", 26, A.advance)
    work.ask("fn-report-overdue", 26, asked[2], QuestionType.contraception, place="residence")
    complaint = _pick(outflow, lucheng, 1, skip=used)[0]
    work.open("fn-complaint-overdue", FUNAN, "complaint", complaint.origin, [(complaint, "subject")], 40)
    work.act("fn-complaint-overdue", 39, A.advance)


def _agreements(timeline: Timeline, counties: dict[str, DemoCounty]) -> None:
    """Responsibility letters with employers and landlords, and the two-way service agreement between the two
    counties (双向服务管理协议书); one letter runs out this month."""
    today = timeline.today
    xihu, funan = counties[XIHU], counties[FUNAN]
    agreements = (
        (
            xihu,
            "township",
            AgreementKind.responsibility_letter,
            "流动人口计划生育管理责任书（杭州文新餐饮管理有限公司）",
            [("北山街道办事处", "township"), ("杭州文新餐饮管理有限公司", "employer")],
            340,
            today + timedelta(days=25),
        ),
        (
            xihu,
            "village",
            AgreementKind.contract,
            "出租房屋流动人口计划生育管理合同（保俶路58号）",
            [("保俶塔社区居民委员会", "community"), ("王建国", "landlord")],
            200,
            today + timedelta(days=165),
        ),
        (
            xihu,
            "county",
            AgreementKind.two_way_service,
            "西湖区—阜南县流动人口计划生育双向服务管理协议书",
            [("杭州市西湖区卫生健康局", "county"), ("阜南县卫生健康委员会", "county")],
            400,
            today + timedelta(days=330),
        ),
        (
            funan,
            "county",
            AgreementKind.two_way_service,
            "阜南县—西湖区流动人口计划生育双向服务管理协议书",
            [("阜南县卫生健康委员会", "county"), ("杭州市西湖区卫生健康局", "county")],
            400,
            today + timedelta(days=330),
        ),
        (
            funan,
            "township",
            AgreementKind.responsibility_letter,
            "流动人口计划生育管理责任书（阜南县柳编工艺品厂）",
            [("鹿城镇人民政府", "township"), ("阜南县柳编工艺品厂", "employer")],
            380,
            today - timedelta(days=12),
        ),
    )
    for county, who, kind, title, parties, days_ago, valid_until in agreements:

        async def event(
            county: DemoCounty = county,
            who: str = who,
            kind: AgreementKind = kind,
            title: str = title,
            parties: list[tuple[str, str]] = parties,
            days_ago: int = days_ago,
            valid_until: date = valid_until,
        ) -> None:
            signed = timeline.day(days_ago)
            body = AgreementCreate(
                kind=kind,
                title=title,
                parties=[AgreementParty(name=name, role=role) for name, role in parties],
                signed_on=signed,
                valid_from=signed,
                valid_until=valid_until,
                org_unit_code=county.users[who].org_unit_code,
            )
            async with timeline.acting(county, who) as (session, principal):
                await create_agreement(session, principal, body)

        timeline.schedule(timeline.at(days_ago, 10), event)


def _holidays(timeline: Timeline, counties: dict[str, DemoCounty]) -> None:
    """Each county declared an extra day off in the coming weeks, which moved the deadlines running over it."""
    for code, (days_ahead, declared) in ((XIHU, (9, 8)), (FUNAN, (12, 15))):
        county = counties[code]
        day = timeline.today + timedelta(days=days_ahead)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        name, source = HOLIDAYS[code]

        async def event(county: DemoCounty = county, day: date = day, name: str = name, source: str = source) -> None:
            async with timeline.acting(county, "admin") as (session, _principal):
                await declare_county_holiday(session, day, name, source)

        timeline.schedule(timeline.at(declared, 16), event)
