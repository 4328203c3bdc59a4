"""Recurring follow-up: a nightly sweep per instance opens the follow-up cases due in every county.

What the worker registers: `FOLLOWUP_WORKFLOWS`, `followup_activities(database)` and, at start-up,
`ensure_followup_schedules(client, task_queue)`. The rules are in backend/followups/rules.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workflows.followups.schedules import FOLLOWUP_SCHEDULE_ID, ensure_followup_schedules
from workflows.followups.workflows import FollowUpSweepWorkflow

if TYPE_CHECKING:
    from backend.db.engine import Database

FOLLOWUP_WORKFLOWS: list[type] = [FollowUpSweepWorkflow]


def followup_activities(database: Database) -> list[Callable[..., Any]]:
    """The sweep's activities bound to the database (imported here, never inside the workflow sandbox)."""
    from workflows.followups.activities import FollowUpActivities

    activities = FollowUpActivities(database)
    return [activities.list_tenants, activities.plan_due]


__all__ = [
    "FOLLOWUP_SCHEDULE_ID",
    "FOLLOWUP_WORKFLOWS",
    "FollowUpSweepWorkflow",
    "ensure_followup_schedules",
    "followup_activities",
]
