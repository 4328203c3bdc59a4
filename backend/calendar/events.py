"""What the calendar tells the domains built on it (backend/core/events.py): the working days of the
transaction's county changed. Cases and verification subscribe at the composition root (backend/main.py) and
recount their open deadlines in the same transaction; the calendar does not know who listens."""

from __future__ import annotations

import datetime as dt

from backend.core.events import DomainEvent


class WorkingDaysChanged(DomainEvent):
    """Working days changed in the transaction's county from `affected_from` (00:00 China time of the first
    changed date) on: a deadline counted over it may move. `reason` is recorded with each recount."""

    affected_from: dt.datetime
    reason: str
