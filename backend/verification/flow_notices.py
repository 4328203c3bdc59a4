"""Outflow/inflow notices (流入/流出通报) between counties, on the shared verification record.

When county A registers an inflow person whose household registration lies in county B (another tenant of this
instance), A's request writes, in the same transaction, a notice (kind `notice`, question type
`inflow_registered`) addressed to B's registration township, carrying only the minimum subject data: name, ID
number, residence county and township, arrival date. When A marks the person as departed (moved on or returned
home), a second notice (`inflow_left`) follows. Both are audited on A's chain under the notice's correlation id.
When B is not on the platform nothing is sent (the officer may send a letter): A's audit records that.

B's officer files the notice from its inbox: `link` updates B's outflow register entry for the same ID number
(matched by the ID hash, like intake), `create` registers the outflow entry when there is none. The filing
acknowledges the notice and is audited on B's chain under the same correlation id; A never sees B's person and
B never sees A's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.calendar.service import load_calendar
from backend.core import outbox
from backend.core.clock import china_day, utc_now
from backend.core.crypto import personal_data_cipher
from backend.core.divisions import county_of
from backend.core.errors import DomainError
from backend.db.engine import Database
from backend.db.tenancy import current_tenant_id
from backend.models import (
    Channel,
    FlowDirection,
    Person,
    PersonStatus,
    QuestionType,
    VerificationKind,
    VerificationRequest,
    VerificationState,
)
from backend.org.repository import OrgUnitRepository
from backend.persons import service as persons
from backend.persons.repository import PersonRepository
from backend.persons.resident_id import normalise_resident_id
from backend.persons.schemas import PersonCreate
from backend.tenants.directory import route_division
from backend.verification import deadlines
from backend.verification.errors import InvalidVerification
from backend.verification.service import (
    RESIDENT_ID_CONTEXT,
    _close,
    _record,
    _require_pending,
    _settle,
    snapshot,
    subject_resident_id,
)

FLOW_QUESTIONS = (QuestionType.inflow_registered, QuestionType.inflow_left)
FlowEvent = Literal["inflow_registered", "inflow_left"]
HEADER = "X-Flow-Notice"


@dataclass
class FlowNotice:
    """What happened to the notice: `sent` (a row in B's inbox) or `off_platform` (nothing sent, recorded)."""

    outcome: Literal["sent", "off_platform"]
    correlation_id: str
    county_code: str

    def header(self) -> str:
        return f"{self.outcome}; {self.correlation_id}; {self.county_code}"


def _correlation_id(county_code: str) -> str:
    return f"TB-{county_code}-{china_day(utc_now()).strftime('%Y%m%d')}-{uuid.uuid4().hex[:8].upper()}"


async def notify_registration_place(
    session: AsyncSession,
    database: Database | None,
    person: Person,
    event: FlowEvent,
    on: date | None,
    created_by: str,
) -> FlowNotice | None:
    """Notify the person's registration county of an inflow registration or departure in this county; None when
    there is nobody to notify (not an inflow person, no registration township, or it is this county).

    `database` (to look up the other county outside this county's transaction) defaults to the session's
    engine, for callers that hold only a session."""
    if database is None:
        engine = session.bind
        database = Database(engine=engine, sessionmaker=async_sessionmaker(engine, expire_on_commit=False))  # type: ignore[arg-type]
    code = person.registration_division_code
    if person.flow_direction != FlowDirection.inflow or not code or len(code) < 9:
        return None
    route = await route_division(database, code)
    tenant_id = current_tenant_id(session)
    if route.tenant_id == tenant_id or (route.on_platform and route.township_unit_id is None):
        return None
    county_code = county_of(person.org_unit_code)
    unit_code = person.org_unit_code[:9]
    unit = await OrgUnitRepository(session).get_by_code(unit_code)
    unit_name = unit.name if unit else unit_code
    arrival = on or person.flow_date or china_day(utc_now())
    correlation_id = _correlation_id(county_code)
    question_type = QuestionType(event)
    if not route.on_platform:
        # Nothing travels automatically: the officer may send a letter. A's chain records that it was not sent.
        await audit.record(
            session,
            action="verification.notice_not_sent",
            entity_type="person",
            entity_id=person.id,
            org_unit_code=person.org_unit_code,
            changes={
                "question_type": [None, question_type.value],
                "responder_county_code": [None, route.county_code],
                "responder_unit_code": [None, code[:9]],
                "on_platform": [None, False],
            },
            reason="户籍地不在本平台，未自动通报，可函告 / the registration county is not on the platform: not sent",
            correlation_id=correlation_id,
        )
        return FlowNotice("off_platform", correlation_id, route.county_code)
    resident_id = (
        personal_data_cipher().decrypt(person.resident_id_ciphertext, context="person.resident_id")
        if person.resident_id_ciphertext
        else None
    )
    verb = "流入登记 / registered as inflow" if event == "inflow_registered" else "离开（注销流入） / left"
    date_label = "流入日期 / arrived" if event == "inflow_registered" else "离开日期 / left on"
    question = (
        f"{verb}: {person.name}; 现居住地 / residence: {county_code} {unit_name} ({unit_code}); "
        f"{date_label}: {arrival.isoformat()}"
    )
    now = utc_now()
    calendar = await load_calendar(session)
    answer_due_at, provisional = deadlines.due_after(calendar, now, deadlines.ANSWER_WORKING_DAYS)
    cipher = personal_data_cipher()
    row = VerificationRequest(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        kind=VerificationKind.notice,
        correlation_id=correlation_id,
        state=VerificationState.pending,
        case_id=None,
        requester_county_code=county_code,
        requester_unit_code=unit_code,
        requester_unit_name=unit_name,
        responder_tenant_id=route.tenant_id,
        responder_county_code=route.county_code,
        responder_unit_code=route.township_code or code[:9],
        responder_unit_name=route.township_name,
        subject_name=person.name,
        subject_resident_id_ciphertext=cipher.encrypt(resident_id, context=RESIDENT_ID_CONTEXT)
        if resident_id
        else None,
        subject_resident_id_hash=cipher.lookup_hash(resident_id, context=RESIDENT_ID_CONTEXT) if resident_id else None,
        question_type=question_type,
        question=question,
        attachment_document_ids=[],
        channel=Channel.platform,
        materials_received_at=now,
        send_due_at=now,
        sent_at=now,
        sent_on_time=True,
        arrived_at=now,
        answer_due_at=answer_due_at,
        answer_due_provisional=provisional,
        expires_at=deadlines.expiry(calendar, answer_due_at),
        created_by=created_by,
    )
    session.add(row)
    await session.flush()
    await _record(
        session,
        row,
        "verification.notice",
        None,
        unit_code,
        extra={
            "person_id": person.id,
            "question_type": question_type.value,
            "responder_county_code": row.responder_county_code,
            "responder_unit_code": row.responder_unit_code,
            "arrival_date": arrival.isoformat(),
        },
    )
    await outbox.enqueue(
        session,
        outbox.StartVerification(tenant_id=row.tenant_id, request_id=row.id, correlation_id=row.correlation_id),
    )
    return FlowNotice("sent", correlation_id, route.county_code)


async def was_departed(session: AsyncSession, resident_id: str | None) -> bool:
    """Whether the county holds a departed record with this ID number: registering it again is a return."""
    if not resident_id:
        return False
    try:
        number = normalise_resident_id(resident_id)
    except DomainError:
        return False
    existing = await PersonRepository(session).by_resident_id_hash(persons.resident_id_digest(number))
    return existing is not None and existing.status == PersonStatus.departed


# --- B files the notice -----------------------------------------------------------------------------------------


def _register_text(row: VerificationRequest) -> str:
    where = f"{row.requester_county_code} {row.requester_unit_name}"
    text = f"流入{where}" if row.question_type == QuestionType.inflow_registered else f"已离开{where}"
    return text[:200]


async def file_notice(
    session: AsyncSession,
    principal: Principal,
    row: VerificationRequest,
    action: Literal["link", "create"],
    org_unit_code: str | None,
    note: str | None,
) -> tuple[VerificationRequest, Person, Literal["linked", "created"]]:
    """Link the notice to the outflow entry of the same ID number, or create that entry; acknowledge it."""
    _require_pending(row)
    if row.question_type not in FLOW_QUESTIONS:
        raise InvalidVerification("action", "仅流入/离开通报可关联流出登记 / only inflow notices are filed this way")
    number = subject_resident_id(row)
    if number is None:
        raise InvalidVerification(
            "action", "通报无身份证号，无法关联，请直接接收 / the notice has no ID number: acknowledge it instead"
        )
    repository = PersonRepository(session)
    existing = await repository.by_resident_id_hash(persons.resident_id_digest(number))
    status_text = _register_text(row)
    notes = f"{status_text}（通报 {row.correlation_id}）" + (f"：{note}" if note else "")
    if action == "link":
        if existing is None:
            raise InvalidVerification(
                "action", "本县无该身份证号的流出登记，请新建 / no outflow entry with this ID number: create one"
            )
        if existing.flow_direction != FlowDirection.outflow:
            raise InvalidVerification(
                "action",
                "该身份证号的人员不是流出人员，请核实后接收 / the record with this ID number is not an outflow entry: "
                "check it and acknowledge the notice",
            )
        if not principal.can(Action.person_write, existing.org_unit_code):
            raise InvalidVerification("action", "该流出登记不在您的管理范围 / the outflow entry is outside your reach")
        clean: dict[str, object] = {
            "flow_origin_destination": status_text,
            "notes": ((existing.notes + "\n") if existing.notes else "") + notes,
        }
        if existing.notes and len(str(clean["notes"])) > 2000:
            clean["notes"] = str(clean["notes"])[-2000:]
        await persons.update_from_clean(
            session,
            existing,
            clean,
            reason="流入地通报 / notice from the residence county",
            correlation_id=row.correlation_id,
        )
        person = existing
        filing: Literal["linked", "created"] = "linked"
    else:
        if existing is not None:
            raise InvalidVerification(
                "action", "本县已有该身份证号的人员记录，请关联 / a record with this ID number exists: link it"
            )
        body = PersonCreate(
            name=row.subject_name,
            resident_id=number,
            org_unit_code=org_unit_code or row.responder_unit_code,
            flow_direction=FlowDirection.outflow,
            flow_origin_destination=status_text,
            notes=notes,
        )
        person, _ = await persons.register_person(session, principal, body)
        filing = "created"
    before = snapshot(row)
    now = utc_now()
    _close(row, VerificationState.answered, now)
    label = (
        "已关联流出登记 / linked to the outflow entry"
        if filing == "linked"
        else "已新建流出登记 / outflow entry created"
    )
    row.answered_at, row.answer, row.answer_channel = now, label, Channel.platform
    row.answered_on_time = now <= row.answer_due_at
    await session.flush()
    await _record(
        session,
        row,
        "verification.file",
        before,
        row.responder_unit_code,
        extra={"filing": filing, "person_id": person.id},
    )
    await _settle(session, row)
    return row, person, filing
