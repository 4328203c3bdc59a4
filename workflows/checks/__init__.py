"""Check rounds (三查): the watch of each county's round window, which settles its missed rounds when it has ended
(backend/checks/settlement.py). Started through the outbox (`check_rounds.watch`) by the first round of a window
the nightly sweep opens; runs on the case worker.

What the worker registers: `CHECK_WORKFLOWS` and `check_activities(database)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workflows.checks.workflows import CheckRoundsWatchWorkflow

if TYPE_CHECKING:
    from backend.db.engine import Database

CHECK_WORKFLOWS: list[type] = [CheckRoundsWatchWorkflow]


def check_activities(database: Database) -> list[Callable[..., Any]]:
    """The watch's activity bound to the database (imported here, never inside the workflow sandbox)."""
    from workflows.checks.activities import CheckActivities

    return [CheckActivities(database).settle]


__all__ = ["CHECK_WORKFLOWS", "CheckRoundsWatchWorkflow", "check_activities"]
