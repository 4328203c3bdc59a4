"""A case's timeline for auditors: its audit events merged, in time order, with its Temporal workflow history
(timers fired, activities run, updates with who sent them). The database says what the case is; the
workflow history says what happened when, and who asked for it."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from google.protobuf.json_format import MessageToDict
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.service import RPCError

from backend.audit.repository import AuditRepository
from backend.models import Case

log = logging.getLogger(__name__)


class TimelineEntry(BaseModel):
    at: datetime
    source: str  # "audit" | "workflow"
    kind: str
    summary: str
    actor: str | None = None
    details: dict[str, Any] = {}


class Timeline(BaseModel):
    case_id: str
    workflow_id: str
    workflow_history_available: bool
    entries: list[TimelineEntry]


_SHOWN_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "流程启动 / workflow started",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "流程结束 / workflow completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "流程失败 / workflow failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "流程续期 / continued as new",
    EventType.EVENT_TYPE_TIMER_STARTED: "计时开始 / timer started",
    EventType.EVENT_TYPE_TIMER_FIRED: "计时到期 / timer fired",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "任务安排 / activity scheduled",
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "任务完成 / activity completed",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "任务失败 / activity failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "收到操作 / action received",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: "操作完成 / action completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "收到通知 / signal received",
}


def _payload_json(payloads: Any) -> Any:
    """Decode JSON payloads (the pydantic converter writes JSON) without running any application code."""
    values = []
    for payload in getattr(payloads, "payloads", []) or []:
        try:
            values.append(json.loads(payload.data))
        except (ValueError, UnicodeDecodeError):
            values.append(None)
    return values[0] if len(values) == 1 else values


def _workflow_entry(event: HistoryEvent) -> TimelineEntry | None:
    label = _SHOWN_EVENTS.get(event.event_type)
    if label is None:
        return None
    at = event.event_time.ToDatetime(tzinfo=UTC)
    details: dict[str, Any] = {"event_id": event.event_id}
    actor = None
    kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        details["activity"] = event.activity_task_scheduled_event_attributes.activity_type.name
    elif event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
        timeout = event.timer_started_event_attributes.start_to_fire_timeout
        details["fires_in_seconds"] = timeout.seconds
    elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        details["update"] = request.input.name
        update_input = _payload_json(request.input.args)
        if isinstance(update_input, dict):
            details["action"] = update_input.get("action")
            details["reason"] = update_input.get("reason")
            actor = (update_input.get("actor") or {}).get("label")
    elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
        outcome = event.workflow_execution_update_completed_event_attributes.outcome
        details["result"] = _payload_json(outcome.success) if outcome.HasField("success") else None
        if outcome.HasField("failure"):
            details["failure"] = MessageToDict(outcome.failure).get("message")
    elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        details["signal"] = event.workflow_execution_signaled_event_attributes.signal_name
    return TimelineEntry(at=at, source="workflow", kind=kind, summary=label, actor=actor, details=details)


async def case_timeline(session: AsyncSession, client: Client | None, case: Case, workflow_id: str) -> Timeline:
    """Audit events and workflow events of the case, oldest first. Without Temporal the audit part is shown
    and `workflow_history_available` says the rest is missing."""
    entries = [
        TimelineEntry(
            at=event.occurred_at,
            source="audit",
            kind=event.action,
            summary=event.action,
            actor=event.actor_label,
            details={"changes": event.changes, "reason": event.reason, "seq": event.seq},
        )
        for event in await AuditRepository(session).list_for_entity("case", str(case.id))
    ]
    available = False
    if client is not None:
        try:
            async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
                entry = _workflow_entry(event)
                if entry is not None:
                    entries.append(entry)
            available = True
        except RPCError as error:
            log.warning("workflow history unavailable", extra={"workflow_id": workflow_id, "error": str(error)})
    entries.sort(key=lambda entry: (entry.at, entry.source))
    return Timeline(
        case_id=str(case.id), workflow_id=workflow_id, workflow_history_available=available, entries=entries
    )
