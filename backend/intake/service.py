"""Department notifications: accept them durably and idempotently, report their status, and let the
county's officer verify, accept or reject the triage case the router opened.

The request transaction stores only the notifications (each row is its own outbox entry: status `received`
is what the router in the worker process picks up after commit). Routing, person matching and the triage
case happen there (backend/intake/routing.py), so a department's batch is acknowledged as soon as it is
durable, whatever Temporal or the counties' tables are doing.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases import service as cases
from backend.cases.errors import CaseNotFound
from backend.cases.schemas import CaseActionRequest, CaseCreate, CaseSubjectIn
from backend.core.clock import CHINA, china_day, utc_now
from backend.core.crypto import personal_data_cipher
from backend.core.divisions import county_of
from backend.core.errors import FieldError
from backend.db.tenancy import current_tenant_id
from backend.intake.errors import (
    DeliveryNotFound,
    InvalidNotification,
    NotificationNotFound,
    TransactionReused,
    TriageNotFound,
    TriageStateError,
    TypeNotInScope,
)
from backend.intake.repository import NotificationIntake, NotificationRepository, TriageRepository, WebhookRepository
from backend.intake.schemas import (
    NOTIFICATION_ADAPTER,
    TODAY_CONTEXT_KEY,
    TYPE_SCOPE,
    AcceptedItem,
    BaseNotification,
    BatchResponse,
    ItemError,
    NotificationType,
    ReconciliationRow,
)
from backend.models import (
    Case,
    CaseOutcome,
    DeliveryStatus,
    IntakeNotification,
    IntakeTriage,
    MaritalStatus,
    NotificationStatus,
    Person,
    PersonChild,
    PersonStatus,
    WebhookDelivery,
    WebhookSubscription,
)
from backend.persons.repository import PersonRepository
from backend.persons.schemas import PersonDepart
from backend.persons.service import depart_person
from workflows.cases.types import CaseAction

PAYLOAD_CONTEXT = "intake.notification"
WEBHOOK_SECRET_CONTEXT = "intake.webhook_secret"
STATUS_PATH = "/api/v1/notifications/{id}"


def status_url(notification_id: uuid.UUID) -> str:
    return STATUS_PATH.format(id=notification_id)


def _loc_text(loc: Sequence[str | int], type_tag: str | None) -> str:
    parts = list(loc)
    if parts and type_tag is not None and parts[0] == type_tag:
        parts = parts[1:]  # the discriminated union puts the type tag first
    return ".".join(str(part) for part in parts) or "__root__"


@dataclass(slots=True)
class _Checked:
    index: int
    notification: Any
    canonical: str
    digest: str


def _check(principal: Principal, index: int, raw: Any, today: date) -> _Checked | list[ItemError]:
    if isinstance(raw, BaseNotification):  # validated at the edge already (the single-post route)
        notification: Any = raw
    else:
        outcome = _validate(index, raw, today)
        if isinstance(outcome, list):
            return outcome
        notification = outcome
    if TYPE_SCOPE[notification.type].value not in principal.client_scopes:
        return [ItemError(index=index, field="type", reason=TypeNotInScope().detail)]
    canonical = notification.model_dump_json()
    digest = personal_data_cipher().lookup_hash(canonical, context=PAYLOAD_CONTEXT)
    return _Checked(index, notification, canonical, digest)


def _validate(index: int, raw: Any, today: date) -> Any:
    type_tag = raw.get("type") if isinstance(raw, dict) else None
    try:
        return NOTIFICATION_ADAPTER.validate_python(raw, context={TODAY_CONTEXT_KEY: today})
    except ValidationError as error:
        return [
            ItemError(index=index, field=_loc_text(item["loc"], type_tag), reason=item["msg"])
            for item in error.errors(include_url=False, include_input=False)
        ]


def _department(principal: Principal, notification_type: NotificationType) -> str:
    return TYPE_SCOPE[notification_type].value.split(":", 1)[1]


async def submit(
    store: NotificationIntake, principal: Principal, raw_items: Sequence[Any], idempotency_key: str | None
) -> BatchResponse:
    """Validate each item on its own, store the new ones, and answer replays with the original result.

    A (client, transaction id) pair is stored once: INSERT ... ON CONFLICT DO NOTHING, then the rows that
    already existed (an earlier or a concurrent replay) are read back. Reusing a transaction id for
    different content is an error for that item.
    """
    cipher = personal_data_cipher()
    now = utc_now()
    errors: list[ItemError] = []
    first_by_transaction: dict[str, _Checked] = {}
    checked_items: list[_Checked] = []
    today = china_day(now)  # the batch is checked as of one moment
    for index, raw in enumerate(raw_items):
        outcome = _check(principal, index, raw, today)
        if isinstance(outcome, list):
            errors.extend(outcome)
            continue
        first = first_by_transaction.get(outcome.notification.transaction_id)
        if first is not None and first.digest != outcome.digest:
            errors.append(ItemError(index=index, field="transaction_id", reason=TransactionReused().detail))
            continue
        first_by_transaction.setdefault(outcome.notification.transaction_id, outcome)
        checked_items.append(outcome)
    rows = [
        {
            "id": uuid.uuid4(),
            "client_id": principal.id,
            "department": _department(principal, item.notification.type),
            "notification_type": item.notification.type.value,
            "schema_version": item.notification.schema_version,
            "transaction_id": item.notification.transaction_id,
            "idempotency_key": idempotency_key,
            "payload_encrypted": cipher.encrypt(item.canonical, context=PAYLOAD_CONTEXT),
            "payload_digest": item.digest,
            "division_code": item.notification.routing_division_code(),
            "county_code": county_of(item.notification.routing_division_code()),
            "status": NotificationStatus.received.value,
            "received_at": now,
            "available_at": now,
            "route_attempts": 0,
        }
        for item in first_by_transaction.values()
    ]
    inserted = await store.insert_new(rows)
    existing = await store.by_transaction_ids(
        principal.id, [transaction_id for transaction_id in first_by_transaction if transaction_id not in inserted]
    )
    accepted: list[AcceptedItem] = []
    for item in checked_items:
        transaction_id = item.notification.transaction_id
        if transaction_id in inserted:
            notification_id, status, replayed = inserted[transaction_id], NotificationStatus.received.value, False
            replayed = first_by_transaction[transaction_id] is not item
        else:
            notification_id, status, digest = existing[transaction_id]
            if digest != item.digest:
                errors.append(ItemError(index=item.index, field="transaction_id", reason=TransactionReused().detail))
                continue
            replayed = True
        accepted.append(
            # Built from values this function made itself: construct skips re-validating 1,000 of them.
            AcceptedItem.model_construct(
                index=item.index,
                transaction_id=transaction_id,
                id=notification_id,
                status=status,
                status_url=status_url(notification_id),
                replayed=replayed,
            )
        )
    errors.sort(key=lambda error: error.index)
    return BatchResponse(accepted=accepted, errors=errors)


async def submit_one(
    store: NotificationIntake, principal: Principal, raw: BaseNotification, idempotency_key: str | None
) -> AcceptedItem:
    """One notification, validated by the route: the batch path with one item, its error raised."""
    if TYPE_SCOPE[raw.kind()] not in principal.client_scopes:
        raise TypeNotInScope()
    result = await submit(store, principal, [raw], idempotency_key)
    if result.errors:
        if any(error.field == "transaction_id" and "transaction" in error.reason for error in result.errors):
            raise TransactionReused()
        raise InvalidNotification(
            [FieldError(("body", *error.field.split(".")), error.reason) for error in result.errors]
        )
    return result.accepted[0]


async def notification_for_client(
    session: AsyncSession, principal: Principal, notification_id: uuid.UUID
) -> IntakeNotification:
    """The client's own notification; another client's answers 404 like a missing one."""
    notification = await NotificationRepository(session).get_for_client(principal.id, notification_id)
    if notification is None:
        raise NotificationNotFound()
    return notification


def decrypt_payload(ciphertext: bytes) -> dict[str, Any]:
    return json.loads(personal_data_cipher().decrypt(ciphertext, context=PAYLOAD_CONTEXT))


async def held_notifications(session: AsyncSession, *, offset: int, limit: int) -> list[IntakeNotification]:
    """The holding queue (platform context): counties not on this instance."""
    return await NotificationRepository(session).held(offset=offset, limit=limit)


async def release_held(session: AsyncSession) -> int:
    """After a county joins the instance: send the holding queue through the router again. Notifications
    whose county is still absent go back to `held`; the others are routed like new ones."""
    return await NotificationRepository(session).release_held(utc_now())


# --- status callbacks ------------------------------------------------------------------------------------


def status_event_body(notification: IntakeNotification, event_id: uuid.UUID) -> dict[str, Any]:
    return {
        "event_id": str(event_id),
        "notification_id": str(notification.id),
        "transaction_id": notification.transaction_id,
        "type": notification.notification_type,
        "status": notification.status,
        "case_number": notification.case_number,
        "rejection_reason": notification.rejection_reason,
        "occurred_at": utc_now().isoformat(),
    }


def enqueue_status_event(
    session: AsyncSession, notification: IntakeNotification, *, origin_tenant_id: uuid.UUID | None
) -> WebhookDelivery:
    """Record a callback in the transaction that changes the status; the worker sends it after commit."""
    event_id = uuid.uuid4()
    now = utc_now()
    delivery = WebhookDelivery(
        id=event_id,
        client_id=notification.client_id,
        notification_id=notification.id,
        origin_tenant_id=origin_tenant_id,
        event=notification.status,
        body=status_event_body(notification, event_id),
        status=DeliveryStatus.pending.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    return delivery


async def register_webhook(session: AsyncSession, principal: Principal, url: str) -> str:
    """Register (or replace) the client's callback URL; returns the new signing secret, shown once."""
    secret = secrets.token_urlsafe(32)
    ciphertext = personal_data_cipher().encrypt(secret, context=WEBHOOK_SECRET_CONTEXT)
    repository = WebhookRepository(session)
    subscription = await repository.subscription(principal.id)
    if subscription is None:
        session.add(
            WebhookSubscription(
                id=uuid.uuid4(), client_id=principal.id, url=url, secret_encrypted=ciphertext, created_at=utc_now()
            )
        )
    else:
        subscription.url, subscription.secret_encrypted = url, ciphertext
    await session.flush()
    return secret


def subscription_secret(subscription: WebhookSubscription) -> str:
    return personal_data_cipher().decrypt(subscription.secret_encrypted, context=WEBHOOK_SECRET_CONTEXT)


async def dead_letters(session: AsyncSession) -> list[WebhookDelivery]:
    return await WebhookRepository(session).by_status(DeliveryStatus.dead.value)


async def resend(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Put a dead-lettered callback back in the queue with a fresh retry budget (platform context)."""
    delivery = await WebhookRepository(session).get(delivery_id)
    if delivery is None:
        raise DeliveryNotFound()
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.pending.value, 0, utc_now()
    await session.flush()
    return delivery


# --- monthly reconciliation ------------------------------------------------------------------------------


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a month in China time, as UTC instants; `month` is YYYY-MM."""
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=CHINA)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=CHINA)
    return start.astimezone(UTC), end.astimezone(UTC)


async def reconciliation(session: AsyncSession, month: str, client_id: str | None) -> list[ReconciliationRow]:
    """Per department (client) and month: received, routed, accepted, rejected, pending, held."""
    start, end = month_bounds(month)
    table: dict[tuple[str, str], dict[str, int]] = {}
    for department, client, status, count in await NotificationRepository(session).monthly_counts(
        start, end, client_id
    ):
        counts = table.setdefault((department, client), {})
        counts[status] = counts.get(status, 0) + count
    rows = []
    for (department, client), counts in sorted(table.items()):
        accepted = counts.get(NotificationStatus.verified, 0)
        rejected = counts.get(NotificationStatus.rejected, 0)
        opened = counts.get(NotificationStatus.case_opened, 0) + counts.get(NotificationStatus.routed, 0)
        held = counts.get(NotificationStatus.held, 0)
        waiting = counts.get(NotificationStatus.received, 0)
        rows.append(
            ReconciliationRow(
                department=department,
                client_id=client,
                month=month,
                received=sum(counts.values()),
                routed=opened + accepted + rejected,
                accepted=accepted,
                rejected=rejected,
                pending=opened + waiting,
                held=held,
            )
        )
    return rows


# --- officer triage --------------------------------------------------------------------------------------


async def _triage(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, action: Action
) -> tuple[Case, IntakeTriage]:
    try:
        case = await cases.get_case(session, principal, case_id, action)
    except CaseNotFound:  # the same answer as for a case that is not a triage case
        raise TriageNotFound() from None
    triage = await TriageRepository(session).by_case(case.id)
    if triage is None:
        raise TriageNotFound()
    return case, triage


async def read_triage(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> tuple[IntakeTriage, dict[str, Any]]:
    _, triage = await _triage(session, principal, case_id, Action.case_read)
    return triage, decrypt_payload(triage.payload_encrypted)


async def verify(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> IntakeTriage:
    """The officer checked the notification against the registry and the person (核实)."""
    case, triage = await _triage(session, principal, case_id, Action.case_write)
    if triage.decision is not None:
        raise TriageStateError("已处理 / already decided")
    if triage.verified_at is None:
        triage.verified_at, triage.verified_by = utc_now(), principal.subject
        await session.flush()
        await audit.record(
            session,
            action="intake.verify",
            entity_type="intake_triage",
            entity_id=triage.id,
            org_unit_code=case.org_unit_code,
            correlation_id=case.number,
            changes={"verified_at": [None, triage.verified_at.isoformat()]},
        )
    return triage


async def _decide(
    session: AsyncSession,
    principal: Principal,
    case: Case,
    triage: IntakeTriage,
    decision: NotificationStatus,
    reason: str | None,
) -> None:
    notification = await NotificationRepository(session).get_routed_here(triage.notification_id)
    if notification is None:  # the policy and the county filter both hide it: should never happen
        raise TriageNotFound()
    now = utc_now()
    triage.decision, triage.decision_reason = decision.value, reason
    triage.decided_at, triage.decided_by = now, principal.subject
    notification.status, notification.decided_at = decision.value, now
    notification.rejection_reason = reason if decision == NotificationStatus.rejected else None
    enqueue_status_event(session, notification, origin_tenant_id=current_tenant_id(session))
    await session.flush()
    await audit.record(
        session,
        action=f"intake.{'accept' if decision == NotificationStatus.verified else 'reject'}",
        entity_type="intake_triage",
        entity_id=triage.id,
        org_unit_code=case.org_unit_code,
        correlation_id=case.number,
        reason=reason,
        changes={"decision": [None, decision.value]},
    )
    outcome = CaseOutcome.registered if decision == NotificationStatus.verified else CaseOutcome.refused
    await cases.request_action(
        session,
        principal,
        case,
        CaseActionRequest(version=case.version, action=CaseAction.close, outcome=outcome, reason=reason),
    )


async def reject(session: AsyncSession, principal: Principal, case_id: uuid.UUID, reason: str) -> IntakeTriage:
    """Reject with a reason the department reads through the status endpoint and its callback."""
    case, triage = await _triage(session, principal, case_id, Action.case_write)
    if triage.decision is not None:
        raise TriageStateError("已处理 / already decided")
    await _decide(session, principal, case, triage, NotificationStatus.rejected, reason)
    return triage


async def accept(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> tuple[IntakeTriage, list[Case]]:
    """Accept a verified notification: update the registry for the matched persons and open follow-ups."""
    case, triage = await _triage(session, principal, case_id, Action.case_write)
    if triage.decision is not None:
        raise TriageStateError("已处理 / already decided")
    if triage.verified_at is None:
        raise TriageStateError("须先核实 / verify the notification first")
    payload = decrypt_payload(triage.payload_encrypted)
    persons = PersonRepository(session)
    matched: dict[str, Person] = {}
    for role, person_id in triage.matches.items():
        if person_id and (person := await persons.get(uuid.UUID(person_id))) is not None:
            matched[role] = person
    follow_ups = await _apply_to_registry(
        session, principal, case, NotificationType(triage.notification_type), payload, matched
    )
    await _decide(session, principal, case, triage, NotificationStatus.verified, None)
    return triage, follow_ups


async def _update_person(session: AsyncSession, person: Person, changes: dict[str, Any], case: Case) -> None:
    before = {name: getattr(person, name) for name in changes}
    for name, value in changes.items():
        setattr(person, name, value)
    await session.flush()
    await audit.record(
        session,
        action="person.update",
        entity_type="person",
        entity_id=person.id,
        org_unit_code=person.org_unit_code,
        correlation_id=case.number,
        reason="部门通报核实 / verified department notification",
        changes=audit.diff(before, changes),
    )


async def _apply_to_registry(
    session: AsyncSession,
    principal: Principal,
    case: Case,
    notification_type: NotificationType,
    payload: dict[str, Any],
    matched: dict[str, Person],
) -> list[Case]:
    """What an accepted notification changes: residence (arrivals), departure (a cancelled residence),
    marital status and spouse, children; and the follow-up case it calls for (a certificate inspection for
    a new arrival, an inflow registration for a person not yet in the registry)."""
    follow_ups: list[Case] = []

    async def open_follow_up(case_type: str, person: Person | None) -> None:
        subjects = [CaseSubjectIn(person_id=person.id)] if person is not None else []
        follow_ups.append(
            await cases.open_case(
                session,
                principal,
                CaseCreate(
                    case_type=case_type,
                    org_unit_code=case.org_unit_code,
                    subjects=subjects,
                    details={"source_case": case.number, "intake_notification": payload["transaction_id"]},
                ),
            )
        )

    arrivals = (
        NotificationType.residence_registered,
        NotificationType.residence_permit_issued,
        NotificationType.household_moved,
    )
    if notification_type in arrivals:
        person = matched.get("person")
        division = payload.get("residence_division_code") or payload.get("to_division_code")
        if person is not None:
            await _update_person(
                session, person, {"residence_division_code": division, "residence_address": payload["address"]}, case
            )
            await open_follow_up("certificate_inspection", person)
        else:
            await open_follow_up("inflow_registration", None)
    elif notification_type == NotificationType.residence_cancelled:
        person = matched.get("person")
        if person is not None and person.status == PersonStatus.active:
            reason = payload.get("reason") or "暂住登记注销"
            departed_on = date.fromisoformat(payload["cancelled_on"])
            await depart_person(
                session,
                principal,
                person,
                PersonDepart(departed_on=departed_on, reason=f"{payload['issuing_office']}通报：{reason}"[:200]),
            )
    elif notification_type in (NotificationType.marriage_registered, NotificationType.divorce_registered):
        status = (
            MaritalStatus.first_marriage
            if notification_type == NotificationType.marriage_registered
            else MaritalStatus.divorced
        )
        husband, wife = matched.get("husband"), matched.get("wife")
        for person, spouse in ((husband, wife), (wife, husband)):
            if person is not None:
                spouse_id = spouse.id if spouse is not None and status == MaritalStatus.first_marriage else None
                await _update_person(session, person, {"marital_status": status, "spouse_id": spouse_id}, case)
    elif notification_type == NotificationType.birth_reported:
        mother = matched.get("mother")
        if mother is not None:
            order = (
                await session.execute(
                    select(func.count()).select_from(PersonChild).where(PersonChild.person_id == mother.id)
                )
            ).scalar_one()
            session.add(
                PersonChild(
                    id=uuid.uuid4(),
                    tenant_id=mother.tenant_id,
                    person_id=mother.id,
                    birth_order=int(order) + 1,
                    birth_date=date.fromisoformat(payload["birth_date"]),
                    sex=payload["child_sex"],
                    name=payload.get("child_name"),
                )
            )
            await audit.record(
                session,
                action="person.child_add",
                entity_type="person",
                entity_id=mother.id,
                org_unit_code=mother.org_unit_code,
                correlation_id=case.number,
                reason="部门通报核实 / verified department notification",
                changes={"children": [None, {"birth_order": int(order) + 1, "birth_date": payload["birth_date"]}]},
            )
        else:
            await open_follow_up("inflow_registration", None)
    return follow_ups
