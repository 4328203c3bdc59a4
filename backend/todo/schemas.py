"""The to-do list as the API answers it: each item's kind, due moment, number, title and link, and the count of
each kind (the header's figure and the dashboard's tiles)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from backend.core.schemas import OutputSchema


class TodoKind(StrEnum):
    """What an item is (the conditions are in backend/todo/repository.py)."""

    case = "case"  # 分给我的案件: an open case assigned to me
    escalated = "escalated"  # 超期督办: an overdue case escalated to me (a supervisor)
    inbox = "inbox"  # 待反馈协查: a verification request or notice to answer
    triage = "triage"  # 待核实通报: a department notification to triage
    followup = "followup"  # 到期随访与换证: a follow-up or renewal case nobody took yet
    signoff = "signoff"  # 待我签字: a review or signature step I may give
    unassigned = "unassigned"  # 待领取案件: an open case of my township nobody took yet


KIND_LABELS: dict[TodoKind, str] = {
    TodoKind.case: "分给我的案件 / Cases assigned to me",
    TodoKind.escalated: "超期督办 / Overdue cases escalated to me",
    TodoKind.inbox: "待反馈协查 / Verification requests to answer",
    TodoKind.triage: "待核实通报 / Department notifications to triage",
    TodoKind.followup: "到期随访与换证 / Follow-ups and renewals due",
    TodoKind.signoff: "待我签字 / Signatures waiting for me",
    TodoKind.unassigned: "待领取案件 / Open cases nobody took yet",
}


class TodoItem(OutputSchema):
    kind: TodoKind
    item_id: uuid.UUID
    reference: str  # the case number or the request's correlation id
    title: str
    link: str
    due_at: datetime | None
    overdue: bool


class TodoCounts(BaseModel):
    case: int = 0
    escalated: int = 0
    inbox: int = 0
    triage: int = 0
    followup: int = 0
    signoff: int = 0
    unassigned: int = 0

    @property
    def total(self) -> int:
        return self.case + self.escalated + self.inbox + self.triage + self.followup + self.signoff + self.unassigned


class TodoList(OutputSchema):
    total: int
    counts: TodoCounts
    items: list[TodoItem]
    truncated: bool  # more items of a kind than one list shows (LIMIT_PER_KIND); the counts are exact
