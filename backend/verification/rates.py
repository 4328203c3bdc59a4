"""The two-way assessment's figures (双向考核): for a county, per township and in total, over a period.

Each side is scored from the rows both share, so the figures of a county with one counterpart can be computed
from either side's data, and an off-platform counterpart is scored from the requester's records:

- sent on time (requester): requests whose materials arrived in the period, and of those, how many were sent
  within 7 working days;
- answered on time and feedback rate (responder): requests that arrived in the period and are settled or due
  by `as_of` (one still pending before its due moment can still be on time and is left out); answered or
  rejected with a reason by the due moment / at all. An expired request counts as unanswered: against the
  responder, never against the requester;
- acceptance rate (receiver of notices): notices that arrived in the period and are settled or due by `as_of`,
  acknowledged.
Withdrawn requests count for the requester's sending only. A request recorded from a county not on the platform
(来函协查) scores the recording county as responder like any other; the sender's timeliness is not known here
and is not scored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import start_of_day
from backend.models import REPLIED_STATES, VerificationKind, VerificationRequest, VerificationState
from backend.verification.errors import InvalidVerification
from backend.verification.repository import VerificationRepository
from backend.verification.schemas import RateFigures, RatesReport


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in China time."""
    return start_of_day(start), start_of_day(end + timedelta(days=1))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _finish(figures: RateFigures) -> RateFigures:
    figures.sent_on_time_rate = _rate(figures.sent_on_time, figures.requests_sent)
    figures.answered_on_time_rate = _rate(figures.answered_on_time, figures.requests_received)
    figures.feedback_rate = _rate(figures.answered, figures.requests_received)
    figures.acceptance_rate = _rate(figures.notices_accepted, figures.notices_received)
    return figures


def figures_for(
    county_code: str, rows: Iterable[VerificationRequest], start: datetime, end: datetime, as_of: datetime
) -> tuple[RateFigures, list[RateFigures]]:
    """(county total, per township) of `county_code` from the shared rows."""
    townships: dict[str, RateFigures] = defaultdict(lambda: RateFigures(unit_code=""))
    total = RateFigures(unit_code=county_code)

    def bump(unit_code: str, **counts: int) -> None:
        township = townships[unit_code[:9]]
        township.unit_code = unit_code[:9]
        for target in (township, total):
            for name, value in counts.items():
                setattr(target, name, getattr(target, name) + value)

    for row in rows:
        if (
            row.requester_county_code == county_code
            and not row.requester_off_platform  # its sending clock is not known here: not scored
            and row.kind == VerificationKind.request
            and start <= row.materials_received_at < end
        ):
            bump(row.requester_unit_code or "", requests_sent=1, sent_on_time=int(row.sent_on_time))
        if row.responder_county_code != county_code or not start <= row.arrived_at < end:
            continue
        if row.state == VerificationState.withdrawn:
            continue
        if row.state == VerificationState.pending and row.answer_due_at > as_of:
            continue  # not due yet: it may still be answered on time
        if row.kind == VerificationKind.request:
            bump(
                row.responder_unit_code,
                requests_received=1,
                answered=int(row.state in REPLIED_STATES),
                answered_on_time=int(row.state in REPLIED_STATES and bool(row.answered_on_time)),
            )
        else:
            bump(
                row.responder_unit_code,
                notices_received=1,
                notices_accepted=int(row.state == VerificationState.answered),
            )
    return _finish(total), [_finish(townships[code]) for code in sorted(townships)]


async def report(
    session: AsyncSession,
    principal: Principal,
    period_start: date,
    period_end: date,
    counterpart: str | None,
    as_of: datetime,
) -> RatesReport:
    """The caller's county's figures over the period (and its counterpart's, when one is named). A township's
    officers see their own townships' figures, not the county's."""
    if period_end < period_start:
        raise InvalidVerification("period_end", "结束日期早于开始日期 / the period ends before it starts")
    county_code = principal.tenant_code or ""
    start, end = period_bounds(period_start, period_end)
    rows = await VerificationRepository(session).for_rates(start, end, counterpart)
    county, townships = figures_for(county_code, rows, start, end, as_of)
    visible = set(principal.scopes_for(Action.verification_request))
    if "" not in visible and county_code not in visible:
        townships = [t for t in townships if any(t.unit_code.startswith(root) for root in visible)]
        county = RateFigures(unit_code=county_code)
    return RatesReport(
        county_code=county_code,
        counterpart_county_code=counterpart,
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
        county=county,
        townships=townships,
        counterpart=figures_for(counterpart, rows, start, end, as_of)[0] if counterpart else None,
    )
