"""The verification request row (协查/通报记录) and what every change to it does, whoever makes it: a new row
with its subject's ID number encrypted and its answer deadline, an audit event in the acting county's chain under
the request's correlation id, closing it, and telling its deadline workflow (started or settled, through the
outbox).

The requests and notices of backend/verification/service.py, the flow notices of notices.py and their filing in
flow_notices.py all build and change rows through here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.calendar.workdays import WorkingDayCalendar
from backend.core import outbox
from backend.core.clock import china_day
from backend.core.crypto import personal_data_cipher
from backend.core.divisions import township_of
from backend.models import VerificationRequest, VerificationState
from backend.notifications import events as notification_events
from backend.notifications.service import dealt_with, notify
from backend.org.repository import OrgUnitRepository
from backend.persons.resident_id import mask_resident_id
from backend.tenants.directory import DivisionRoute
from backend.verification import deadlines
from backend.verification.errors import NotPending
from workflows.verification.types import verification_workflow_id

RESIDENT_ID_CONTEXT = "verification.subject_resident_id"
ENTITY_TYPE = "verification_request"
IDENTIFIERS_VIEWED = "verification.view_identifiers"
# The fields a change is audited by (their before and after values).
TRACKED = (
    "state",
    "responder_assignee_id",
    "answered_at",
    "answered_on_time",
    "answer",
    "answer_channel",
    "answer_evidence",
    "answer_evidence_document_id",
    "close_reason",
    "closed_at",
)


def correlation_id(prefix: str, county_code: str, now: datetime) -> str:
    """The reference both counties file the request under: `XC-330106-20260315-1A2B3C4D` (XC a request, TB a
    notice, LH a letter from a county off the platform)."""
    return f"{prefix}-{county_code}-{china_day(now).strftime('%Y%m%d')}-{uuid.uuid4().hex[:8].upper()}"


async def requested_by(session: AsyncSession, county_code: str, unit_code: str) -> dict[str, Any]:
    """The requesting side's columns: the township of `unit_code` (the unit itself above township level), named as
    the org tree names it."""
    township = township_of(unit_code) or unit_code
    unit = await OrgUnitRepository(session).get_by_code(township)
    name = unit.name if unit else township
    return {"requester_county_code": county_code, "requester_unit_code": township, "requester_unit_name": name}


def addressed_to(route: DivisionRoute, division_code: str) -> dict[str, Any]:
    """The responding side's columns: the township of `division_code` in the county the route found (named when
    that county is on the platform)."""
    return {
        "responder_tenant_id": route.tenant_id,
        "responder_county_code": route.county_code,
        "responder_unit_code": route.township_code or township_of(division_code) or division_code,
        "responder_unit_name": route.township_name,
    }


def left_on_time(moment: datetime) -> dict[str, Any]:
    """The sending columns of a request whose sending clock is not ours to keep (a notice the platform sends at
    once, a letter from a county off the platform): it left at `moment`, on time."""
    return {"materials_received_at": moment, "send_due_at": moment, "sent_at": moment, "sent_on_time": True}


def new_request(
    calendar: WorkingDayCalendar, *, resident_id: str | None, arrived_at: datetime, **fields: Any
) -> VerificationRequest:
    """A pending request row (not yet added): the subject's ID number encrypted, the answer due 15 working days
    after the arrival on `calendar` (the responder's), and the expiry after that."""
    answer_due_at, provisional = deadlines.due_after(calendar, arrived_at, deadlines.ANSWER_WORKING_DAYS)
    cipher = personal_data_cipher()
    return VerificationRequest(
        id=fields.pop("id", None) or uuid.uuid4(),
        state=VerificationState.pending,
        subject_resident_id_ciphertext=cipher.encrypt(resident_id, context=RESIDENT_ID_CONTEXT)
        if resident_id
        else None,
        subject_resident_id_hash=cipher.lookup_hash(resident_id, context=RESIDENT_ID_CONTEXT) if resident_id else None,
        arrived_at=arrived_at,
        answer_due_at=answer_due_at,
        answer_due_provisional=provisional,
        expires_at=deadlines.expiry(calendar, answer_due_at),
        **fields,
    )


def arrival(row: VerificationRequest) -> dict[str, Any]:
    """How and when a new request arrived and when its answer is due, as its first audit event records them."""
    return {"channel": row.channel, "arrived_at": row.arrived_at, "answer_due_at": row.answer_due_at}


def subject_resident_id(row: VerificationRequest) -> str | None:
    """The subject's ID number in clear, or None. Shown to people only through `subject_resident_ids_shown`
    (audited) or masked (`masked_subject_resident_id`)."""
    if row.subject_resident_id_ciphertext is None:
        return None
    return personal_data_cipher().decrypt(row.subject_resident_id_ciphertext, context=RESIDENT_ID_CONTEXT)


def masked_subject_resident_id(row: VerificationRequest) -> str | None:
    """The subject's ID number masked (`110101********4518`): what lists and the answers to changes show."""
    number = subject_resident_id(row)
    return mask_resident_id(number) if number is not None else None


async def subject_resident_ids_shown(
    session: AsyncSession, rows: list[VerificationRequest], *, responder: bool
) -> dict[uuid.UUID, str | None]:
    """The subjects' ID numbers in full for someone to read, each read recorded in the acting county's audit log
    (`verification.view_identifiers`, without the number, under the side's unit and the correlation id)."""
    shown: dict[uuid.UUID, str | None] = {}
    for row in rows:
        shown[row.id] = number = subject_resident_id(row)
        if number is None:
            continue
        await audit.record(
            session,
            action=IDENTIFIERS_VIEWED,
            entity_type=ENTITY_TYPE,
            entity_id=row.id,
            org_unit_code=row.responder_unit_code if responder else row.requester_unit_code,
            correlation_id=row.correlation_id,
            changes={"fields": ["subject_resident_id"]},
        )
    return shown


def snapshot(row: VerificationRequest) -> dict[str, Any]:
    """The audited fields and the version, before a change."""
    return {name: getattr(row, name) for name in TRACKED} | {"version": row.version}


async def record(
    session: AsyncSession,
    row: VerificationRequest,
    action: str,
    before: dict[str, Any] | None,
    unit_code: str | None,
    *,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """An event in the current county's chain under the request's correlation id."""
    changes = audit.diff(before, snapshot(row))
    if extra:
        changes |= {name: [None, value] for name, value in extra.items()}
    await audit.record(
        session,
        action=action,
        entity_type=ENTITY_TYPE,
        entity_id=row.id,
        org_unit_code=unit_code,
        changes=changes,
        reason=reason,
        correlation_id=row.correlation_id,
    )


def require_pending(row: VerificationRequest) -> None:
    """Refuse a change to a request that is no longer pending (409)."""
    if row.state != VerificationState.pending:
        raise NotPending(row.state.value)


def close(row: VerificationRequest, state: VerificationState, at: datetime) -> None:
    """End the request in `state` at `at`."""
    row.state = state
    row.closed_at = at


async def opened(
    session: AsyncSession, row: VerificationRequest, action: str, unit_code: str | None, extra: dict[str, Any]
) -> None:
    """A new request's first audit event (`extra` says how it was sent and what it asks), and its deadline workflow
    started once this transaction commits."""
    await record(session, row, action, None, unit_code, extra=extra)
    await start(session, row)
    if row.responder_tenant_id is not None:
        await notify(session, notification_events.inbox_item(row))


async def start(session: AsyncSession, row: VerificationRequest) -> None:
    """Start the request's deadline workflow once this transaction commits."""
    await outbox.enqueue(
        session,
        outbox.StartVerification(tenant_id=row.tenant_id, request_id=row.id, correlation_id=row.correlation_id),
    )


async def replied(session: AsyncSession, row: VerificationRequest) -> None:
    """The responder answered or sent the request back: its deadline workflow is settled, the responders'
    notifications of its arrival are cleared, and the requesting case's assignee is told."""
    await settle(session, row)
    await dealt_with(session, notification_events.inbox_item_key(row))
    event = notification_events.answer_received(row)
    if event is not None:
        await notify(session, event)


async def settle(session: AsyncSession, row: VerificationRequest) -> None:
    """Tell the request's deadline workflow it is settled (answered, rejected, withdrawn) once this commits."""
    await outbox.enqueue(
        session,
        outbox.SettleVerification(workflow_id=verification_workflow_id(row.correlation_id), request_id=row.id),
    )
