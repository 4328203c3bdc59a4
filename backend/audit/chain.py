"""The hash chain that makes each tenant's audit log tamper-evident.

Each event's hash is sha256(previous hash + canonical JSON of the event). Changing, removing or inserting
a row breaks every later link; `audit verify` walks the chain and names the first row that does not fit.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from backend.models import AuditEvent

# The first link of every tenant's chain hangs from a fixed value derived from the tenant id, so two
# tenants' chains can never be spliced into each other.
GENESIS_PREFIX = "liuguan-audit-genesis:"

HASHED_FIELDS = (
    "tenant_id",
    "seq",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "actor_label",
    "org_unit_code",
    "action",
    "entity_type",
    "entity_id",
    "changes",
    "reason",
    "correlation_id",
    "request_id",
    "client_addr",
)


def genesis_hash(tenant_id: uuid.UUID) -> str:
    return hashlib.sha256(f"{GENESIS_PREFIX}{tenant_id}".encode()).hexdigest()


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not canonicalisable: {type(value).__name__}")


def canonical_json(event: AuditEvent) -> str:
    """Sorted keys, no insignificant white space, UTF-8 kept as is: the same bytes before and after JSONB."""
    body: dict[str, Any] = {name: getattr(event, name) for name in HASHED_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def link_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical_json(event)).encode()).hexdigest()
