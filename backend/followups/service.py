"""Recurring follow-up in one county: find what is due on a day, and open each due case once.

Called by the follow-up sweep's activities (workflows/followups/activities.py) in the county's own transactions
(row-level security set by the caller). The rules are in backend/followups/rules.py, the county's settings in
backend/followups/config.py, and opening one case (once per `followup_key`, under the county's lock) in
backend/followups/opening.py. A check round's case comes with its `check_rounds` row (backend/checks/service.py),
and the first round of a window in the county asks for the window's watch (its missed-round settlement).

Functions flush, never commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.checks.service import open_round, watch_windows
from backend.followups.opening import (
    TITLES,
    FollowUpDue,
    active_unit_codes,
    existing_followup_keys,
    lock_county_followups,
    make_due,
    open_followup_case,
)
from backend.followups.repository import FollowUpRepository
from backend.followups.rules import (
    FollowUpKind,
    FollowUpRules,
    agreement_renewal_due,
    birth_date_bounds,
    check_round_window,
    inspection_due,
    mail_back_notice,
    pill_user_window,
    post_procedure_bounds,
    post_procedure_visits_due,
    postpartum_birth_bounds,
    postpartum_visit_due,
    renewal_due,
    visit_period,
)
from backend.models import CertificateStatus, ContraceptionMeasure, FlowDirection

log = logging.getLogger(__name__)

PROCEDURE_MEASURES = (ContraceptionMeasure.iud, ContraceptionMeasure.sterilisation)


@dataclass
class OpenOutcome:
    """What one batch did: cases opened per kind, dues that already had their case, dues that could not open."""

    opened: dict[FollowUpKind, int] = field(default_factory=dict)
    already_open: int = 0
    skipped: int = 0


# --- what is due -----------------------------------------------------------------------------------------


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
                dues.append(make_due(kind, cert_id, due.isoformat(), holder, due, certificate | inspected))
        if FollowUpKind.certificate_renewal in kinds:
            due = renewal_due(valid_until=valid_until, permanent=permanent, day=day, rules=rules)
            if due is not None:
                details = certificate | {"valid_until": due.isoformat()}
                dues.append(make_due(FollowUpKind.certificate_renewal, cert_id, due.isoformat(), holder, due, details))
    return dues


async def _women_dues(
    repository: FollowUpRepository, day: date, rules: FollowUpRules, kinds: set[FollowUpKind]
) -> list[FollowUpDue]:
    """Check rounds and pill users' visits (women living here) and mail-back notices (out-migrant women): married,
    in the age band."""
    wants_rounds = FollowUpKind.check_round in kinds
    wants_pill = FollowUpKind.pill_user_visit in kinds
    notice = mail_back_notice(day, rules.mail_back_lead_months) if FollowUpKind.mail_back_notice in kinds else None
    if not wants_rounds and not wants_pill and notice is None:
        return []
    pill_window = pill_user_window(day, rules.pill_user_visit_months)
    dues: list[FollowUpDue] = []
    for person_id, name, unit, flow, key_subject, measure in await repository.married_women(
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
                make_due(
                    FollowUpKind.mail_back_notice, person_id, notice.period, woman, notice.due, details, title_note=note
                )
            )
            continue
        if wants_rounds:
            window = check_round_window(day, rules.rounds_per_year(key_subject))
            details = {
                "round": window.round,
                "rounds_per_year": window.rounds,
                "year": window.year,
                "period": window.period,
                "window_start": window.start.isoformat(),
                "key_subject": key_subject,
            }
            note = f"（{window.year}年第{window.round}/{window.rounds}轮）"
            dues.append(
                make_due(
                    FollowUpKind.check_round, person_id, window.period, woman, window.end, details, title_note=note
                )
            )
        if wants_pill and measure is ContraceptionMeasure.pill:
            period = visit_period(pill_window)
            details = {"visit": "pill_user", "period": period, "window_start": pill_window.start.isoformat()}
            note = f"（{pill_window.year}年{pill_window.start.month}月）"
            dues.append(
                make_due(
                    FollowUpKind.pill_user_visit, person_id, period, woman, pill_window.end, details, title_note=note
                )
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
        visit = make_due(
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
            make_due(
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


async def _post_procedure_dues(repository: FollowUpRepository, day: date, rules: FollowUpRules) -> list[FollowUpDue]:
    """Visits after an IUD insertion or a sterilisation (the person's recorded measure and its date), for persons
    living here: one per planned month, to record whether the procedure worked."""
    dues: list[FollowUpDue] = []
    for person_id, name, unit, measure, procedure_on in await repository.procedures(
        PROCEDURE_MEASURES, *post_procedure_bounds(day, rules)
    ):
        for months, due in post_procedure_visits_due(procedure_on, day, rules):
            details = {
                "visit": "post_procedure",
                "measure": measure.value,
                "procedure_on": procedure_on.isoformat(),
                "months_after": months,
            }
            what = "上环" if measure is ContraceptionMeasure.iud else "结扎"
            dues.append(
                make_due(
                    FollowUpKind.post_procedure_visit,
                    person_id,
                    f"{measure.value}:{procedure_on.isoformat()}:{months}m",
                    (person_id, name, unit),
                    due,
                    details,
                    title_note=f"（{what}后{months}个月）",
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
    if FollowUpKind.post_procedure_visit in kinds:
        dues += await _post_procedure_dues(repository, day, rules)
    return dues


# --- opening each case once ------------------------------------------------------------------------------


async def open_followups(session: AsyncSession, principal: Principal, dues: Sequence[FollowUpDue]) -> OpenOutcome:
    """Open a case for each due follow-up that has none yet, under the county's follow-up lock; a check round's
    case gets its round, and each new round window its watch."""
    outcome = OpenOutcome()
    await lock_county_followups(session)
    existing = await existing_followup_keys(session, dues)
    units = await active_unit_codes(session)
    windows: set[date] = set()
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
        case = await open_followup_case(session, principal, due)
        if due.kind is FollowUpKind.check_round:
            await open_round(session, case, due.person_id, due.details, due.due)
            windows.add(due.due)
        existing.add(due.key)
        outcome.opened[due.kind] = outcome.opened.get(due.kind, 0) + 1
    await watch_windows(session, principal, windows)
    return outcome
