"""Settling a check-round window once it has ended (未到位 and its escalation), run by the window's watch workflow
(workflows/checks/).

「对那些连续两轮不到位的对象要逐一采取上门服务、外出督查等方式,了解其现状」 (spec P08): when a window and the county's
grace days (`check_round_grace_days`, for results entered late) have passed, each of its rounds still without a
result is settled:
- `void` when the woman's record is no longer active (she left, or it was merged): not counted, nothing follows;
- `missed` otherwise: its case is closed as `no_action` (未到位), and when this makes `missed_rounds_before_visit`
  (2 by default) missed rounds in a row since her last escalation, a home-visit case (`check_home_visit`, kind
  `missed_checks_visit`) is opened at her township, priority high, due `missed_checks_visit_days` later. A round
  settled as missed that later gets its result becomes `done` (a late check) and breaks the run.

Batches are small transactions (locked rows skipped by a concurrent settlement); the watch repeats them until
none is left. Safe to repeat: a settled round is not settled again, and the home visit opens once per key.

Functions flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.checks.repository import CheckRoundRepository
from backend.checks.service import close_round_case, record, snapshot
from backend.core.clock import china_day, start_of_day
from backend.core.divisions import township_of
from backend.followups.opening import make_due, open_once
from backend.followups.rules import FollowUpKind, FollowUpRules
from backend.models import CaseOutcome, CasePriority, CheckRound, CheckRoundStatus, PersonStatus

MISSED_ACTION = "check_round.missed"
VOID_ACTION = "check_round.void"
ESCALATE_ACTION = "check_round.escalate"
BATCH_SIZE = 200


@dataclass
class SettleOutcome:
    """What one batch did."""

    missed: int = 0
    void: int = 0
    escalated: int = 0
    remaining: bool = False


def settles_at(window_end: date, rules: FollowUpRules) -> datetime:
    """When a window is settled: 00:00 China time after its last day plus the grace days."""
    return start_of_day(window_end + timedelta(days=rules.check_round_grace_days + 1))


async def _escalate(
    session: AsyncSession, principal: Principal, round_: CheckRound, name: str, today: date, rules: FollowUpRules
) -> bool:
    """Open the home visit at her township when this miss completes a run; whether it did."""
    earlier = await CheckRoundRepository(session).earlier_rounds(
        round_.person_id, round_.window_end, rules.missed_rounds_before_visit - 1
    )
    run = [r for r in earlier if r.status is CheckRoundStatus.missed and r.escalation_case_id is None]
    if len(run) != rules.missed_rounds_before_visit - 1 or len(earlier) != len(run):
        return False
    periods = [r.period for r in reversed(earlier)] + [round_.period]
    due = make_due(
        FollowUpKind.missed_checks_visit,
        round_.person_id,
        round_.period,
        (round_.person_id, name, township_of(round_.org_unit_code) or round_.org_unit_code),
        today + timedelta(days=rules.missed_checks_visit_days),
        {
            "visit": "missed_checks",
            "missed_periods": periods,
            "village": round_.org_unit_code,
            "note": "连续两轮三查不到位：上门服务或到工作地了解现状 / missed check rounds in a row: visit her at home "
            "or at work to learn how she is",
        },
        priority=CasePriority.high,
    )
    case = await open_once(session, principal, due)
    if case is None:
        return False
    round_.escalation_case_id = case.id
    await session.flush()
    await record(session, round_, ESCALATE_ACTION, {"escalation_case": [None, case.number], "periods": periods})
    return True


async def settle_batch(
    session: AsyncSession,
    principal: Principal,
    window_end: date,
    now: datetime,
    rules: FollowUpRules,
    batch_size: int = BATCH_SIZE,
) -> SettleOutcome:
    """Settle up to `batch_size` rounds of the window still due (the caller checked the window is over)."""
    repository = CheckRoundRepository(session)
    outcome = SettleOutcome()
    today = china_day(now)
    rows = await repository.due_at_window(window_end, batch_size)
    for round_, person_status in rows:
        before = snapshot(round_)
        round_.settled_at = now
        if person_status is not PersonStatus.active:
            round_.status = CheckRoundStatus.void
            await session.flush()
            await record(session, round_, VOID_ACTION, audit.diff(before, snapshot(round_)))
            outcome.void += 1
            continue
        round_.status = CheckRoundStatus.missed
        await session.flush()
        await record(session, round_, MISSED_ACTION, audit.diff(before, snapshot(round_)))
        outcome.missed += 1
        await close_round_case(
            session, principal, round_.case_id, CaseOutcome.no_action, "本轮三查未到位 / the round was missed"
        )
        name = await repository.person_name(round_.person_id)
        if await _escalate(session, principal, round_, name, today, rules):
            outcome.escalated += 1
    outcome.remaining = len(rows) == batch_size
    return outcome
