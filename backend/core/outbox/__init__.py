"""The transactional outbox: one typed contract for every side effect performed after commit.

`enqueue(session, payload)` records a message in the caller's transaction. Each kind of message is a member of
`OutboxKind` with one pydantic payload model; the model names its kind, so a caller cannot pair a kind with
the wrong payload. The relay (`workflows/outbox.py`, run by the worker process) reads each county's pending
messages after commit, validates each payload into its model and hands it to the handler registered for its
kind (`workflows/outbox_handlers.py`). Performing a message twice is harmless: workflow ids are derived from
the case (or the request) and update ids from the message id, so Temporal deduplicates.

The stored row is `kind` (the enum's value, e.g. "case.replan") and `payload` (the model as JSON); the
contract is docs/adr/0010-typed-outbox-contract.md.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.clock import utc_now
from backend.core.outbox.repository import OutboxRepository
from backend.db.tenancy import current_tenant_id
from backend.models import OutboxMessage

NOTIFY_CHANNEL = "liuguan_outbox"
"""The PostgreSQL channel on which every insert into `outbox_messages` wakes the relays, at its transaction's
commit (a statement trigger, migration 0015: no round trip of its own)."""


class OutboxKind(StrEnum):
    """Every kind of message the outbox carries."""

    case_start = "case.start"  # start a case's workflow
    case_act = "case.act"  # send a human action to a case's workflow (a Temporal Update)
    case_replan = "case.replan"  # the case's deadline was recounted outside the workflow
    verification_start = "verification.start"  # start a verification request's deadline workflow
    verification_settle = "verification.settle"  # answered, rejected or withdrawn: stop its timers
    verification_replan = "verification.replan"  # the answer's due moment was recounted
    check_rounds_watch = "check_rounds.watch"  # watch a check-round window: settle its missed rounds when it ends
    notification_county = "notification.county"  # tell people of another county of an event
    archive_build = "archive.build"  # bind a yearly archive volume (a long job: never in the request)
    notification_deliver = "notification.deliver"  # send one notification through one channel (e-mail, SMS ...)


class OutboxPayload(BaseModel):
    """A message's payload; each subclass is the contract of one kind."""

    kind: ClassVar[OutboxKind]


class StartCase(OutboxPayload):
    """Start the case's workflow (id `case:<tenant_code>:<case_id>`)."""

    kind: ClassVar[OutboxKind] = OutboxKind.case_start
    tenant_id: uuid.UUID
    tenant_code: str
    case_id: uuid.UUID
    case_number: str
    # The case's first deadline plan as the opening transaction stored it (`workflows.cases.types.DeadlinePlan` as
    # JSON: that contract lives with the workflow, which validates it again). Without it (messages written before
    # it existed) the workflow reads the plan from the case row with its first activity.
    plan: dict[str, Any] | None = None


class CaseWorkflowMessage(OutboxPayload):
    """A message for a case's running workflow."""

    workflow_id: str
    case_id: uuid.UUID


class ActOnCase(CaseWorkflowMessage):
    """A human action for the case's workflow. `action` is the Update's own payload
    (`workflows.cases.types.CaseActionInput` as JSON): that contract lives with the workflow, which validates
    it again; the message id is its request id and the Update's id."""

    kind: ClassVar[OutboxKind] = OutboxKind.case_act
    action: dict[str, Any]


class ReplanCase(CaseWorkflowMessage):
    """The case's due date was recounted (the calendar changed): its workflow reloads its plan."""

    kind: ClassVar[OutboxKind] = OutboxKind.case_replan


class StartVerification(OutboxPayload):
    """Start the request's deadline workflow; `tenant_id` is the requesting county."""

    kind: ClassVar[OutboxKind] = OutboxKind.verification_start
    tenant_id: uuid.UUID
    request_id: uuid.UUID
    correlation_id: str


class VerificationWorkflowMessage(OutboxPayload):
    """A message for a verification request's running workflow."""

    workflow_id: str
    request_id: uuid.UUID


class SettleVerification(VerificationWorkflowMessage):
    """The request was answered, rejected or withdrawn: its workflow stops its timers."""

    kind: ClassVar[OutboxKind] = OutboxKind.verification_settle


class ReplanVerification(VerificationWorkflowMessage):
    """The answer's due moment was recounted: its workflow reloads its plan."""

    kind: ClassVar[OutboxKind] = OutboxKind.verification_replan


class WatchCheckRounds(OutboxPayload):
    """Start the watch of one county's check-round window (id `check-rounds:<tenant_code>:<window_end>`): when
    the window and its grace days have passed, its rounds without a result are settled as missed."""

    kind: ClassVar[OutboxKind] = OutboxKind.check_rounds_watch
    tenant_id: uuid.UUID
    tenant_code: str
    window_end: date


class NotifyCounty(OutboxPayload):
    """Tell the people of county `tenant_id` of an event that happened in this one (a verification request
    arrived there, its answer came back). `event` is the notifications domain's own contract
    (`backend.notifications.schemas.NotificationEvent` as JSON), validated again by the handler."""

    kind: ClassVar[OutboxKind] = OutboxKind.notification_county
    tenant_id: uuid.UUID
    event: dict[str, Any]


class BuildArchive(OutboxPayload):
    """Bind the archive volume `volume_id` of county `tenant_id` (backend/archive): its index, manifest and
    retention. Idempotent: a volume already built is left as it is."""

    kind: ClassVar[OutboxKind] = OutboxKind.archive_build
    tenant_id: uuid.UUID
    volume_id: uuid.UUID


class DeliverNotification(OutboxPayload):
    """Start the delivery workflow of one `notification_deliveries` row (id `delivery:<idempotency_key>:<round>`):
    it waits until `due_at` (the person's quiet hours), then sends with retries and marks the row."""

    kind: ClassVar[OutboxKind] = OutboxKind.notification_deliver
    tenant_id: uuid.UUID
    delivery_id: uuid.UUID
    idempotency_key: str
    round: int = 0
    due_at: datetime
    digest_of: str | None = None  # one of a daily digest: its batch (the workflow is the batch's)


PAYLOADS: dict[OutboxKind, type[OutboxPayload]] = {
    model.kind: model
    for model in (
        StartCase,
        ActOnCase,
        ReplanCase,
        StartVerification,
        SettleVerification,
        ReplanVerification,
        WatchCheckRounds,
        NotifyCounty,
        BuildArchive,
        DeliverNotification,
    )
}
"""The payload model of each kind: one each, every kind covered (a test checks)."""


def payload_of(message: OutboxMessage) -> OutboxPayload:
    """The message's payload validated into its kind's model; `ValueError` for a kind this code does not know
    or a payload that does not fit its model (pydantic's `ValidationError` is one)."""
    return PAYLOADS[OutboxKind(message.kind)].model_validate(message.payload)


async def enqueue(
    session: AsyncSession, payload: OutboxPayload, *, message_id: uuid.UUID | None = None
) -> OutboxMessage:
    """Record a side effect to perform after this transaction commits (in the transaction's county)."""
    message = message_for(current_tenant_id(session), payload, message_id=message_id)
    await OutboxRepository(session).add(message)
    return message


def message_for(tenant_id: uuid.UUID, payload: OutboxPayload, *, message_id: uuid.UUID | None = None) -> OutboxMessage:
    """The row `enqueue` records, for a writer that inserts it in a statement of its own (the case opening)."""
    now = utc_now()
    return OutboxMessage(
        id=message_id or uuid.uuid4(),
        tenant_id=tenant_id,
        kind=payload.kind.value,
        payload=payload.model_dump(mode="json"),
        created_at=now,
        available_at=now,
        attempts=0,
    )


async def enqueue_all(session: AsyncSession, payloads: list[OutboxPayload]) -> list[OutboxMessage]:
    """`enqueue` for many side effects at once: the messages are written together (one insert)."""
    tenant_id = current_tenant_id(session)
    messages = [message_for(tenant_id, payload) for payload in payloads]
    await OutboxRepository(session).add_all(messages)
    return messages


async def get_message(session: AsyncSession, message_id: uuid.UUID) -> OutboxMessage | None:
    """A message of the transaction's county (e.g. to report an action's outcome), or None."""
    return await OutboxRepository(session).get(message_id)
