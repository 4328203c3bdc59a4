"""Department notifications, the submit side: accept them durably and idempotently, and report their status
to the client that sent them.

The request transaction stores only the notifications (each row is its own outbox entry: status `received`
is what the router in the worker process picks up after commit, backend/intake/routing.py). Routing, person
matching and the triage case happen there, so a department's batch is acknowledged as soon as it is durable,
whatever Temporal or the counties' tables are doing. The two submit routes run on the lean transaction of
backend/intake/auth.py (docs/adr/0009-lean-intake-submit-path.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.core.clock import china_day, utc_now
from backend.core.crypto import personal_data_cipher
from backend.core.divisions import county_of
from backend.core.errors import FieldError
from backend.core.input import TODAY_CONTEXT_KEY
from backend.intake.errors import InvalidNotification, NotificationNotFound, TransactionReused, TypeNotInScope
from backend.intake.repository import NotificationIntake, NotificationRepository
from backend.intake.schemas import (
    NOTIFICATION_ADAPTER,
    TYPE_SCOPE,
    AcceptedItem,
    BaseNotification,
    BatchResponse,
    ItemError,
    NotificationType,
)
from backend.models import IntakeNotification, NotificationStatus

PAYLOAD_CONTEXT = "intake.notification"
STATUS_PATH = "/api/v1/notifications/{id}"


def status_url(notification_id: uuid.UUID) -> str:
    """Where the client reads a notification's status."""
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
    """A stored notification's validated payload, decrypted (it holds ID numbers and names)."""
    return json.loads(personal_data_cipher().decrypt(ciphertext, context=PAYLOAD_CONTEXT))
