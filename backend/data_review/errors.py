"""Typed errors of the data review, each carrying its HTTP status."""

from __future__ import annotations

from backend.core.errors import Conflict, NotFound


class EntryReviewNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("待审核条目不存在 / Entry under review not found")


class EntryDecided(Conflict):
    def __init__(self, state: str) -> None:
        labels = {"confirmed": "已确认", "rejected": "已退回"}
        super().__init__(
            f"该条目{labels.get(state, state)}，不能再次审核 / The entry was already {state}", code="ENTRY_DECIDED"
        )
