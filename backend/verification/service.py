"""Cross-county verification (协查) and notices (通报): sending, answering, rejecting, withdrawing, recording an
off-platform answer, recording an incoming request from an off-platform county (来函协查), assignment, and the
requester's and responder's views.

Two counties share one row (see backend/models/verification.py). Each side acts in its own transaction, scoped
to its own county, and writes its own audit events (its own chain) carrying the request's correlation id. The
responder never sees the requester's case: it is not in the responder's view and answers 404 if asked for.
Side effects (starting the deadline workflow, telling it the request is settled) go through the outbox. What every
change to a row does (its audit event, closing it, its workflow) is backend/verification/records.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.service import authorize_unit
from backend.authz.vocabulary import Action
from backend.calendar.service import load_calendar
from backend.cases.repository import CaseRepository
from backend.cases.service import get_case
from backend.core.clock import utc_now
from backend.core.divisions import county_of, township_of
from backend.db.engine import Database
from backend.documents import service as documents
from backend.documents.repository import DocumentRepository
from backend.identity.repository import IdentityRepository
from backend.identity.service import principal_for_user
from backend.models import (
    Case,
    CaseStage,
    Channel,
    DocumentKind,
    DocumentOwnerKind,
    VerificationKind,
    VerificationRequest,
    VerificationState,
)
from backend.org.repository import OrgUnitRepository
from backend.persons.identifiers import resident_id_of
from backend.persons.repository import PersonRepository
from backend.persons.resident_id import normalise_resident_id
from backend.tenants.directory import route_division
from backend.verification import deadlines, records
from backend.verification.errors import InvalidVerification, OpenRequestExists, VerificationNotFound
from backend.verification.repository import ReceivedRequests, SentRequests, VerificationRepository
from backend.verification.schemas import (
    AnswerBody,
    Dispatch,
    IncomingCreate,
    RecordedAnswer,
    Reply,
    VerificationCreate,
)

EVIDENCE_LABELS = {
    Channel.registered_mail: "签收日期",
    Channel.letter: "收文登记日期",
    Channel.fax: "传真打印时间",
    Channel.phone: "通话记录时间",
}
# Channels whose original record is a paper (a letter, a fax): its scan is the evidence the norm asks for
# (「提供具有证据效力的原始记录」, seeds-spec P06). A call's original record is the call log: its reference will do.
SCAN_REQUIRED = frozenset({Channel.registered_mail, Channel.letter, Channel.fax})


def _aware_past(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidVerification(field, "需要带时区的时间 / a time with a time zone is required")
    if moment > utc_now() + timedelta(minutes=5):
        raise InvalidVerification(field, "时间不能在将来 / the time cannot be in the future")
    return moment.astimezone(UTC)


def _dispatch_times(dispatch: Dispatch, now: datetime) -> tuple[datetime, datetime]:
    """(sent, arrived). On the platform both are now. By mail, fax or phone the arrival is the moment the
    evidence shows (the norm's rule for each channel), entered by the officer with the evidence itself."""
    if dispatch.channel == Channel.platform:
        if dispatch.arrived_at is not None or dispatch.sent_at is not None:
            raise InvalidVerification("dispatch.arrived_at", "平台协查即时送达 / on the platform a request arrives now")
        return now, now
    label = EVIDENCE_LABELS[dispatch.channel]
    if dispatch.arrived_at is None:
        raise InvalidVerification("dispatch.arrived_at", f"须填写{label} / the time shown by the evidence is required")
    if not dispatch.evidence and dispatch.evidence_document_id is None:
        raise InvalidVerification("dispatch.evidence", "须登记凭证 / the evidence is required")
    arrived = _aware_past(dispatch.arrived_at, "dispatch.arrived_at")
    sent = _aware_past(dispatch.sent_at, "dispatch.sent_at") if dispatch.sent_at else arrived
    if sent > arrived:
        raise InvalidVerification("dispatch.sent_at", "发出时间晚于送达时间 / sent after it arrived")
    return sent, arrived


async def _subject(
    session: AsyncSession, case_id: uuid.UUID, body: VerificationCreate
) -> tuple[str, str | None, str | None]:
    """(name, resident ID, division code of the place asked for) of the subject: a person of the case, or as
    given."""
    if body.person_id is None:
        if not body.subject_name:
            raise InvalidVerification("subject_name", "须填写协查对象姓名 / the subject's name is required")
        resident_id = normalise_resident_id(body.subject_resident_id) if body.subject_resident_id else None
        return body.subject_name, resident_id, None
    subjects = await CaseRepository(session).subjects(case_id)
    if body.person_id not in {subject.person_id for subject in subjects}:
        raise InvalidVerification("person_id", "该人员不是本案件的当事人 / the person is not a subject of the case")
    person = await PersonRepository(session).get(body.person_id)
    if person is None:
        raise InvalidVerification("person_id", "人员不存在 / no such person")
    place = person.residence_division_code if body.place == "residence" else person.registration_division_code
    return person.name, resident_id_of(person), place


async def _send_due(session: AsyncSession, case: Case, kind: VerificationKind, now: datetime) -> datetime:
    """A request: 7 working days after the materials arrived (the case's `received_at`). A notice: the case's
    own deadline when it is in the stage that notifies (follow_up: "notify within 15 working days of the
    registration / approval"), else 15 working days from now."""
    calendar = await load_calendar(session)
    if kind == VerificationKind.request:
        return deadlines.due_after(calendar, case.received_at, deadlines.SEND_WORKING_DAYS)[0]
    if case.stage == CaseStage.follow_up and case.due_at is not None:
        return case.due_at
    return deadlines.due_after(calendar, now, deadlines.NOTICE_WORKING_DAYS)[0]


async def send(
    session: AsyncSession,
    database: Database,
    principal: Principal,
    body: VerificationCreate,
    kind: VerificationKind,
) -> VerificationRequest:
    """Send a request (协查) or notice (通报) about a subject of one of the caller's cases to the township of the
    subject's household registration, on this instance or (by letter, fax or phone) off it."""
    case = await get_case(session, principal, body.case_id, Action.case_write)
    await authorize_unit(
        session,
        principal,
        Action.verification_request,
        case.org_unit_code,
        entity_type="case",
        entity_id=str(case.id),
        not_found=VerificationNotFound(),
    )
    name, resident_id, place_code = await _subject(session, case.id, body)
    division_code = body.responder_division_code or place_code
    if not division_code or len(division_code) < 9:
        raise InvalidVerification(
            "responder_division_code", "须填写户籍地乡镇（街道）代码 / the registration township's code is required"
        )
    route = await route_division(database, division_code)
    if route.on_platform and route.township_unit_id is None:
        raise InvalidVerification(
            "responder_division_code", "户籍地乡镇（街道）不存在 / no such township in the registration county"
        )
    now = utc_now()
    sent_at, arrived_at = _dispatch_times(body.dispatch, now)
    send_due_at = await _send_due(session, case, kind, now)
    # The answer is the responder's work: its 15 working days run on the responder county's calendar.
    calendar = await deadlines.responder_calendar(session, route.tenant_id)
    county_code = principal.tenant_code or county_of(case.org_unit_code)
    repository = VerificationRepository(session)
    responder = records.addressed_to(route, division_code)
    existing = await repository.open_for(case.id, responder["responder_unit_code"], kind)
    if existing is not None:
        raise OpenRequestExists(existing.correlation_id)
    requester = await records.requested_by(session, county_code, case.org_unit_code)
    row = records.new_request(
        calendar,
        resident_id=resident_id,
        arrived_at=arrived_at,
        tenant_id=repository.tenant_id,
        kind=kind,
        correlation_id=records.correlation_id("XC" if kind == VerificationKind.request else "TB", county_code, now),
        case_id=case.id,
        **requester,
        **responder,
        subject_name=name,
        question_type=body.question_type,
        question=body.question,
        attachment_document_ids=list(body.attachment_document_ids),
        channel=body.dispatch.channel,
        evidence=body.dispatch.evidence,
        evidence_document_id=body.dispatch.evidence_document_id,
        materials_received_at=case.received_at,
        send_due_at=send_due_at,
        sent_at=sent_at,
        sent_on_time=sent_at <= send_due_at,
        created_by=principal.subject,
    )
    try:
        async with session.begin_nested():
            repository.add(row)
            await session.flush()
    except IntegrityError:
        # Another officer sent the same request a moment ago: the partial unique index refused this one.
        raise OpenRequestExists(None) from None
    await records.opened(
        session,
        row,
        f"verification.{'request' if kind == VerificationKind.request else 'notice'}",
        row.requester_unit_code,
        {
            "case_id": case.id,
            "case_number": case.number,
            "responder_county_code": row.responder_county_code,
            "responder_unit_code": row.responder_unit_code,
            **records.arrival(row),
            "sent_on_time": row.sent_on_time,
        },
    )
    return row


# --- the two views --------------------------------------------------------------------------------------------


async def get_as_requester(session: AsyncSession, principal: Principal, request_id: uuid.UUID) -> VerificationRequest:
    """A request the caller's county sent, from a unit the caller may send for; 404 otherwise."""
    return await SentRequests(session).get_in_reach(principal, Action.verification_request, request_id)


async def get_as_responder(session: AsyncSession, principal: Principal, request_id: uuid.UUID) -> VerificationRequest:
    """A request addressed to a unit the caller may answer for; 404 otherwise."""
    return await ReceivedRequests(session).get_in_reach(principal, Action.verification_answer, request_id)


# --- the responder ---------------------------------------------------------------------------------------------


async def _evidence_scan(session: AsyncSession, document_id: uuid.UUID, owner_id: uuid.UUID, field: str) -> None:
    """The scan must be one of this county's documents, uploaded for this verification request."""
    document = await DocumentRepository(session).get(document_id)
    owned = document is not None and document.owner_kind == DocumentOwnerKind.verification_request
    if not owned or document is None or document.owner_id != owner_id:
        raise InvalidVerification(field, "凭证扫描件不存在或不属于本协查 / no such scan for this request")


async def _replied(session: AsyncSession, row: VerificationRequest, reply: Reply | None) -> datetime:
    """When the reply left and by which channel: now on the platform; for a request from an off-platform county,
    the moment the reply's evidence shows (posting date, fax report, call), recorded with that evidence."""
    now = utc_now()
    if not row.requester_off_platform:
        if reply is not None:
            raise InvalidVerification("reply", "平台协查在平台上反馈 / a platform request is answered on the platform")
        row.answer_channel = Channel.platform
        return now
    if reply is None:
        raise InvalidVerification(
            "reply", "来函协查须登记回复方式、时间和凭证 / say how, when and with what evidence the reply was sent"
        )
    channel = Channel(reply.channel)
    if reply.evidence_document_id is not None:
        await _evidence_scan(session, reply.evidence_document_id, row.id, "reply.evidence_document_id")
    elif not reply.evidence:
        # Our own reply's evidence may be its reference (registered-mail number, fax report, call-log page).
        raise InvalidVerification("reply.evidence", "须登记回复凭证 / the reply's evidence is required")
    sent = _aware_past(reply.sent_at, "reply.sent_at")
    if sent < row.arrived_at:
        raise InvalidVerification("reply.sent_at", "回复早于来函送达 / the reply cannot precede the request")
    row.answer_channel = channel
    row.answer_evidence, row.answer_evidence_document_id = reply.evidence, reply.evidence_document_id
    return sent


async def answer(session: AsyncSession, row: VerificationRequest, body: AnswerBody) -> VerificationRequest:
    """Answer a request (反馈) or acknowledge a notice (接收), in the responder's own log. The answer to an
    off-platform county records how it went back; it is on time if it was sent by the due moment."""
    records.require_pending(row)
    before = records.snapshot(row)
    replied = await _replied(session, row, body.reply)
    records.close(row, VerificationState.answered, utc_now())
    row.answered_at, row.answer = replied, body.answer
    row.answered_on_time = replied <= row.answer_due_at
    await session.flush()
    await records.record(session, row, "verification.answer", before, row.responder_unit_code)
    await records.replied(session, row)
    return row


async def reject(
    session: AsyncSession, row: VerificationRequest, reason: str, reply: Reply | None = None
) -> VerificationRequest:
    """Send the request back with a stated reason (wrong township, no such person ...): a reply, not a silence."""
    records.require_pending(row)
    before = records.snapshot(row)
    replied = await _replied(session, row, reply)
    records.close(row, VerificationState.rejected, utc_now())
    row.answered_at, row.close_reason = replied, reason
    row.answered_on_time = replied <= row.answer_due_at
    await session.flush()
    await records.record(session, row, "verification.reject", before, row.responder_unit_code, reason=reason)
    await records.replied(session, row)
    return row


async def record_incoming(
    session: AsyncSession,
    database: Database,
    principal: Principal,
    body: IncomingCreate,
    scan: documents.NewFile | None = None,
) -> VerificationRequest:
    """Record a request that reached one of our townships by letter, registered mail, fax or phone from a
    county that is not on the platform (来函协查). From then on it is an incoming request like the others: in
    the township's inbox, 15 working days from the arrival on our calendar, the same deadline workflow
    (reminders, escalation on our side, expiry), the same rates. Audited as `verification.incoming_recorded`.

    `scan`: the letter's or fax's scan, uploaded with the record (the pages' form) as its evidence."""
    request_id = body.id or uuid.uuid4()
    if scan is not None:
        document = await documents.upload_document(
            session,
            principal,
            owner_kind=DocumentOwnerKind.verification_request,
            owner_id=request_id,
            kind=DocumentKind.contact_evidence,
            file=scan,
            org_unit_code=body.responder_unit_code,
        )
        body = body.model_copy(update={"evidence_document_id": document.id})
    await authorize_unit(
        session,
        principal,
        Action.verification_answer,
        body.responder_unit_code,
        entity_type="org_unit",
        entity_id=body.responder_unit_code,
        not_found=VerificationNotFound(),
    )
    township = await OrgUnitRepository(session).get_by_code(body.responder_unit_code)
    if township is None or not township.active:
        raise InvalidVerification("responder_unit_code", "收件乡镇（街道）不存在 / no such township")
    county_code = principal.tenant_code or county_of(body.responder_unit_code)
    requester_code = body.requester_division_code
    if requester_code is not None:
        route = await route_division(database, requester_code)
        if route.on_platform:
            raise InvalidVerification(
                "requester_division_code",
                "来函单位所在县已在平台上，应由其在平台发出协查 / "
                "that county is on the platform and sends its requests there",
            )
    channel = Channel(body.channel)
    if body.evidence_document_id is not None:
        await _evidence_scan(session, body.evidence_document_id, request_id, "evidence_document_id")
    elif channel in SCAN_REQUIRED:
        raise InvalidVerification(
            "evidence_document_id", "信函、传真须上传扫描件作为凭证 / a letter or fax needs its scan as evidence"
        )
    elif not body.evidence:
        raise InvalidVerification("evidence", "须登记通话记录 / the call record is required")
    arrived = _aware_past(body.arrived_at, "arrived_at")
    sent = _aware_past(body.sent_at, "sent_at") if body.sent_at else arrived
    if sent > arrived:
        raise InvalidVerification("sent_at", "发出时间晚于送达时间 / sent after it arrived")
    repository = VerificationRepository(session)
    tenant_id = repository.tenant_id
    row = records.new_request(
        await load_calendar(session),  # ours: we are the responder
        resident_id=normalise_resident_id(body.subject_resident_id) if body.subject_resident_id else None,
        arrived_at=arrived,
        id=request_id,
        tenant_id=tenant_id,
        kind=VerificationKind.request,
        correlation_id=records.correlation_id("LH", county_code, utc_now()),
        case_id=None,
        requester_county_code=county_of(requester_code) if requester_code else None,
        requester_unit_code=township_of(requester_code) if requester_code else None,
        requester_unit_name=body.requester_unit_name,
        requester_off_platform=True,
        requester_reference=body.requester_reference,
        responder_tenant_id=tenant_id,
        responder_county_code=county_code,
        responder_unit_code=body.responder_unit_code,
        responder_unit_name=township.name,
        subject_name=body.subject_name,
        question_type=body.question_type,
        question=body.question,
        attachment_document_ids=[],
        channel=channel,
        evidence=body.evidence,
        evidence_document_id=body.evidence_document_id,
        # The requester's own clock is not ours to keep: its fields say only when the request left.
        **records.left_on_time(sent),
        created_by=principal.subject,
    )
    try:
        async with session.begin_nested():
            repository.add(row)
            await session.flush()
    except IntegrityError:
        raise InvalidVerification("id", "该标识已被使用 / this id is already taken") from None
    await records.opened(
        session,
        row,
        "verification.incoming_recorded",
        row.responder_unit_code,
        {
            "requester_unit_name": row.requester_unit_name,
            "requester_county_code": row.requester_county_code,
            "requester_reference": row.requester_reference,
            **records.arrival(row),
            "evidence_document_id": row.evidence_document_id,
        },
    )
    return row


async def _can_answer(session: AsyncSession, user_id: uuid.UUID, unit_code: str) -> bool:
    user = await IdentityRepository(session).user_by_id(user_id)
    if user is None or not user.active:
        return False
    principal = await principal_for_user(session, user, None, "")
    principal.tenant_code = county_of(unit_code)
    return principal.can(Action.verification_answer, unit_code)


async def get_to_assign(session: AsyncSession, principal: Principal, request_id: uuid.UUID) -> VerificationRequest:
    """A request addressed to a unit where the caller assigns work (a supervisor); 404 otherwise."""
    row = await get_as_responder(session, principal, request_id)
    if not principal.can(Action.case_assign, row.responder_unit_code):
        raise VerificationNotFound()
    return row


async def claim(session: AsyncSession, principal: Principal, row: VerificationRequest) -> VerificationRequest:
    """认领: the signed-in officer takes an incoming request (a department client cannot)."""
    if principal.kind != "user":
        raise InvalidVerification("assignee_id", "只有用户可以认领 / only users claim requests")
    return await assign(session, principal, row, uuid.UUID(principal.id))


async def assign(
    session: AsyncSession, principal: Principal, row: VerificationRequest, assignee_id: uuid.UUID | None
) -> VerificationRequest:
    """Give an incoming request to an officer of the responding unit (or back to its queue)."""
    records.require_pending(row)
    if assignee_id is not None and not await _can_answer(session, assignee_id, row.responder_unit_code):
        raise InvalidVerification("assignee_id", "该用户无权反馈此协查 / this user cannot answer the request")
    before = records.snapshot(row)
    row.responder_assignee_id = assignee_id
    await session.flush()
    await records.record(session, row, "verification.assign", before, row.responder_unit_code)
    return row


# --- the requester ----------------------------------------------------------------------------------------------


async def withdraw(session: AsyncSession, row: VerificationRequest, reason: str) -> VerificationRequest:
    records.require_pending(row)
    before = records.snapshot(row)
    records.close(row, VerificationState.withdrawn, utc_now())
    row.close_reason = reason
    await session.flush()
    await records.record(session, row, "verification.withdraw", before, row.requester_unit_code, reason=reason)
    await records.settle(session, row)
    return row


async def record_answer(session: AsyncSession, row: VerificationRequest, body: RecordedAnswer) -> VerificationRequest:
    """The answer of an off-platform county, arrived by letter, fax or phone, recorded by the requester with
    the moment the channel's evidence shows; it is on time if that moment is by the due moment."""
    records.require_pending(row)
    if row.responder_tenant_id is not None:
        raise InvalidVerification(
            "channel", "对方在平台上，由对方反馈 / the responder is on the platform and answers there"
        )
    arrived = _aware_past(body.arrived_at, "arrived_at")
    if arrived < row.arrived_at:
        raise InvalidVerification("arrived_at", "反馈早于协查送达 / the answer cannot precede the request")
    before = records.snapshot(row)
    records.close(row, VerificationState.answered, utc_now())
    row.answered_at, row.answer, row.answer_channel = arrived, body.answer, body.channel
    row.answer_evidence_document_id = body.evidence_document_id
    row.answered_on_time = arrived <= row.answer_due_at
    await session.flush()
    await records.record(session, row, "verification.answer_recorded", before, row.requester_unit_code)
    await records.settle(session, row)
    return row
