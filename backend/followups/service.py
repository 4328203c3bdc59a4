"""Recurring follow-up in one county: read the rules, find what is due on a day, open each due case once.

Called by the follow-up sweep's activities (workflows/followups/activities.py) in the county's own
transactions (row-level security set by the caller); the rules themselves are in backend/followups/rules.py.

Each follow-up is opened at most once per `followup_key` (subject, kind and period, kept in
`Case.details["followup_key"]`). Opening takes a transaction-scoped advisory lock per county and checks the
keys again under it, so retried activities and overlapping sweeps never open a case twice. Cases are opened
through `backend.cases.service.open_case` (numbered, audited, the case workflow started through the outbox)
as the follow-up planner, a system principal with case work over the whole county; the case's due date is
then set to the follow-up's own (end of that day, China time) and audited.

Functions flush, never commit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal, ScopedRole
from backend.authz.vocabulary import Role
from backend.case_types.repository import CaseTypeConfigRepository
from backend.case_types.service import effective_case_types
from backend.cases.schemas import Arrival, ArrivalChannel, CaseCreate, CaseSubjectIn
from backend.cases.service import open_case, record
from backend.core.clock import end_of_day
from backend.followups.repository import FollowUpRepository
from backend.followups.rules import (
    CASE_TYPE_FOR_KIND,
    RULES_CONFIG_CODE,
    FollowUpKind,
    FollowUpRules,
    agreement_renewal_due,
    birth_date_bounds,
    check_round_window,
    followup_key,
    inspection_due,
    mail_back_notice,
    postpartum_birth_bounds,
    postpartum_visit_due,
    renewal_due,
    rules_from_override,
)
from backend.models import Case, CertificateStatus, FlowDirection, Tenant
from backend.org.repository import OrgUnitRepository

log = logging.getLogger(__name__)

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

    @property
    def case_type(self) -> str:
        """The case type a follow-up of this kind opens."""
        return CASE_TYPE_FOR_KIND[self.kind]


@dataclass
class OpenOutcome:
    """What one batch did: cases opened per kind, dues that already had their case, dues that could not open."""

    opened: dict[FollowUpKind, int] = field(default_factory=dict)
    already_open: int = 0
    skipped: int = 0


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


# --- the county's rules ----------------------------------------------------------------------------------


async def load_rules(session: AsyncSession) -> FollowUpRules | None:
    """The county's rules (defaults with its `followup_rules` override); None when it switched follow-up off.

    Raises InvalidFollowUpRules when the saved override cannot be read.
    """
    row = await CaseTypeConfigRepository(session).by_code(RULES_CONFIG_CODE)
    if row is None:
        return rules_from_override(None)
    if row.enabled is False:
        return None
    return rules_from_override(row.overrides)


def enabled_kinds(rules: FollowUpRules, enabled_case_types: set[str]) -> set[FollowUpKind]:
    """The kinds switched on by the rules whose case type the county has not disabled."""
    switched_on = {
        FollowUpKind.certificate_inspection: rules.inspection_enabled,
        FollowUpKind.certificate_renewal: rules.renewal_enabled,
        FollowUpKind.check_round: rules.check_rounds_enabled,
        FollowUpKind.mail_back_notice: rules.mail_back_enabled,
        FollowUpKind.postpartum_visit: rules.postpartum_visit_enabled,
        FollowUpKind.agreement_renewal: rules.agreement_renewal_enabled,
    }
    return {kind for kind, on in switched_on.items() if on and CASE_TYPE_FOR_KIND[kind] in enabled_case_types}


async def enabled_case_type_codes(session: AsyncSession) -> set[str]:
    """The case types the county has enabled (shipped defaults merged with its case-type overrides)."""
    return {code for code, definition in (await effective_case_types(session)).items() if definition.enabled}


# --- what is due -----------------------------------------------------------------------------------------


def _due(
    kind: FollowUpKind,
    ref: object,
    period: str,
    person: tuple[uuid.UUID, str, str],
    due: date,
    details: dict[str, Any],
    *,
    title: str | None = None,
    title_note: str = "",
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
    )


async def _certificate_dues(
    repository: FollowUpRepository, day: date, rules: FollowUpRules, kinds: set[FollowUpKind]
) -> list[FollowUpDue]:
    """Inspections and renewal reminders of the certificates not superseded, held by active persons."""
    dues: list[FollowUpDue] = []
    for row in await repository.certificates():
        cert_id, number, issued_on, valid_until, permanent, status, unit = row[:7]
        person_id, name, flow, arrived_on, last = row[7:]
        holder = (person_id, name, unit)
        in_force = status is CertificateStatus.valid and (permanent or (valid_until is not None and valid_until >= day))
        certificate = {"certificate_id": str(cert_id), "certificate_number": number}
        if FollowUpKind.certificate_inspection in kinds and in_force and flow is not FlowDirection.outflow:
            due = inspection_due(
                last_inspected_on=last,
                arrived_on=arrived_on,
                issued_on=issued_on,
                valid_until=valid_until,
                permanent=permanent,
                day=day,
                rules=rules,
            )
            if due is not None:
                inspected = {"last_inspected_on": last.isoformat() if last else None, "first_inspection": last is None}
                kind = FollowUpKind.certificate_inspection
                dues.append(_due(kind, cert_id, due.isoformat(), holder, due, certificate | inspected))
        if FollowUpKind.certificate_renewal in kinds:
            due = renewal_due(valid_until=valid_until, permanent=permanent, day=day, rules=rules)
            if due is not None:
                details = certificate | {"valid_until": due.isoformat()}
                dues.append(_due(FollowUpKind.certificate_renewal, cert_id, due.isoformat(), holder, due, details))
    return dues


async def _women_dues(
    repository: FollowUpRepository, day: date, rules: FollowUpRules, kinds: set[FollowUpKind]
) -> list[FollowUpDue]:
    """Check rounds (women living here) and mail-back notices (out-migrant women): married, in the age band."""
    wants_rounds = FollowUpKind.check_round in kinds
    notice = mail_back_notice(day, rules.mail_back_lead_months) if FollowUpKind.mail_back_notice in kinds else None
    if not wants_rounds and notice is None:
        return []
    dues: list[FollowUpDue] = []
    for person_id, name, unit, flow, key_subject in await repository.married_women(
        *birth_date_bounds(day, rules.min_age, rules.max_age)
    ):
        woman = (person_id, name, unit)
        if flow is FlowDirection.outflow:
            if notice is None:
                continue
            details: dict[str, Any] = {
                "task": "mail_back_check_report",
                "note": "通知本人在季度末前寄回孕情环情检查报告单 / "
                "notify her to mail back the check report before the quarter ends",
                "quarter": notice.period,
                "notice_from": notice.opens_on.isoformat(),
            }
            note = f"（{notice.year}年第{notice.quarter}季度）"
            dues.append(
                _due(
                    FollowUpKind.mail_back_notice, person_id, notice.period, woman, notice.due, details, title_note=note
                )
            )
        elif wants_rounds:
            window = check_round_window(day, rules.rounds_per_year(key_subject))
            details = {
                "round": window.round,
                "rounds_per_year": window.rounds,
                "year": window.year,
                "window_start": window.start.isoformat(),
                "key_subject": key_subject,
            }
            note = f"（{window.year}年第{window.round}/{window.rounds}轮）"
            dues.append(
                _due(FollowUpKind.check_round, person_id, window.period, woman, window.end, details, title_note=note)
            )
    return dues


async def _postpartum_dues(repository: FollowUpRepository, day: date, rules: FollowUpRules) -> list[FollowUpDue]:
    """Postpartum visits of women living here whose child was born inside the planning window."""
    dues: dict[str, FollowUpDue] = {}
    for person_id, name, unit, birth_date, birth_order in await repository.births(*postpartum_birth_bounds(day, rules)):
        due = postpartum_visit_due(birth_date, day, rules)
        if due is None:
            continue
        details = {"visit": "postpartum", "child_birth_date": birth_date.isoformat(), "birth_order": birth_order}
        note = f"（产后{rules.postpartum_visit_days}天）"
        visit = _due(
            FollowUpKind.postpartum_visit,
            person_id,
            birth_date.isoformat(),
            (person_id, name, unit),
            due,
            details,
            title_note=note,
        )
        # Twins share a birth date, and so one visit.
        dues[visit.key] = visit
    return list(dues.values())


async def _agreement_dues(repository: FollowUpRepository, day: date, rules: FollowUpRules) -> list[FollowUpDue]:
    """Renewal reminders of the agreements concerning a person that end inside the lead window."""
    dues: list[FollowUpDue] = []
    for agreement_id, title, valid_until, person_id, name, unit in await repository.agreements_ending(
        day, day + timedelta(days=rules.agreement_renewal_lead_days)
    ):
        due = agreement_renewal_due(valid_until, day, rules)
        if due is None or valid_until is None:  # pragma: no cover - the query selects the same window
            continue
        kind = FollowUpKind.agreement_renewal
        details = {"agreement_id": str(agreement_id), "valid_until": valid_until.isoformat()}
        dues.append(
            _due(
                kind,
                person_id,
                f"{agreement_id}:{valid_until}",
                (person_id, name, unit),
                due,
                details,
                title=f"{TITLES[kind]}：{title}（{name}）",
            )
        )
    return dues


async def plan_followups(
    session: AsyncSession, day: date, rules: FollowUpRules, kinds: set[FollowUpKind]
) -> list[FollowUpDue]:
    """Every follow-up of the given kinds that should have a case in this county on `day`."""
    repository = FollowUpRepository(session)
    dues: list[FollowUpDue] = []
    if kinds & {FollowUpKind.certificate_inspection, FollowUpKind.certificate_renewal}:
        dues += await _certificate_dues(repository, day, rules, kinds)
    dues += await _women_dues(repository, day, rules, kinds)
    if FollowUpKind.postpartum_visit in kinds:
        dues += await _postpartum_dues(repository, day, rules)
    if FollowUpKind.agreement_renewal in kinds:
        dues += await _agreement_dues(repository, day, rules)
    return dues


# --- opening each case once ------------------------------------------------------------------------------


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


async def _open_one(session: AsyncSession, principal: Principal, due: FollowUpDue) -> Case:
    # Received now, on the platform: nobody brought it in; the system raised it from the registry.
    case = await open_case(
        session,
        principal,
        CaseCreate(
            case_type=due.case_type,
            org_unit_code=due.org_unit_code,
            title=due.title[:200],
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
    return case


async def open_followups(session: AsyncSession, principal: Principal, dues: Sequence[FollowUpDue]) -> OpenOutcome:
    """Open a case for each due follow-up that has none yet, under the county's follow-up lock."""
    outcome = OpenOutcome()
    await lock_county_followups(session)
    existing = await existing_followup_keys(session, dues)
    units = await active_unit_codes(session)
    for due in dues:
        if due.key in existing:
            outcome.already_open += 1
            continue
        if due.org_unit_code not in units:
            log.warning(
                "follow-up not opened: the person's unit is closed or unknown",
                extra={"followup_key": due.key, "org_unit_code": due.org_unit_code},
            )
            outcome.skipped += 1
            continue
        await _open_one(session, principal, due)
        existing.add(due.key)
        outcome.opened[due.kind] = outcome.opened.get(due.kind, 0) + 1
    return outcome
