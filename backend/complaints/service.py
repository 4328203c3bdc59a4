"""Complaints and reports (投诉举报, seeds-spec P18): recording one, reading it with the complainant kept
confidential, answering it, and the reward of a verified 两非 report.

- **Channels**: the 12356 hotline, mailboxes (举报箱, website), letters, visits, online.
- **Confidentiality** (「保密原则」 [000§F]): the complainant's name and contact are shown only to the handling
  officer (the case's assignee) and the county supervisor (`complaint.identity`); everyone else reads 「保密」, in
  lists too. Each reading of an identity is audited. Anonymous complaints carry none.
- **Prohibited practices**: a complaint naming one (forced return, extra fees or deposits, refusal without reason;
  ticked or found in its words, backend/complaints/practices.py) is flagged.
- **Handling**: the complaint opens a case of the `complaint` type, whose deadline, escalation and assignee are the
  handling's; the outcome and the reply are recorded here, then the case is closed by its officer.
- **两非 reports**: verified ones earn the county's reward (default 10,000 元), paid once and recorded.

Functions take (session, principal, ...), audit every write, flush and never commit.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases import service as cases
from backend.cases.schemas import CaseCreate
from backend.complaints.errors import InvalidComplaint, RewardNotDue
from backend.complaints.practices import named_practices
from backend.complaints.repository import ComplaintFilters, ComplaintRepository
from backend.complaints.schemas import CONFIDENTIAL, ComplaintCreate, ComplaintRead, ComplaintReply, RewardPaid
from backend.core.clock import utc_now
from backend.core.errors import StaleVersion
from backend.county_settings.service import county_settings
from backend.models import Case, Complaint, ComplaintKind

ENTITY_TYPE = ComplaintRepository.entity_type
COMPLAINT_TYPE = "complaint"
ANONYMOUS_NAMED = "匿名投诉不登记姓名和联系方式 / an anonymous complaint records no name nor contact"
TITLES = {ComplaintKind.complaint: "投诉", ComplaintKind.liangfei_report: "“两非”举报"}


def identity_visible(principal: Principal, complaint: Complaint, case: Case) -> bool:
    """Whether the caller may know who complained: the handling officer or the county supervisor."""
    if complaint.anonymous:
        return False
    handling = case.assignee_id is not None and str(case.assignee_id) == principal.id
    return handling or principal.can(Action.complaint_identity, complaint.org_unit_code)


def _read(principal: Principal, complaint: Complaint, case: Case) -> ComplaintRead:
    visible = identity_visible(principal, complaint, case)
    hidden = None if complaint.anonymous else CONFIDENTIAL
    contact = complaint.complainant_contact
    return ComplaintRead(
        id=complaint.id,
        case_id=case.id,
        case_number=case.number,
        case_stage=case.stage.value,
        due_at=case.due_at,
        assignee_id=case.assignee_id,
        kind=complaint.kind,
        channel=complaint.channel,
        received_at=complaint.received_at,
        org_unit_code=complaint.org_unit_code,
        anonymous=complaint.anonymous,
        identity_visible=visible,
        complainant_name=complaint.complainant_name if visible else hidden,
        complainant_contact=contact if visible or contact is None else hidden,
        summary=complaint.summary,
        content=complaint.content,
        practices=list(complaint.practices),
        flagged=bool(complaint.practices),
        outcome=complaint.outcome,
        reply=complaint.reply,
        replied_at=complaint.replied_at,
        verified=complaint.verified,
        reward_amount=complaint.reward_amount,
        reward_paid_on=complaint.reward_paid_on,
        reward_reference=complaint.reward_reference,
        version=complaint.version,
    )


async def _record(
    session: AsyncSession, complaint: Complaint, case: Case, action: str, changes: dict[str, Any]
) -> None:
    await audit.record_about(session, ENTITY_TYPE, complaint, action, changes, correlation_id=case.number)


async def record_complaint(session: AsyncSession, principal: Principal, body: ComplaintCreate) -> ComplaintRead:
    """Record a complaint or report as it came in; its case opens for the handling (deadline, assignee)."""
    if body.anonymous and (body.complainant_name or body.complainant_contact):
        field = "complainant_name" if body.complainant_name else "complainant_contact"
        raise InvalidComplaint(
            field, "匿名投诉不登记姓名和联系方式 / an anonymous complaint records no name nor contact"
        )
    if not body.anonymous and not body.complainant_name:
        raise InvalidComplaint(
            "complainant_name", "请填写投诉人姓名，或选择匿名 / give the complainant's name, or mark it anonymous"
        )
    received_at = body.received_at or utc_now()
    if received_at.tzinfo is None:
        raise InvalidComplaint("received_at", "需要带时区的时间 / a time with a time zone is required")
    if received_at > utc_now():
        raise InvalidComplaint("received_at", "收到时间不能晚于现在 / the time received cannot be in the future")
    # Its handling deadline is counted in working days from this moment: a year back is as far as a complaint
    # recorded late can go (the calendar, and the statute's clock, know nothing of a date centuries ago).
    if received_at < utc_now() - timedelta(days=366):
        raise InvalidComplaint("received_at", "收到时间不能早于一年前 / received more than a year ago")
    practices = named_practices(list(body.practices), body.summary, body.content)
    case = await cases.open_case(
        session,
        principal,
        CaseCreate(
            case_type=COMPLAINT_TYPE,
            org_unit_code=body.org_unit_code,
            # The title never names the complainant: the case list is read by everyone in reach.
            title=f"{TITLES[body.kind]}：{body.summary}"[:200],
            received_at=received_at,
            details={"complaint": {"channel": body.channel.value, "flagged": bool(practices)}},
        ),
    )
    repository = ComplaintRepository(session)
    complaint = Complaint(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        case_id=case.id,
        kind=body.kind,
        channel=body.channel,
        received_at=received_at,
        org_unit_code=case.org_unit_code,
        anonymous=body.anonymous,
        complainant_name=body.complainant_name,
        complainant_contact=body.complainant_contact,
        summary=body.summary,
        content=body.content,
        practices=practices,
        created_by=principal.subject,
    )
    repository.add(complaint)
    await repository.flush()
    # The audit trail keeps that an identity was given, never the identity itself.
    after = {
        "kind": body.kind.value,
        "channel": body.channel.value,
        "anonymous": body.anonymous,
        "complainant": None if body.anonymous else CONFIDENTIAL,
        "practices": practices,
    }
    await _record(session, complaint, case, "complaint.record", audit.diff(None, after))
    return _read(principal, complaint, case)


async def get_complaint(
    session: AsyncSession, principal: Principal, complaint_id: uuid.UUID, action: Action
) -> tuple[Complaint, Case]:
    """The complaint and its case if the caller may perform `action` on its unit; 404 otherwise."""
    repository = ComplaintRepository(session)
    complaint = await repository.get_in_reach(principal, action, complaint_id)
    return await repository.with_case(complaint.id)


async def read_complaint(session: AsyncSession, principal: Principal, complaint_id: uuid.UUID) -> ComplaintRead:
    """One complaint as the caller may see it; a reading of the complainant's identity is audited."""
    complaint, case = await get_complaint(session, principal, complaint_id, Action.case_read)
    read = _read(principal, complaint, case)
    if read.identity_visible:
        await _record(session, complaint, case, "complaint.identity_read", {})
    return read


async def complaint_register(
    session: AsyncSession, principal: Principal, filters: ComplaintFilters, *, offset: int, limit: int
) -> tuple[list[ComplaintRead], int]:
    """One page of the complaint register in the caller's reach, identities masked as for a single read."""
    rows, total = await ComplaintRepository(session).register(filters, offset=offset, limit=limit)
    return [_read(principal, complaint, case) for complaint, case in rows], total


def _check_version(complaint: Complaint, version: int) -> None:
    if complaint.version != version:
        raise StaleVersion(current={"version": complaint.version})


async def reply_to_complaint(
    session: AsyncSession, principal: Principal, complaint_id: uuid.UUID, body: ComplaintReply
) -> ComplaintRead:
    """Record the outcome and the reply (and, for a report, whether it was verified), audited."""
    complaint, case = await get_complaint(session, principal, complaint_id, Action.case_write)
    _check_version(complaint, body.version)
    if complaint.kind is ComplaintKind.liangfei_report and body.verified is None:
        raise InvalidComplaint("verified", "请说明举报是否经查实 / say whether the report was verified")
    if complaint.kind is ComplaintKind.complaint and body.verified is not None:
        raise InvalidComplaint("verified", "只有“两非”举报须说明是否查实 / only 两非 reports are verified")
    if complaint.reward_paid_on is not None:
        raise RewardNotDue("奖励已发放，结果不能再更改 / the reward was paid: the outcome can no longer change")
    before = {"outcome": complaint.outcome, "reply": complaint.reply, "verified": complaint.verified}
    complaint.outcome, complaint.reply, complaint.verified = body.outcome, body.reply, body.verified
    complaint.replied_at = utc_now() if body.reply else complaint.replied_at
    if body.verified:
        complaint.reward_amount = (await county_settings(session)).report_reward
    else:
        complaint.reward_amount = None
    await ComplaintRepository(session).flush()
    after = {"outcome": body.outcome, "reply": body.reply, "verified": body.verified}
    await _record(session, complaint, case, "complaint.reply", audit.diff(before, after))
    return _read(principal, complaint, case)


async def pay_report_reward(
    session: AsyncSession, principal: Principal, complaint_id: uuid.UUID, body: RewardPaid
) -> ComplaintRead:
    """Record the payment of a verified report's reward (once), audited."""
    complaint, case = await get_complaint(session, principal, complaint_id, Action.case_write)
    _check_version(complaint, body.version)
    if complaint.kind is not ComplaintKind.liangfei_report or not complaint.verified:
        raise RewardNotDue("只有经查实的“两非”举报才发放奖励 / only a verified 两非 report earns a reward")
    if complaint.reward_paid_on is not None:
        raise RewardNotDue("奖励已发放 / the reward was already paid")
    complaint.reward_paid_on, complaint.reward_reference = body.paid_on, body.reference
    await ComplaintRepository(session).flush()
    changes = {"reward_paid_on": body.paid_on, "reward_amount": complaint.reward_amount, "reference": body.reference}
    await _record(session, complaint, case, "complaint.reward_paid", audit.diff(None, changes))
    return _read(principal, complaint, case)
