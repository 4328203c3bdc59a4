"""Writing and verifying the audit log.

`record()` is called by every service that writes, inside the same transaction as the change, so a change
and its audit event commit or roll back together. The actor, request id and client address come from the
request context (backend/core/context.py).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from backend.audit.chain import genesis_hash, link_hash
from backend.audit.repository import AuditRepository
from backend.core.clock import utc_now
from backend.core.context import actor_var, client_addr_var, request_id_var
from backend.db.tenancy import current_tenant_id
from backend.models import AuditChainHead, AuditEvent

# Values never written to the audit log in clear, whatever the entity: the log is read by auditors who
# may not see personal identifiers.
REDACTED = "***"
_HEAD_CACHE_KEY = "audit_chain_head"


def _jsonable(value: object) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


def diff(
    before: dict[str, Any] | None, after: dict[str, Any] | None, *, redact: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """`{field: [old, new]}` for the fields that differ; a creation has old = None, a removal new = None."""
    before = before or {}
    after = after or {}
    changes: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = _jsonable(before.get(name)), _jsonable(after.get(name))
        if old != new:
            changes[name] = [REDACTED if old is not None else None, REDACTED] if name in redact else [old, new]
    return changes


async def initialise_chain(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Create the tenant's chain head; done once, when the tenant is provisioned."""
    AuditRepository(session).add_head(tenant_id, genesis_hash(tenant_id))
    await session.flush()


async def _locked_head(session: AsyncSession) -> AuditChainHead | None:
    """The chain head, locked once per transaction: later events in the same transaction reuse it."""
    transaction = session.get_transaction()
    cached = session.info.get(_HEAD_CACHE_KEY)
    if cached is not None and cached[0] is transaction and cached[1].tenant_id == current_tenant_id(session):
        return cached[1]
    head = await AuditRepository(session).lock_chain_head()
    if head is not None:
        session.info[_HEAD_CACHE_KEY] = (transaction, head)
    return head


def chained_event(
    tenant_id: uuid.UUID,
    last_seq: int,
    last_hash: str,
    *,
    action: str,
    entity_type: str,
    entity_id: str | uuid.UUID,
    changes: dict[str, Any] | None = None,
    org_unit_code: str | None = None,
    reason: str | None = None,
    correlation_id: str | None = None,
) -> AuditEvent:
    """The event that follows the chain head (`last_seq`, `last_hash`), stamped with the request's actor, id and
    client address, and hashed. `record()` appends it through the session, `record_all()` several in one
    statement; a writer that appends it in a statement of its own (the case opening,
    docs/adr/0012-lean-case-opening.md) calls `head_moved` afterwards."""
    actor = actor_var.get()
    # Python and PostgreSQL both keep microseconds, so the hashed value equals the stored one.
    event = AuditEvent(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        seq=last_seq + 1,
        occurred_at=utc_now(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:100],
        org_unit_code=org_unit_code,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        changes=_jsonable(changes or {}),
        reason=reason,
        correlation_id=correlation_id,
        request_id=request_id_var.get(),
        client_addr=client_addr_var.get(),
        prev_hash=last_hash,
    )
    event.hash = link_hash(last_hash, event)
    return event


def head_moved(session: AsyncSession, event: AuditEvent) -> None:
    """`event` was appended (and the chain head moved to it) by a statement of its own: the head this transaction
    locked through the session, if any, takes the new values as already stored."""
    cached = session.info.get(_HEAD_CACHE_KEY)
    if cached is not None and cached[0] is session.get_transaction() and cached[1].tenant_id == event.tenant_id:
        set_committed_value(cached[1], "last_seq", event.seq)
        set_committed_value(cached[1], "last_hash", event.hash)


@dataclass(frozen=True, slots=True)
class Entry:
    """One event for `record_all`: the arguments of `record()`."""

    action: str
    entity_type: str
    entity_id: str | uuid.UUID
    changes: dict[str, Any] | None = None
    org_unit_code: str | None = None
    reason: str | None = None
    correlation_id: str | None = None


async def record_all(session: AsyncSession, entries: list[Entry]) -> list[AuditEvent]:
    """Append the events to the current tenant's chain in order, in the caller's transaction, as `record()` would
    one by one, in two statements: the events in one insert, the chain head moved once."""
    if not entries:
        return []
    head = await _locked_head(session)
    if head is None:
        raise RuntimeError("the tenant has no audit chain head; was it provisioned through the service?")
    tenant_id = current_tenant_id(session)
    events: list[AuditEvent] = []
    seq, last_hash = head.last_seq, head.last_hash
    for entry in entries:
        event = chained_event(
            tenant_id,
            seq,
            last_hash,
            action=entry.action,
            entity_type=entry.entity_type,
            entity_id=entry.entity_id,
            changes=entry.changes,
            org_unit_code=entry.org_unit_code,
            reason=entry.reason,
            correlation_id=entry.correlation_id,
        )
        events.append(event)
        seq, last_hash = event.seq, event.hash
    await session.flush()
    try:
        await AuditRepository(session).append_all(events)
    except BaseException:
        session.info.pop(_HEAD_CACHE_KEY, None)  # the head's lock may go with a savepoint: lock it again next time
        raise
    set_committed_value(head, "last_seq", seq)
    set_committed_value(head, "last_hash", last_hash)
    return events


async def record(
    session: AsyncSession,
    *,
    action: str,
    entity_type: str,
    entity_id: str | uuid.UUID,
    changes: dict[str, Any] | None = None,
    org_unit_code: str | None = None,
    reason: str | None = None,
    correlation_id: str | None = None,
) -> AuditEvent:
    """Append one event to the current tenant's chain, in the caller's transaction."""
    head = await _locked_head(session)
    if head is None:
        raise RuntimeError("the tenant has no audit chain head; was it provisioned through the service?")
    event = chained_event(
        current_tenant_id(session),
        head.last_seq,
        head.last_hash,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=changes,
        org_unit_code=org_unit_code,
        reason=reason,
        correlation_id=correlation_id,
    )
    # Pending changes go first, as before; then the event and the head's move in one round trip. The cached head
    # takes the new values as already stored, so the session never flushes an UPDATE of its own for it.
    await session.flush()
    await AuditRepository(session).append(event)
    set_committed_value(head, "last_seq", event.seq)
    set_committed_value(head, "last_hash", event.hash)
    return event


async def record_about(
    session: AsyncSession,
    entity_type: str,
    row: Any,
    action: str,
    changes: dict[str, Any] | None = None,
    *,
    org_unit_code: str | None = None,
    reason: str | None = None,
    correlation_id: str | None = None,
) -> AuditEvent:
    """`record()` for an event about one row of the org tree's domains (a person, a certificate, a request):
    filed under the row's id and its unit (`row.org_unit_code`, unless `org_unit_code` names another)."""
    return await record(
        session,
        action=action,
        entity_type=entity_type,
        entity_id=row.id,
        changes=changes,
        org_unit_code=org_unit_code or row.org_unit_code,
        reason=reason,
        correlation_id=correlation_id,
    )


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The outcome of walking one tenant's chain. `broken_seq`/`broken_id` name the first bad row."""

    events_checked: int
    ok: bool
    broken_seq: int | None = None
    broken_id: uuid.UUID | None = None
    problem: str | None = None


async def verify_chain(session: AsyncSession) -> ChainVerification:
    """Recompute every link of the current tenant's chain and compare it with the stored head."""
    repository = AuditRepository(session)
    tenant_id = current_tenant_id(session)
    expected_prev = genesis_hash(tenant_id)
    expected_seq = 1
    checked = 0
    async for event in repository.stream_chain():
        if event.seq != expected_seq:
            return ChainVerification(
                checked, False, event.seq, event.id, f"sequence gap: expected {expected_seq}, found {event.seq}"
            )
        if event.prev_hash != expected_prev:
            return ChainVerification(
                checked, False, event.seq, event.id, "previous-hash link does not match the preceding event"
            )
        if link_hash(event.prev_hash, event) != event.hash:
            return ChainVerification(checked, False, event.seq, event.id, "content does not match its hash")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = await repository.chain_head()
    if head is None:
        return ChainVerification(checked, False, None, None, "the tenant has no chain head")
    if head.last_seq != checked or head.last_hash != expected_prev:
        return ChainVerification(
            checked, False, checked + 1, None, "the chain head does not match the last event (rows removed?)"
        )
    return ChainVerification(checked, True)
