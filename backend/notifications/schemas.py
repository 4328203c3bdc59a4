"""The event a recipient rule reads, and the notification as the API shows it.

A `NotificationEvent` says what happened, where (the county and the unit of the item) and who is named on the item
(its assignee), never who is to be told: the rule of its kind (backend/notifications/rules.py) decides that in the
recipient's county. It carries the item's number and a link only, never a personal ID number.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from backend.core.schemas import OutputSchema


class NotificationKind(StrEnum):
    """Every event that asks someone to act."""

    case_assigned = "case.assigned"  # the assignee
    inbox_item = "verification.inbox_item"  # the receiving township's officers (its supervisor if it has none)
    answer_received = "verification.answer_received"  # the requesting case's assignee
    reminder = "case.reminder"  # the assignee (the unit's officers while unassigned)
    overdue = "case.overdue"  # the assignee (the unit's officers while unassigned)
    escalation = "case.escalation"  # rung 2: the township supervisor; rung 3: the county supervisor
    triage = "intake.triage"  # the officers who triage the department notification's unit
    entrustment_received = "case.entrustment_received"  # the receiving township's officers and supervisors
    certificate_inspection = "followup.certificate_inspection"  # the person's township officers
    agreement_expiring = "followup.agreement_expiring"  # the officers of the agreement's (its person's) unit
    import_finished = "persons.import_finished"  # the user who started the import
    report_published = "reports.published"  # the supervisors of the units the report covers


KIND_LABELS: dict[NotificationKind, str] = {
    NotificationKind.case_assigned: "案件分配 / Case assigned",
    NotificationKind.inbox_item: "收到协查 / Verification request received",
    NotificationKind.answer_received: "协查已反馈 / Verification answered",
    NotificationKind.reminder: "即将到期 / Due soon",
    NotificationKind.overdue: "已超期 / Overdue",
    NotificationKind.escalation: "超期督办 / Escalation",
    NotificationKind.triage: "部门通知待核 / Department notification to triage",
    NotificationKind.entrustment_received: "收到委托 / Entrustment received",
    NotificationKind.certificate_inspection: "婚育证明年度查验 / Certificate inspection due",
    NotificationKind.agreement_expiring: "协议即将到期 / Agreement expiring",
    NotificationKind.import_finished: "导入完成 / Import finished",
    NotificationKind.report_published: "报表已发布 / Report published",
}


class NotificationEvent(BaseModel):
    """One event: `tenant_id` is the county whose people are to act, `unit_code` the item's unit there."""

    kind: NotificationKind
    tenant_id: uuid.UUID
    unit_code: str = Field(min_length=6, max_length=12)
    assignee_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None  # the case whose assignee is told, looked up in the recipient's county
    actor_id: uuid.UUID | None = None  # who caused the event: not told about her own action
    level: int = 0  # the escalation rung
    reference: str | None = Field(default=None, max_length=40)  # case number or correlation id
    title: str = Field(max_length=300)
    link: str = Field(max_length=300)
    dedup_key: str = Field(max_length=160)  # the event's identity: each person is told once


class NotificationRead(OutputSchema):
    id: uuid.UUID
    kind: str
    title: str
    link: str
    reference: str | None
    created_at: datetime
    read_at: datetime | None


class UnreadCount(OutputSchema):
    unread: int
