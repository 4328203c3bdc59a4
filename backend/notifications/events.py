"""The events of the other domains as the recipient rules read them: built from the row the event is about, with
the item's number and a link and nothing personal (no ID number, no name). Each domain's service calls
`notify(session, events.<event>(...))` where the event happens."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from backend.core.context import actor_var
from backend.models import Case, CaseEntrustment, StatisticalReport, VerificationRequest
from backend.notifications.schemas import NotificationEvent, NotificationKind


def _actor_id() -> uuid.UUID | None:
    actor = actor_var.get()
    if actor.kind != "user":
        return None
    try:
        return uuid.UUID(actor.id)
    except ValueError:
        return None


def case_assigned(case: Case) -> NotificationEvent:
    """The case was given to `case.assignee_id` (by someone else)."""
    return NotificationEvent(
        kind=NotificationKind.case_assigned,
        tenant_id=case.tenant_id,
        unit_code=case.org_unit_code,
        assignee_id=case.assignee_id,
        actor_id=_actor_id(),
        reference=case.number,
        title=f"案件{case.number}已分配给您 / case {case.number} was assigned to you",
        link=f"/cases/{case.id}",
        dedup_key=f"case.assigned:{case.id}:{case.assignee_id}:{case.version}",
    )


def case_alert(case: Case, kind: str, level: int, deadline_key: str, message: str) -> NotificationEvent:
    """A rung of the case's deadline ladder (reminder, overdue, escalation) was raised."""
    return NotificationEvent(
        kind=NotificationKind(f"case.{kind}"),
        tenant_id=case.tenant_id,
        unit_code=case.org_unit_code,
        assignee_id=case.assignee_id,
        level=level,
        reference=case.number,
        title=message[:300],
        link=f"/cases/{case.id}",
        dedup_key=f"case.{kind}:{case.id}:{deadline_key}:{level}"[:160],
    )


def inbox_item(row: VerificationRequest) -> NotificationEvent:
    """A request or notice arrived in the responder county's inbox."""
    assert row.responder_tenant_id is not None
    noun = ("协查", "verification request") if row.kind.value == "request" else ("通报", "notice")
    return NotificationEvent(
        kind=NotificationKind.inbox_item,
        tenant_id=row.responder_tenant_id,
        unit_code=row.responder_unit_code,
        assignee_id=row.responder_assignee_id,
        reference=row.correlation_id,
        title=(
            f"收到{row.requester_unit_name}的{noun[0]}{row.correlation_id} / {noun[1]} {row.correlation_id} received"
        )[:300],
        link=f"/verification/inbox?q={quote(row.correlation_id)}",
        dedup_key=inbox_item_key(row),
    )


def inbox_item_key(row: VerificationRequest) -> str:
    """The identity of the event "this request arrived": its notifications are cleared once it is answered."""
    return f"verification.inbox:{row.id}"


def answer_received(row: VerificationRequest) -> NotificationEvent | None:
    """The responder answered (or sent back) a request: told in the requesting county, to the assignee of the
    request's case (looked up there: the responder cannot read the requester's case). None for a request from
    off the platform, which has no case here."""
    if row.case_id is None or row.requester_unit_code is None:
        return None
    verb = ("已反馈", "answered") if row.state.value == "answered" else ("已退回", "sent back")
    return NotificationEvent(
        kind=NotificationKind.answer_received,
        tenant_id=row.tenant_id,
        unit_code=row.requester_unit_code,
        case_id=row.case_id,
        actor_id=_actor_id() if row.tenant_id == row.responder_tenant_id else None,
        reference=row.correlation_id,
        title=f"协查{row.correlation_id}{verb[0]} / request {row.correlation_id} {verb[1]}",
        link=f"/verification/outbox?q={quote(row.correlation_id)}",
        dedup_key=f"verification.answer:{row.id}",
    )


def triage(case: Case) -> NotificationEvent:
    """A department notification was routed here and waits for triage (its triage case)."""
    return NotificationEvent(
        kind=NotificationKind.triage,
        tenant_id=case.tenant_id,
        unit_code=case.org_unit_code,
        reference=case.number,
        title=f"部门通知待核实（{case.number}）/ department notification to triage ({case.number})",
        link="/triage",
        dedup_key=f"intake.triage:{case.id}",
    )


def entrustment_received(row: CaseEntrustment) -> NotificationEvent:
    """A township entrusted a case to the receiving township (委托, P21): its officers and supervisors decide it."""
    return NotificationEvent(
        kind=NotificationKind.entrustment_received,
        tenant_id=row.tenant_id,
        unit_code=row.to_unit_code,
        actor_id=_actor_id(),
        reference=row.case_number,
        title=f"收到委托案件{row.case_number} / case {row.case_number} entrusted to you",
        link="/entrustments",
        dedup_key=entrustment_key(row),
    )


def entrustment_key(row: CaseEntrustment) -> str:
    """The identity of the event "this hand-over arrived": its notifications are cleared once it is decided."""
    return f"entrustment.received:{row.id}"


FOLLOWUP_EVENTS = {
    "certificate_inspection": (NotificationKind.certificate_inspection, "婚育证明年度查验", "inspection due"),
    "agreement_renewal": (NotificationKind.agreement_expiring, "协议即将到期，请续签", "agreement expiring"),
}


def followup_opened(case: Case, followup_kind: str) -> NotificationEvent | None:
    """The follow-up sweep opened the case of a certificate's yearly inspection or an expiring agreement's renewal
    (None for the other follow-ups, which tell nobody yet)."""
    known = FOLLOWUP_EVENTS.get(followup_kind)
    if known is None:
        return None
    kind, zh, en = known
    return NotificationEvent(
        kind=kind,
        tenant_id=case.tenant_id,
        unit_code=case.org_unit_code,
        reference=case.number,
        title=f"{zh}（{case.number}）/ {en} ({case.number})",
        link=f"/cases/{case.id}",
        dedup_key=f"{kind.value}:{case.id}",
    )


def import_finished(
    tenant_id: uuid.UUID, unit_code: str, user_id: uuid.UUID, import_id: uuid.UUID, counts: dict[str, int]
) -> NotificationEvent:
    """A person import the user started has finished (told to her, though she caused it)."""
    figures = (counts.get("created", 0), counts.get("updated", 0), counts.get("rejected", 0))
    return NotificationEvent(
        kind=NotificationKind.import_finished,
        tenant_id=tenant_id,
        unit_code=unit_code,
        assignee_id=user_id,
        reference=str(import_id),
        title="人员导入完成：新建{}、更新{}、未导入{} / import finished: {} created, {} updated, {} rejected".format(
            *figures, *figures
        ),
        link="/persons",
        dedup_key=f"persons.import:{import_id}",
    )


def report_published(report: StatisticalReport) -> NotificationEvent:
    """A statistical report version was published (frozen) for a unit and period."""
    return NotificationEvent(
        kind=NotificationKind.report_published,
        tenant_id=report.tenant_id,
        unit_code=report.org_unit_code,
        actor_id=_actor_id(),
        reference=report.period_key,
        title=(
            f"报表已发布：{report.title}（{report.period_key}，第{report.version_number}版）/ report published: "
            f"{report.period_key}, version {report.version_number}"
        )[:300],
        link=f"/reports/published/{report.id}",
        dedup_key=f"reports.published:{report.id}",
    )
