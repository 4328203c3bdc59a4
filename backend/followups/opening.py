"""Opening one follow-up case, once: what every kind of follow-up shares, whoever opens it (the nightly sweep, a
missed check round's escalation, a return home recorded by a coordinator).

A follow-up is identified by its `followup_key` (kind, subject and period), kept in `Case.details`: a case is
opened at most once per key. Opening takes a transaction-scoped advisory lock per county and checks the keys again
under it, so retried activities and overlapping sweeps never open a case twice. Cases are opened through
`backend.cases.service.open_case` (numbered, audited, the case workflow started through the outbox); the case's due
date is then set to the follow-up's own (end of that day, China time) and audited.

Functions flush, never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal, ScopedRole
from backend.authz.vocabulary import Role
from backend.cases.schemas import Arrival, ArrivalChannel, CaseCreate, CaseSubjectIn
from backend.cases.service import open_case, record
from backend.core.clock import end_of_day
from backend.followups.repository import FollowUpRepository
from backend.followups.rules import CASE_TYPE_FOR_KIND, FollowUpKind, followup_key
from backend.models import Case, CasePriority, Tenant
from backend.notifications import events
from backend.notifications.service import notify
from backend.org.repository import OrgUnitRepository

FOLLOWUP_KEY = "followup_key"
DUE_ACTION = "case.followup_due"
PLANNER_ID = "followup-planner"
PLANNER_LABEL = "随访计划 / follow-up planner"
KEY_LOOKUP_CHUNK = 1000

TITLES: dict[FollowUpKind, str] = {
    FollowUpKind.certificate_inspection: "婚育证明年度查验",
    FollowUpKind.certificate_renewal: "婚育证明到期换领提醒",
    FollowUpKind.check_round: "孕情环情检查",
    FollowUpKind.mail_back_notice: "限期寄回三查证明通知",
    FollowUpKind.postpartum_visit: "产后随访",
    FollowUpKind.agreement_renewal: "协议到期续签",
    FollowUpKind.pill_user_visit: "服药对象随访",
    FollowUpKind.post_procedure_visit: "术后随访",
    FollowUpKind.returned_migrant_visit: "返乡人员随访",
    FollowUpKind.missed_checks_visit: "三查不到位上门服务",
}


@dataclass(frozen=True, slots=True)
class FollowUpDue:
    """One follow-up that should have a case as of the planning day."""

    kind: FollowUpKind
    key: str
    person_id: uuid.UUID
    person_name: str
    org_unit_code: str
    due: date
    title: str
    details: dict[str, Any] = field(default_factory=dict)
    priority: CasePriority = CasePriority.normal

    @property
    def case_type(self) -> str:
        """The case type a follow-up of this kind opens."""
        return CASE_TYPE_FOR_KIND[self.kind]


def make_due(
    kind: FollowUpKind,
    ref: object,
    period: str,
    person: tuple[uuid.UUID, str, str],
    due: date,
    details: dict[str, Any],
    *,
    title: str | None = None,
    title_note: str = "",
    priority: CasePriority = CasePriority.normal,
) -> FollowUpDue:
    """A follow-up of `kind` about `ref` (a certificate, a person, an agreement) for `period`, for the person
    (id, name, unit); titled "<kind><note>：<name>" unless `title` is given."""
    person_id, name, unit = person
    return FollowUpDue(
        kind=kind,
        key=followup_key(kind, ref, period),
        person_id=person_id,
        person_name=name,
        org_unit_code=unit,
        due=due,
        title=title or f"{TITLES[kind]}{title_note}：{name}",
        details=details,
        priority=priority,
    )


def planner_principal(tenant: Tenant) -> Principal:
    """The follow-up planner: reads persons and opens cases anywhere in the county, nothing else.

    `Principal` has no system kind; the planner is an API-client-like principal whose grant is a county
    officer's (case work over the whole county). Its audit events carry the system actor.
    """
    return Principal(
        kind="api_client",
        id=PLANNER_ID,
        label=PLANNER_LABEL,
        tenant_id=tenant.id,
        tenant_code=tenant.code,
        org_unit_code=tenant.code,
        roles=(ScopedRole(Role.county_officer, tenant.code),),
    )


async def lock_county_followups(session: AsyncSession) -> None:
    """Serialise follow-up opening in this county until the transaction ends (overlapping sweeps, retries)."""
    await FollowUpRepository(session).lock_county()


def _chunks(items: Sequence[FollowUpDue], size: int) -> Iterable[Sequence[FollowUpDue]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def existing_followup_keys(session: AsyncSession, dues: Sequence[FollowUpDue]) -> set[str]:
    """The keys among `dues` that already have a case (open or closed), found through the subjects' index."""
    repository = FollowUpRepository(session)
    found: set[str] = set()
    wanted = {due.key for due in dues}
    for chunk in _chunks(dues, KEY_LOOKUP_CHUNK):
        keys = await repository.followup_keys(
            FOLLOWUP_KEY, (due.person_id for due in chunk), (due.case_type for due in chunk)
        )
        found.update(keys & wanted)
    return found


async def active_unit_codes(session: AsyncSession) -> set[str]:
    """The county's active org units: a follow-up of a person kept by a closed unit cannot be opened."""
    return {unit.code for unit in await OrgUnitRepository(session).list_under_roots([""])}


async def open_followup_case(session: AsyncSession, principal: Principal, due: FollowUpDue) -> Case:
    """Open the case of one follow-up (the caller checked its key is new, under the county's lock) and give it the
    follow-up's own due date."""
    # Received now, on the platform: nobody brought it in; the system raised it from the registry.
    case = await open_case(
        session,
        principal,
        CaseCreate(
            case_type=due.case_type,
            org_unit_code=due.org_unit_code,
            title=due.title[:200],
            priority=due.priority,
            subjects=[CaseSubjectIn(person_id=due.person_id)],
            arrival=Arrival(channel=ArrivalChannel.platform),
            details=due.details | {FOLLOWUP_KEY: due.key, "followup_kind": due.kind.value, "due": due.due.isoformat()},
        ),
    )
    due_at = end_of_day(due.due)
    if case.due_at != due_at or case.due_provisional:
        before = case.due_at
        case.due_at, case.due_provisional = due_at, False
        await session.flush()
        changes = {"due_at": [before, due_at], "version": [case.version - 1, case.version]}
        await record(session, case, DUE_ACTION, changes, reason="随访计划的到期日 / the follow-up's own due date")
    event = events.followup_opened(case, due.kind.value)
    if event is not None:
        await notify(session, event)
    return case


async def open_once(session: AsyncSession, principal: Principal, due: FollowUpDue) -> Case | None:
    """Open `due`'s case unless its key already has one (under the county's lock); None when it had."""
    await lock_county_followups(session)
    if await existing_followup_keys(session, [due]):
        return None
    return await open_followup_case(session, principal, due)
