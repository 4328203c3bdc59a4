from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from backend.core.schemas import OutputSchema


class AuditEventRead(OutputSchema):
    id: uuid.UUID
    seq: int
    occurred_at: datetime
    actor_kind: str
    actor_id: str
    actor_label: str
    org_unit_code: str | None
    action: str
    entity_type: str
    entity_id: str
    changes: dict[str, Any]
    reason: str | None
    correlation_id: str | None
    request_id: str | None


class ChainVerificationRead(OutputSchema):
    ok: bool
    events_checked: int
    broken_seq: int | None
    problem: str | None
