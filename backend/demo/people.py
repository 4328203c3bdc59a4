"""The demo's people: who lives where, when each county registered her, her certificate and its inspections, and
the flow notices (流入登记通报) the registration county acknowledged.

Many people registered in 阜南 (341225) work in 西湖 (330106): each is registered twice, as outflow in 阜南 and,
a few days to weeks later, as inflow in 西湖 with the same ID number, and 西湖's registration sends 阜南 a flow
notice through the platform. Others come from or went to counties that are not on the platform.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from backend.authz.vocabulary import Action
from backend.certificates import service as certificates
from backend.certificates.schemas import CertificateIssue, InspectionCreate
from backend.demo.names import ELSEWHERE, FUNAN, FUNAN_EMPLOYERS, OTHER_ORIGINS, XIHU, XIHU_EMPLOYERS, DemoPerson
from backend.demo.names import PeopleFactory as Factory
from backend.demo.timeline import DemoCounty, Timeline
from backend.models import ContraceptionMeasure, FlowDirection, InspectionResult, MaritalStatus
from backend.persons import service as persons
from backend.persons.schemas import ChildIn, PersonCreate, PersonDepart
from backend.verification import service as verification
from backend.verification.repository import ReceivedRequests, VerificationFilters
from backend.verification.schemas import AnswerBody

# How many of each kind of person the demo has (spouses come on top).
SHARED = 120  # registered in 阜南, living in 西湖: in both registries
FUNAN_ELSEWHERE = 50  # 阜南 outflow to counties off the platform
XIHU_OTHER_ORIGIN = 45  # 西湖 inflow from counties off the platform
XIHU_OUTFLOW = 25  # 西湖 residents working elsewhere
FUNAN_INFLOW = 20  # 阜南 inflow from neighbouring counties
FUNAN_WITHIN = 12  # moved within 阜南
NOTICES_LEFT_PENDING = 3  # old flow notices 阜南 never acknowledged: late
NOTICE_ANSWER = "已收到，已关联本县流出登记。"
DEPARTURE_REASON = "返回户籍地长期居住"
INSPECTION_NOTE = "证件与本人情况一致"
CONTRACEPTION = (ContraceptionMeasure.iud, ContraceptionMeasure.condom, ContraceptionMeasure.pill)


@dataclass
class Resident:
    """One person of the demo, in one or both registries."""

    key: str
    who: DemoPerson
    origin: str  # the registration place: a village of 阜南 or 西湖 (12 digits), or another county (6)
    origin_address: str
    residence: str  # where she lives: a unit of 西湖 / 阜南 (12 digits) or another county (6)
    residence_address: str
    employer: str
    married: bool = False
    spouse: Resident | None = None
    children: list[ChildIn] = field(default_factory=list)
    contraception: ContraceptionMeasure | None = None
    registered_days_ago: dict[str, int] = field(default_factory=dict)  # county code -> when it registered her
    ids: dict[str, uuid.UUID] = field(default_factory=dict)  # county code -> her person id there
    certificate: str | None = None  # the number of her 婚育证明 (issued by 阜南)
    certificate_id: uuid.UUID | None = None  # that certificate as 西湖 recorded it

    @property
    def index(self) -> int:
        return int(self.key.split("-")[-1] if not self.key.endswith("spouse") else self.key.split("-")[-2])

    @property
    def name(self) -> str:
        return self.who.name


@dataclass
class Cast:
    """Everyone, by key; and the places the demo uses."""

    residents: dict[str, Resident] = field(default_factory=dict)

    def add(self, resident: Resident) -> Resident:
        self.residents[resident.key] = resident
        return resident

    def in_county(self, code: str) -> list[Resident]:
        return [resident for resident in self.residents.values() if code in resident.registered_days_ago]

    def shared_women(self) -> list[Resident]:
        """Married women registered in both counties, whose husbands are too: the couples of the casework."""
        return [
            r
            for r in self.residents.values()
            if r.key.startswith("shared") and r.who.sex == "female" and r.spouse is not None
        ]


def _children(factory: Factory, mother: DemoPerson, today: date) -> list[ChildIn]:
    count = 0 if factory.random.random() < 0.35 else 1 if factory.random.random() < 0.8 else 2
    earliest = mother.birth_date + timedelta(days=22 * 365)
    children: list[ChildIn] = []
    for order in range(1, count + 1):
        span = max((today - earliest).days, 400)
        born = earliest + timedelta(days=factory.random.randrange(0, span - 300))
        if children:
            born = max(born, children[-1].birth_date + timedelta(days=700))
        if born >= today:
            break
        name, sex = factory.child_name(mother.name)
        children.append(ChildIn(birth_order=order, birth_date=born, sex=sex, name=name))
    return children


def cast_people(xihu: DemoCounty, funan: DemoCounty, today: date) -> Cast:
    """The demo's people, the same every time (a fixed seed)."""
    factory = Factory()
    cast = Cast()
    funan_villages, xihu_units = funan.villages(), xihu.villages()

    def funan_home() -> tuple[str, str]:
        village = factory.choice(tuple(funan_villages))
        return village, "阜南县" + factory.village_address(funan.units[village[:9]], funan.units[village])

    def married(resident: Resident, spouse_region: str, *, shared: bool) -> None:
        resident.married = True
        resident.contraception = factory.random.choice(CONTRACEPTION) if factory.random.random() < 0.7 else None
        if resident.who.sex == "female":
            resident.children = _children(factory, resident.who, today)
        if factory.random.random() < 0.45:
            spouse = Resident(
                key=resident.key + "-spouse",
                who=factory.spouse_of(resident.who, spouse_region, today),
                origin=resident.origin,
                origin_address=resident.origin_address,
                residence=resident.residence,
                residence_address=resident.residence_address,
                employer=factory.choice(XIHU_EMPLOYERS if shared else FUNAN_EMPLOYERS),
                married=True,
                spouse=resident,
            )
            resident.spouse = cast.add(spouse)

    for index in range(SHARED):
        sex = "female" if factory.random.random() < 0.75 else "male"
        village, address = funan_home()
        resident = cast.add(
            Resident(
                key=f"shared-{index}",
                who=factory.person(FUNAN, sex, today),
                origin=village,
                origin_address=address,
                residence=factory.choice(tuple(xihu_units)),
                residence_address="杭州市西湖区" + factory.xihu_address(),
                employer=factory.choice(XIHU_EMPLOYERS),
            )
        )
        if factory.random.random() < 0.7:
            married(resident, FUNAN, shared=True)
        funan_day = factory.random.randrange(40, 1080)
        resident.registered_days_ago[FUNAN] = funan_day
        resident.registered_days_ago[XIHU] = max(2, funan_day - factory.random.randrange(3, 30))
        if index >= SHARED - 4:  # arrived this week: 阜南 has not acknowledged 西湖's notice yet
            resident.registered_days_ago[XIHU] = 1 + index % 4
        if resident.spouse is not None:
            resident.spouse.registered_days_ago = dict(resident.registered_days_ago)

    for index in range(FUNAN_ELSEWHERE):
        code, place = factory.choice(ELSEWHERE)
        village, address = funan_home()
        resident = cast.add(
            Resident(
                key=f"funan-out-{index}",
                who=factory.person(FUNAN, "female" if factory.random.random() < 0.7 else "male", today),
                origin=village,
                origin_address=address,
                residence=code,
                residence_address=place + factory.xihu_address().split("号")[0] + "号",
                employer="",
            )
        )
        if factory.random.random() < 0.6:
            married(resident, FUNAN, shared=False)
        resident.registered_days_ago[FUNAN] = factory.random.randrange(20, 900)
        if resident.spouse is not None:
            resident.spouse.registered_days_ago = dict(resident.registered_days_ago)

    for index in range(XIHU_OTHER_ORIGIN):
        code, county_name = factory.choice(OTHER_ORIGINS)
        resident = cast.add(
            Resident(
                key=f"xihu-in-{index}",
                who=factory.person(code, "female" if factory.random.random() < 0.65 else "male", today),
                origin=code,
                origin_address=county_name,
                residence=factory.choice(tuple(xihu_units)),
                residence_address="杭州市西湖区" + factory.xihu_address(),
                employer=factory.choice(XIHU_EMPLOYERS),
            )
        )
        if factory.random.random() < 0.6:
            married(resident, code, shared=True)
        resident.registered_days_ago[XIHU] = factory.random.randrange(3, 700)
        if resident.spouse is not None:
            resident.spouse.registered_days_ago = dict(resident.registered_days_ago)

    for index in range(XIHU_OUTFLOW):
        code, place = factory.choice(ELSEWHERE[:2])
        unit = factory.choice(tuple(xihu_units))
        resident = cast.add(
            Resident(
                key=f"xihu-out-{index}",
                who=factory.person(XIHU, "female" if factory.random.random() < 0.6 else "male", today),
                origin=unit,
                origin_address="杭州市西湖区" + factory.xihu_address(),
                residence=code,
                residence_address=place,
                employer="",
            )
        )
        resident.registered_days_ago[XIHU] = factory.random.randrange(10, 600)

    for index in range(FUNAN_INFLOW + FUNAN_WITHIN):
        within = index >= FUNAN_INFLOW
        village, address = funan_home()
        code, county_name = (FUNAN, "阜南县") if within else factory.choice(OTHER_ORIGINS[:3])
        resident = cast.add(
            Resident(
                key=f"funan-{'within' if within else 'in'}-{index}",
                who=factory.person(code, "female" if factory.random.random() < 0.65 else "male", today),
                origin=funan_home()[0] if within else code,
                origin_address=county_name,
                residence=village,
                residence_address=address,
                employer=factory.choice(FUNAN_EMPLOYERS),
            )
        )
        if factory.random.random() < 0.5:
            married(resident, code, shared=False)
        resident.registered_days_ago[FUNAN] = factory.random.randrange(5, 500)
        if resident.spouse is not None:
            resident.spouse.registered_days_ago = dict(resident.registered_days_ago)
    return cast


def _direction(county: DemoCounty, resident: Resident) -> FlowDirection:
    lives_here = resident.residence.startswith(county.code)
    registered_here = resident.origin.startswith(county.code)
    if lives_here and registered_here:
        return FlowDirection.within_county
    return FlowDirection.inflow if lives_here else FlowDirection.outflow


def managing_unit(county: DemoCounty, resident: Resident) -> str:
    """The unit keeping her record in `county`: where she is registered for outflow, where she lives otherwise."""
    return resident.origin if _direction(county, resident) is FlowDirection.outflow else resident.residence


def _registration(county: DemoCounty, resident: Resident, timeline: Timeline) -> PersonCreate:
    direction = _direction(county, resident)
    unit = managing_unit(county, resident)
    flow_date = timeline.day(resident.registered_days_ago[county.code] + 5)
    outside = resident.residence if direction is FlowDirection.outflow else resident.origin
    spouse = resident.spouse
    return PersonCreate(
        name=resident.name,
        resident_id=resident.who.resident_id,
        phone=resident.who.phone,
        org_unit_code=unit,
        flow_direction=direction,
        flow_date=flow_date,
        registration_division_code=resident.origin,
        registration_address=resident.origin_address,
        residence_division_code=resident.residence,
        residence_address=resident.residence_address,
        flow_origin_destination=_place_name(outside),
        landlord_or_employer=resident.employer or None,
        marital_status=MaritalStatus.first_marriage if resident.married else MaritalStatus.unmarried,
        spouse_id=spouse.ids.get(county.code) if spouse is not None else None,
        children=[
            child
            for child in resident.children
            if child.birth_date < timeline.day(resident.registered_days_ago[county.code])
        ],
        contraception_measure=resident.contraception,
        contraception_date=flow_date - timedelta(days=200) if resident.contraception else None,
    )


def _place_name(code: str) -> str:
    names = {FUNAN: "安徽省阜阳市阜南县", XIHU: "浙江省杭州市西湖区"}
    names |= {other: f"{name}" for other, name in (*OTHER_ORIGINS, *ELSEWHERE)}
    return names.get(code[:6], code)


def staff_for(county: DemoCounty, unit: str) -> str:
    """The demo user who works on `unit`: its village coordinator, else its township's officer, else the county's."""
    for username, user in county.users.items():
        if user.org_unit_code == unit and username.startswith("village"):
            return username
    for username, user in county.users.items():
        if user.org_unit_code == unit[:9] and username.startswith("township") and not username.endswith("sup"):
            return username
    return "county"


def register_people(timeline: Timeline, cast: Cast, counties: dict[str, DemoCounty]) -> None:
    """Schedule every registration, with the certificate, inspections and notice answers that follow from it."""
    xihu, funan = counties[XIHU], counties[FUNAN]
    certificate_numbers: dict[str, int] = {}
    notices: list[tuple[int, Resident]] = []

    for resident in sorted(cast.residents.values(), key=lambda r: (r.key.endswith("spouse") is False, r.key)):
        for code, days_ago in resident.registered_days_ago.items():
            county = counties[code]
            # A husband is registered first (minutes before his wife), so her record can name him as spouse.
            minute = 0 if resident.key.endswith("spouse") else 20
            when = timeline.at(days_ago, 9 + len(resident.key) % 7, minute)
            timeline.schedule(when, _register(timeline, county, resident))
            issue = resident.who.sex == "female" and resident.married and resident.origin.startswith(FUNAN)
            if code == FUNAN and issue:
                year = timeline.day(days_ago).year
                certificate_numbers[str(year)] = certificate_numbers.get(str(year), 0) + 1
                resident.certificate = f"阜南婚育{year}-{certificate_numbers[str(year)]:04d}"
                timeline.schedule(timeline.at(days_ago, 15), _issue_certificate(timeline, funan, resident, days_ago))
            if code == XIHU and resident.key.startswith("shared"):
                notices.append((days_ago, resident))
                if issue:
                    timeline.schedule(timeline.at(days_ago, 16), _record_certificate(timeline, counties, resident))
                    inspected = days_ago - 120 - resident.index * 7 % 300
                    if inspected > 3 and resident.index % 2 == 0:
                        timeline.schedule(timeline.at(inspected, 11), _inspect(timeline, xihu, resident, inspected))

    # 阜南 acknowledges the flow notices within a few days, but for the last week's and a few it let slip.
    older = sorted((item for item in notices if 30 <= item[0] <= 300), key=lambda item: item[0])
    slipped = {resident.key for _, resident in older[::20][:NOTICES_LEFT_PENDING]}
    for days_ago, resident in notices:
        if days_ago <= 6 or resident.key in slipped:
            continue
        answered = days_ago - 1 - len(resident.name) % 3
        timeline.schedule(timeline.at(answered, 14), _acknowledge(timeline, funan, resident))


def _register(timeline: Timeline, county: DemoCounty, resident: Resident) -> Callable[[], Any]:
    async def event() -> None:
        body = _registration(county, resident, timeline)
        async with timeline.acting(county, staff_for(county, body.org_unit_code)) as (session, principal):
            registration = await persons.register_person(session, principal, body)
            resident.ids[county.code] = registration.person.id

    return event


def _issue_certificate(timeline: Timeline, funan: DemoCounty, resident: Resident, days_ago: int) -> Callable[[], Any]:
    async def event() -> None:
        assert resident.certificate is not None
        body = CertificateIssue(
            number=resident.certificate, issue_date=timeline.day(days_ago), issuing_unit_code=resident.origin[:9]
        )
        async with timeline.acting(funan, staff_for(funan, managing_unit(funan, resident))) as (session, principal):
            await certificates.issue_certificate(session, principal, resident.ids[FUNAN], body)

    return event


def _record_certificate(timeline: Timeline, counties: dict[str, DemoCounty], resident: Resident) -> Callable[[], Any]:
    """西湖 records the certificate she showed on arrival (issued by her 阜南 township)."""
    xihu = counties[XIHU]

    async def event() -> None:
        assert resident.certificate is not None
        funan_days = resident.registered_days_ago[FUNAN]
        township = counties[FUNAN].units[resident.origin[:9]]
        body = CertificateIssue(
            number=resident.certificate,
            issue_date=timeline.day(funan_days),
            issuing_unit_code=resident.origin[:9],
            issuing_unit_name=f"阜南县{township}人民政府",
        )
        async with timeline.acting(xihu, staff_for(xihu, resident.residence)) as (session, principal):
            view = await certificates.issue_certificate(session, principal, resident.ids[XIHU], body)
            resident.certificate_id = view.certificate.id

    return event


def _inspect(timeline: Timeline, xihu: DemoCounty, resident: Resident, days_ago: int) -> Callable[[], Any]:
    async def event() -> None:
        body = InspectionCreate(
            inspected_on=timeline.day(days_ago), result=InspectionResult.valid, notes=INSPECTION_NOTE
        )
        async with timeline.acting(xihu, staff_for(xihu, resident.residence)) as (session, principal):
            assert resident.certificate_id is not None
            await certificates.inspect_certificate(session, principal, resident.certificate_id, body)

    return event


def _acknowledge(timeline: Timeline, funan: DemoCounty, resident: Resident) -> Callable[[], Any]:
    """阜南's township officer acknowledges 西湖's flow notice about her (接收通报)."""

    async def event() -> None:
        township = resident.origin[:9]
        async with timeline.acting(funan, staff_for(funan, township)) as (session, principal):
            rows, _ = await ReceivedRequests(session).inbox(
                VerificationFilters(roots=[township], text=resident.name), offset=0, limit=20
            )
            for row in rows:
                if row.state.value == "pending" and row.question_type.value == "inflow_registered":
                    await verification.answer(session, row, AnswerBody(answer=NOTICE_ANSWER))

    return event


def depart_some(timeline: Timeline, cast: Cast, xihu: DemoCounty) -> list[Resident]:
    """A few people left 西湖 for home in the last weeks: 西湖 deregistered them (注销), which notifies 阜南."""
    leaving = [r for r in cast.in_county(XIHU) if r.key.startswith("shared") and r.spouse is None][:3]
    for offset, resident in enumerate(leaving):
        days_ago = 12 - 4 * offset
        if resident.registered_days_ago[XIHU] <= days_ago + 3:
            continue

        async def event(resident: Resident = resident, days_ago: int = days_ago) -> None:
            body = PersonDepart(departed_on=timeline.day(days_ago + 1), reason=DEPARTURE_REASON)
            async with timeline.acting(xihu, staff_for(xihu, resident.residence)) as (session, principal):
                person = await persons.person_in_reach(session, principal, resident.ids[XIHU], Action.person_write)
                await persons.depart_person(session, principal, person, body)

        timeline.schedule(timeline.at(days_ago, 15), event)
    return leaving
