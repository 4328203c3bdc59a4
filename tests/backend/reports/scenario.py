"""A county with known events, written straight to the database (their own APIs are tested on their own): the
rows every supervision test counts by hand.

County A (t1: v11, v12; t2: v21) and its counterpart B. In March 2026:

Requests B sent to A (A answers):            Notices B sent to A:
  q1 t1  3 Mar  answered on time               n1 t1  5 Mar  acknowledged
  q2 t1 10 Mar  answered late                  n2 t1  6 Mar  sent back
  q3 t2 12 Mar  sent back with reason, on time
  q4 t2 20 Mar  expired                      Requests A sent to B (materials date):
  q5 t1 25 Mar  withdrawn (left out)           s1 t1  2 Mar  on time
  q6 t1 28 Mar  pending, due 20 Apr (passed)   s2 t1  9 Mar  late
                                               s3 t2 15 Mar  on time
Cases of A (due or closed in March):
  c1 check round v11 due 31 Mar, done 20 Mar   f1 follow-up v11 due 20 Mar, done 18 Mar
  c2 check round v11 due 31 Mar, still open    f2 follow-up v21 due 25 Mar, no action needed 24 Mar
  c3 check round v12 due 31 Mar, withdrawn     f3 follow-up v21 due 26 Mar, still open
  c4 check round v21 due 15 Mar, done 10 Mar   o1 complaint t1 due 10 Mar, closed 12 Mar (late)
  r1..r4 first-child registrations v11 closed in March: registered, refused, deferred, registered

Persons of A on 31 March (age on that day):
  p1 inflow woman 30 v11, arrived 2025-06, certificate inspected 2025-12-01, every main field
  p2 inflow woman 25 v11, arrived 2026-01, last inspection 2025-01-15 (over a year), no phone
  p3 inflow woman 48 v21, arrived 2026-02, no certificate, no ID number
  p4 inflow woman 52 v11 (too old for the inflow and issue rates), every main field
  p5 inflow man 30 v12, no marital status
  p6 inflow woman 30 v11, arrived 5 April (not yet on the register on 31 March)
  p7 outflow woman 35 v12, certificate valid to 2027-05-01, every main field
  p8 outflow woman 22 v12, certificate expired 2026-01-31, every main field
  p9 outflow woman 40 v21, departed (off the register)

Village entries of A submitted for review (三级把关):
  e1 v11 registration of p1, 2 Mar, confirmed      e4 v21 registration of p3, 20 Mar, confirmed
  e2 v11 change of p2, 9 Mar, sent back            e5 v11 change of p4, 1 April (next month)
  e3 v12 change of p5, 28 Mar, still pending       (B: one confirmed entry in March, B's own)

Re-check findings of A (倒查, by the day checked):
  k1 v11 p1 correct, 10 Mar                        k4 v21 p3 correct, 25 Mar
  k2 v11 p2 wrong and corrected, 11 Mar            k5 v12 p7 not checked yet
  k3 v12 p5 could not verify, 12 Mar               k6 v11 p4 correct, 1 April (next month)
  (B: one finding "correct" in March, B's own)

At the FP statistical year's edge: b1 (t1) arrived 30 September 2026 23:30 and b2 (t1) 1 October 2026 00:10,
China time, both answered on time.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from backend.core.clock import CHINA
from backend.core.crypto import personal_data_cipher
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import (
    Case,
    CaseOutcome,
    CasePriority,
    CaseStage,
    CaseStatus,
    Certificate,
    CertificateInspection,
    CertificateStatus,
    Channel,
    EntryKind,
    EntryReview,
    EntryState,
    FlowDirection,
    MaritalStatus,
    Person,
    PersonStatus,
    QuestionType,
    RecheckFinding,
    RecheckItem,
    RecheckList,
    Sex,
    VerificationKind,
    VerificationRequest,
    VerificationState,
)
from backend.persons.names import name_search_keys
from tests.fixtures.identity import County

S = VerificationState


_SERIALS = itertools.count()


def at(day: int, month: int = 3, year: int = 2026, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in China time."""
    return datetime(year, month, day, hour, minute, tzinfo=CHINA)


@dataclass
class Scripted:
    """What was written, by the names of the docstring: ids of rows and references as the drill-down shows them."""

    a: County
    b: County
    requests: dict[str, VerificationRequest] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    entries: dict[str, EntryReview] = field(default_factory=dict)
    findings: dict[str, RecheckItem] = field(default_factory=dict)

    def ids(self, *names: str) -> set[str]:
        found = {**self.requests, **self.cases, **self.persons, **self.entries, **self.findings}
        return {str(found[name].id) for name in names}


async def write(database: Database, county: County, rows: list[Any]) -> None:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        for row in rows:
            session.add(row)
            await session.flush()


def request_row(
    requester: County,
    responder: County,
    *,
    requester_unit: str = "t1",
    responder_unit: str = "t1",
    kind: VerificationKind = VerificationKind.request,
    materials: datetime,
    arrived: datetime,
    sent_on_time: bool = True,
    state: VerificationState = S.pending,
    on_time: bool | None = None,
    answer_due: datetime | None = None,
    subject_name: str = "某某",
) -> VerificationRequest:
    request_id = uuid.uuid4()
    due = answer_due or arrived + timedelta(days=21)
    return VerificationRequest(
        id=request_id,
        tenant_id=requester.tenant.id,
        kind=kind,
        correlation_id=f"XC-K-{request_id.hex[:16]}",
        state=state,
        requester_county_code=requester.code,
        requester_unit_code=requester.units[requester_unit],
        requester_unit_name=f"{requester_unit}计生办",
        responder_tenant_id=responder.tenant.id,
        responder_county_code=responder.code,
        responder_unit_code=responder.units[responder_unit],
        responder_unit_name=f"{responder_unit}计生办",
        subject_name=subject_name,
        question_type=QuestionType.marital_childbearing,
        question="核实婚育情况",
        attachment_document_ids=[],
        channel=Channel.platform,
        materials_received_at=materials,
        send_due_at=materials + timedelta(days=9),
        sent_at=arrived,
        sent_on_time=sent_on_time,
        arrived_at=arrived,
        answer_due_at=due,
        expires_at=due + timedelta(days=14),
        answered_at=arrived + timedelta(days=3) if state in (S.answered, S.rejected) else None,
        answered_on_time=on_time,
        close_reason="材料不全" if state == S.rejected else None,
        created_by="test",
    )


def case_row(
    county: County,
    case_type: str,
    number: str,
    unit: str,
    *,
    due: datetime | None,
    closed: datetime | None = None,
    outcome: CaseOutcome | None = None,
    subject_name: str = "某某",
) -> Case:
    return Case(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        number=f"{county.code}-{number}",
        case_type=case_type,
        title=case_type,
        org_unit_code=county.units[unit],
        stage=CaseStage.closed if closed else CaseStage.service_delivery,
        status=CaseStatus.done if closed else CaseStatus.open,
        priority=CasePriority.normal,
        subject_name=subject_name,
        subject_pinyin="mou",
        received_at=(due or closed or at(1)) - timedelta(days=30),
        due_at=due,
        closed_at=closed,
        outcome=outcome,
        details={},
        created_by="test",
    )


def person_row(
    county: County,
    name: str,
    unit: str,
    *,
    direction: FlowDirection = FlowDirection.inflow,
    sex: Sex = Sex.female,
    age: int = 30,
    flow_date: date = date(2025, 6, 1),
    complete: bool = True,
    status: PersonStatus = PersonStatus.active,
    **missing: bool,
) -> Person:
    """A person aged `age` on 31 March 2026; `complete` fills every main field, `no_phone=True` etc. leave one
    out."""
    keys = name_search_keys(name)
    cipher = personal_data_cipher()
    # Consecutive sequence digits: a county holds several people of one age, and a random three digits collided
    # (one setup error in a clean-clone run).
    resident_id = f"110101{1996 - (age - 30)}0101{next(_SERIALS) % 1000:03d}X"
    with_id = complete and not missing.get("no_id")
    with_phone = complete and not missing.get("no_phone")
    return Person(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        name=name,
        name_pinyin=keys.pinyin,
        name_initials=keys.initials,
        sex=sex,
        ethnicity="汉族",
        birth_date=date(2026 - age, 1, 1),
        resident_id_ciphertext=cipher.encrypt(resident_id, context="person.resident_id") if with_id else None,
        resident_id_hash=cipher.lookup_hash(resident_id, context="person.resident_id") if with_id else None,
        phone_ciphertext=cipher.encrypt("13800000000", context="person.phone") if with_phone else None,
        phone_hash=cipher.lookup_hash(f"1380000{uuid.uuid4().int % 10000:04d}", context="person.phone")
        if with_phone
        else None,
        org_unit_code=county.units[unit],
        flow_direction=direction,
        flow_date=flow_date,
        registration_division_code="110101",
        marital_status=None if missing.get("no_marital_status") else MaritalStatus.first_marriage,
        key_subject=False,
        status=status,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def certificate_row(
    county: County, person: Person, number: str, issued: date, valid_until: date, status: CertificateStatus
) -> Certificate:
    return Certificate(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        person_id=person.id,
        number=f"{county.code}-{number}",
        issue_date=issued,
        issuing_unit_code=county.units["t1"],
        issuing_unit_name="一镇计生办",
        permanent=False,
        valid_until=valid_until,
        status=status,
        issued_by_proxy=False,
        org_unit_code=person.org_unit_code,
    )


def inspection_row(county: County, certificate: Certificate, day: date) -> CertificateInspection:
    return CertificateInspection(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        certificate_id=certificate.id,
        inspected_on=day,
        inspector_name="查验员",
        org_unit_code=certificate.org_unit_code,
        result="valid",
    )


def entry_row(county: County, person: Person, kind: EntryKind, state: EntryState, submitted: datetime) -> EntryReview:
    decided = state is not EntryState.pending
    return EntryReview(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        person_id=person.id,
        org_unit_code=person.org_unit_code,
        kind=kind,
        state=state,
        changes={},
        entered_by="coordinator",
        entered_by_label="村协管员",
        decided_by="officer" if decided else None,
        decided_by_label="乡镇专干" if decided else None,
        decided_at=submitted + timedelta(days=1) if decided else None,
        reason="户籍地有误" if state is EntryState.rejected else None,
        created_at=submitted,
    )


def recheck_list(county: County, unit: str, month: date) -> RecheckList:
    return RecheckList(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        org_unit_code=county.units[unit],
        month=month,
        seed="scenario",
        population=[],
        sample_size=1,
        drawn_by="officer",
        drawn_by_label="乡镇专干",
    )


def finding_row(
    county: County, listed: RecheckList, person: Person, finding: RecheckFinding | None, checked: datetime | None
) -> RecheckItem:
    return RecheckItem(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        list_id=listed.id,
        person_id=person.id,
        org_unit_code=listed.org_unit_code,
        finding=finding,
        corrected_fields=["phone"] if finding is RecheckFinding.corrected else [],
        checked_by="officer" if checked else None,
        checked_by_label="乡镇专干" if checked else None,
        checked_at=checked,
    )


async def build_data_review(database: Database, world: Scripted) -> None:
    """The entries and re-check findings of the docstring, and one of each in B."""
    a, b, p = world.a, world.b, world.persons
    registration, change = EntryKind.registration, EntryKind.change
    confirmed, rejected, pending = EntryState.confirmed, EntryState.rejected, EntryState.pending
    e = world.entries
    e["e1"] = entry_row(a, p["p1"], registration, confirmed, at(2))
    e["e2"] = entry_row(a, p["p2"], change, rejected, at(9))
    e["e3"] = entry_row(a, p["p5"], change, pending, at(28))
    e["e4"] = entry_row(a, p["p3"], registration, confirmed, at(20))
    e["e5"] = entry_row(a, p["p4"], change, confirmed, at(1, 4))
    await write(database, a, list(e.values()))
    lists = {unit: recheck_list(a, unit, date(2026, 3, 1)) for unit in ("v11", "v12", "v21")}
    april = recheck_list(a, "v11", date(2026, 4, 1))
    await write(database, a, [*lists.values(), april])
    correct, corrected = RecheckFinding.correct, RecheckFinding.corrected
    k = world.findings
    k["k1"] = finding_row(a, lists["v11"], p["p1"], correct, at(10))
    k["k2"] = finding_row(a, lists["v11"], p["p2"], corrected, at(11))
    k["k3"] = finding_row(a, lists["v12"], p["p5"], RecheckFinding.unverifiable, at(12))
    k["k4"] = finding_row(a, lists["v21"], p["p3"], correct, at(25))
    k["k5"] = finding_row(a, lists["v12"], p["p7"], None, None)
    k["k6"] = finding_row(a, april, p["p4"], correct, at(1, 4))
    await write(database, a, list(k.values()))
    theirs = person_row(b, "乙一", "v11")
    their_list = recheck_list(b, "v11", date(2026, 3, 1))
    await write(database, b, [theirs, their_list])
    e["b_entry"] = entry_row(b, theirs, registration, confirmed, at(3))
    k["b_finding"] = finding_row(b, their_list, theirs, correct, at(10))
    await write(database, b, [e["b_entry"], k["b_finding"]])


async def build(database: Database, a: County, b: County) -> Scripted:
    world = Scripted(a, b)
    r = world.requests
    r["q1"] = request_row(b, a, materials=at(2), arrived=at(3), state=S.answered, on_time=True)
    r["q2"] = request_row(b, a, materials=at(9), arrived=at(10), state=S.answered, on_time=False)
    r["q3"] = request_row(b, a, responder_unit="t2", materials=at(11), arrived=at(12), state=S.rejected, on_time=True)
    r["q4"] = request_row(b, a, responder_unit="t2", materials=at(19), arrived=at(20), state=S.expired, on_time=False)
    r["q5"] = request_row(b, a, materials=at(24), arrived=at(25), state=S.withdrawn)
    r["q6"] = request_row(b, a, materials=at(27), arrived=at(28), answer_due=at(20, 4))
    notice = VerificationKind.notice
    r["n1"] = request_row(b, a, kind=notice, materials=at(5), arrived=at(5), state=S.answered, on_time=True)
    r["n2"] = request_row(b, a, kind=notice, materials=at(6), arrived=at(6), state=S.rejected, on_time=True)
    r["s1"] = request_row(a, b, materials=at(2), arrived=at(3), state=S.answered, on_time=True)
    r["s2"] = request_row(a, b, materials=at(9), arrived=at(20), sent_on_time=False, state=S.answered, on_time=True)
    r["s3"] = request_row(a, b, requester_unit="t2", materials=at(15), arrived=at(16), state=S.pending)
    r["b1"] = request_row(
        b, a, materials=at(29, 9), arrived=at(30, 9, hour=23, minute=30), state=S.answered, on_time=True
    )
    r["b2"] = request_row(
        b, a, materials=at(30, 9), arrived=at(1, 10, hour=0, minute=10), state=S.answered, on_time=True
    )
    for name in ("q1", "q2", "q3", "q4", "q5", "q6", "n1", "n2", "b1", "b2"):
        await write(database, b, [r[name]])
    for name in ("s1", "s2", "s3"):
        await write(database, a, [r[name]])

    c, done, check, visit = world.cases, CaseOutcome.completed, "pregnancy_check_round", "follow_up_visit"
    c["c1"] = case_row(a, check, "C1", "v11", due=at(31, hour=23, minute=59), closed=at(20), outcome=done)
    c["c2"] = case_row(a, check, "C2", "v11", due=at(31, hour=23, minute=59))
    c["c3"] = case_row(a, check, "C3", "v12", due=at(31), closed=at(10), outcome=CaseOutcome.withdrawn)
    c["c4"] = case_row(a, check, "C4", "v21", due=at(15), closed=at(10), outcome=done)
    c["f1"] = case_row(a, visit, "F1", "v11", due=at(20), closed=at(18), outcome=done)
    c["f2"] = case_row(a, visit, "F2", "v21", due=at(25), closed=at(24), outcome=CaseOutcome.no_action)
    c["f3"] = case_row(a, visit, "F3", "v21", due=at(26))
    c["o1"] = case_row(a, "complaint", "O1", "t1", due=at(10), closed=at(12), outcome=done)
    first_child = "first_child_registration"
    for name, day, outcome in (
        ("r1", 4, CaseOutcome.registered),
        ("r2", 11, CaseOutcome.refused),
        ("r3", 18, CaseOutcome.deferred),
        ("r4", 25, CaseOutcome.registered),
    ):
        c[name] = case_row(a, first_child, name.upper(), "v11", due=None, closed=at(day), outcome=outcome)
    await write(database, a, list(c.values()))

    p = world.persons
    p["p1"] = person_row(a, "甲一", "v11")
    p["p2"] = person_row(a, "甲二", "v11", age=25, flow_date=date(2026, 1, 10), no_phone=True)
    p["p3"] = person_row(a, "甲三", "v21", age=48, flow_date=date(2026, 2, 1), no_id=True)
    p["p4"] = person_row(a, "甲四", "v11", age=52)
    p["p5"] = person_row(a, "甲五", "v12", sex=Sex.male, no_marital_status=True)
    p["p6"] = person_row(a, "甲六", "v11", flow_date=date(2026, 4, 5))
    outflow = FlowDirection.outflow
    p["p7"] = person_row(a, "甲七", "v12", direction=outflow, age=35)
    p["p8"] = person_row(a, "甲八", "v12", direction=outflow, age=22)
    p["p9"] = person_row(a, "甲九", "v21", direction=outflow, age=40, status=PersonStatus.departed)
    await write(database, a, list(p.values()))
    valid, expired = CertificateStatus.valid, CertificateStatus.expired
    certificates = {
        "p1": certificate_row(a, p["p1"], "Z1", date(2024, 6, 1), date(2027, 6, 1), valid),
        "p2": certificate_row(a, p["p2"], "Z2", date(2024, 1, 1), date(2027, 1, 1), valid),
        "p7": certificate_row(a, p["p7"], "Z7", date(2024, 5, 1), date(2027, 5, 1), valid),
        "p8": certificate_row(a, p["p8"], "Z8", date(2023, 1, 31), date(2026, 1, 31), expired),
    }
    await write(database, a, list(certificates.values()))
    await write(
        database,
        a,
        [
            inspection_row(a, certificates["p1"], date(2025, 12, 1)),
            inspection_row(a, certificates["p2"], date(2025, 1, 15)),
        ],
    )
    await build_data_review(database, world)
    return world
