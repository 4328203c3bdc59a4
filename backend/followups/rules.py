"""What recurring follow-up falls due when (定期随访与服务计划), per county: the rules and their date arithmetic.

Five kinds of follow-up, each opened as a case of a shipped case type, at most once per subject and period
(the period is part of `followup_key`, stored in `Case.details`):

- certificate_inspection → `certificate_inspection` (婚育证明查验). 「婚育证明首次查验后，每年至少查验一次」 (spec
  P03): for a certificate in force held by someone living in the county (not an outflow person, whom the
  residence place inspects), due `inspection_interval_days` after the last inspection; never inspected: due
  on arrival (the later of the issue date and the person's flow date), as the certificate register counts
  it. When the officer does not record the inspection, the next year brings the next occurrence. Opened
  `inspection_lead_days` before it is due; no occurrence after the certificate's last valid day (the renewal
  covers that).
- certificate_renewal → `certificate_renewal` (换领提醒). Valid three years; 「有效期满的…换领新证」: opened
  `renewal_lead_days` before `valid_until`, due on `valid_until`. Never for a permanent certificate (长期有效,
  no end date), nor for one already renewed (a successor points to it) or revoked. Any flow direction: the
  county reminds its out-migrants as well as the women living here.
- check_round → `pregnancy_check_round` (孕情环情检查「三查」, P08). Married women (初婚/再婚) in the age band who
  live in the county (inflow or within-county movers): `check_rounds_per_year` rounds, or
  `key_subject_check_rounds_per_year` for key subjects (重点对象). The year is split into that many equal
  runs of months (2 → H1/H2, 3 → Jan–Apr/May–Aug/Sep–Dec, 4 → quarters); the round's case is opened while
  the sweep runs inside its window and is due on the window's last day.
- mail_back_notice → `contraception_report` (「已婚育龄妇女限期寄回三查证明的通知，每季度提前一个月发放」, P07).
  Married out-migrant women (流出) in the age band: from `mail_back_lead_months` before each quarter ends
  (1 → on the first day of the quarter's last month) a case to send the notice and collect the mailed-back
  check report (《避孕节育情况报告单》), due on the quarter's last day. It is a contraception-report case
  because what comes back is that report and it goes on to the registration place (P07); a follow-up visit is
  something else (P11).
- postpartum_visit → `follow_up_visit` (产后42天随访, P11). Women living in the county whose child (from the
  children on their record; the youngest, in practice) was born `postpartum_visit_days` before the due date:
  opened `postpartum_visit_lead_days` before the visit is due, so the village can plan it. A birth recorded
  more than `postpartum_visit_catch_up_days` after the visit was due opens nothing: the visit cannot be held
  any more.
- agreement_renewal → `agreement_renewal` (责任书/合同/双向服务管理协议书续签). A responsibility agreement
  (backend/documents) with an end date and a person it concerns, not yet renewed (no agreement points at
  it): opened `agreement_renewal_lead_days` before its last valid day, due on that day. Agreements with
  landlords or employers only (no person on record) have no subject for a case and are not planned here.

The age band is `min_age` to `max_age` inclusive (育龄 18–49), on the day of the sweep; persons without a birth
date are not planned (their age is unknown).

Configuration. The defaults are the fields of `FollowUpRules`. A county overrides any of them through its
`case_type_configs` row with code `followup_rules` (`RULES_CONFIG_CODE`): `overrides` holds only the keys it
changes, e.g. `{"check_rounds_per_year": 3, "renewal_lead_days": 60}`; `enabled = false` on that row
switches recurring follow-up off for the county. There is no API for it: an operator writes it in the
county's transaction (row-level security applies), for example

    BEGIN;
    SELECT set_config('app.tenant_id', '<tenant uuid>', true);
    INSERT INTO case_type_configs (id, tenant_id, code, enabled, overrides, version)
    VALUES (gen_random_uuid(), '<tenant uuid>', 'followup_rules', NULL, '{"check_rounds_per_year": 3}', 1)
    ON CONFLICT (tenant_id, code) DO UPDATE SET overrides = EXCLUDED.overrides, version = case_type_configs.version + 1;
    COMMIT;

An unknown key or a value out of range is not guessed around: that county's sweep fails with
`InvalidFollowUpRules` (logged, and reported in the sweep's result) until the row is fixed; other counties go on.
A case type the county disabled opens nothing of its kind.

Everything here is pure (no I/O): the queries are in backend/followups/service.py.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

RULES_CONFIG_CODE = "followup_rules"
"""The `case_type_configs.code` of a county's follow-up rule override (not a case type)."""

ROUNDS_PER_YEAR_ALLOWED = (1, 2, 3, 4, 6, 12)
"""Rounds split the year into equal runs of whole months, so their number divides 12."""

MAX_POST_PROCEDURE_VISITS = 6
"""At most six post-procedure visits (the months after an IUD insertion or a sterilisation)."""

MONTHS_PER_VISIT_ALLOWED = (1, 2, 3, 4, 6, 12)
"""Pill users' visits split the year likewise: every month (每月随访一次) unless the county says otherwise."""


class FollowUpKind(StrEnum):
    certificate_inspection = "certificate_inspection"  # 婚育证明年度查验
    certificate_renewal = "certificate_renewal"  # 婚育证明到期换领提醒
    check_round = "check_round"  # 孕情环情检查（三查）轮次
    mail_back_notice = "mail_back_notice"  # 限期寄回三查证明通知
    postpartum_visit = "postpartum_visit"  # 产后42天随访
    agreement_renewal = "agreement_renewal"  # 责任书、合同、双向服务管理协议书到期续签提醒
    pill_user_visit = "pill_user_visit"  # 服药对象每月随访
    post_procedure_visit = "post_procedure_visit"  # 上环、结扎术后随访（登记手术有效性）
    returned_migrant_visit = "returned_migrant_visit"  # 返乡人员随访
    missed_checks_visit = "missed_checks_visit"  # 连续两轮三查不到位：上门服务、外出督查（乡镇）


VISIT_KINDS = frozenset(
    {
        FollowUpKind.postpartum_visit,
        FollowUpKind.pill_user_visit,
        FollowUpKind.post_procedure_visit,
        FollowUpKind.returned_migrant_visit,
        FollowUpKind.missed_checks_visit,
    }
)
"""The kinds whose case is closed by recording a visit (backend/followups/visits.py)."""

CASE_TYPE_FOR_KIND: dict[FollowUpKind, str] = {
    FollowUpKind.certificate_inspection: "certificate_inspection",
    FollowUpKind.certificate_renewal: "certificate_renewal",
    FollowUpKind.check_round: "pregnancy_check_round",
    FollowUpKind.mail_back_notice: "contraception_report",
    FollowUpKind.postpartum_visit: "follow_up_visit",
    FollowUpKind.agreement_renewal: "agreement_renewal",
    FollowUpKind.pill_user_visit: "follow_up_visit",
    FollowUpKind.post_procedure_visit: "follow_up_visit",
    FollowUpKind.returned_migrant_visit: "follow_up_visit",
    FollowUpKind.missed_checks_visit: "check_home_visit",
}


class FollowUpRules(BaseModel):
    """A county's follow-up rules; the field defaults are the shipped rules (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inspection_enabled: bool = True
    inspection_interval_days: int = Field(default=365, ge=90, le=730)
    inspection_lead_days: int = Field(default=30, ge=0, le=180)

    renewal_enabled: bool = True
    renewal_lead_days: int = Field(default=90, ge=0, le=365)

    check_rounds_enabled: bool = True
    check_rounds_per_year: int = 2
    key_subject_check_rounds_per_year: int = 4
    check_round_grace_days: int = Field(default=10, ge=0, le=60)
    missed_rounds_before_visit: int = Field(default=2, ge=1, le=4)
    missed_checks_visit_days: int = Field(default=15, ge=1, le=90)

    mail_back_enabled: bool = True
    mail_back_lead_months: int = Field(default=1, ge=1, le=3)

    postpartum_visit_enabled: bool = True
    postpartum_visit_days: int = Field(default=42, ge=1, le=365)
    postpartum_visit_lead_days: int = Field(default=7, ge=0, le=60)
    postpartum_visit_catch_up_days: int = Field(default=30, ge=0, le=365)

    agreement_renewal_enabled: bool = True
    agreement_renewal_lead_days: int = Field(default=30, ge=0, le=180)

    pill_user_visits_enabled: bool = True
    pill_user_visit_months: int = 1

    post_procedure_visits_enabled: bool = True
    post_procedure_visit_months: tuple[int, ...] = Field(default=(1, 3, 6, 12), max_length=MAX_POST_PROCEDURE_VISITS)
    post_procedure_lead_days: int = Field(default=7, ge=0, le=60)
    post_procedure_catch_up_days: int = Field(default=30, ge=0, le=365)

    returned_migrant_visits_enabled: bool = True
    returned_migrant_visit_days: int = Field(default=15, ge=1, le=90)

    min_age: int = Field(default=18, ge=14, le=60)
    max_age: int = Field(default=49, ge=14, le=60)

    @field_validator("check_rounds_per_year", "key_subject_check_rounds_per_year")
    @classmethod
    def _divides_the_year(cls, value: int) -> int:
        if value not in ROUNDS_PER_YEAR_ALLOWED:
            raise ValueError(f"rounds per year must be one of {', '.join(map(str, ROUNDS_PER_YEAR_ALLOWED))}")
        return value

    @field_validator("pill_user_visit_months")
    @classmethod
    def _months_divide_the_year(cls, value: int) -> int:
        if value not in MONTHS_PER_VISIT_ALLOWED:
            raise ValueError(f"months between visits must be one of {', '.join(map(str, MONTHS_PER_VISIT_ALLOWED))}")
        return value

    @field_validator("post_procedure_visit_months")
    @classmethod
    def _increasing_months(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not 1 <= len(value) <= MAX_POST_PROCEDURE_VISITS or any(not 1 <= months <= 36 for months in value):
            raise ValueError("one to six visits, each 1 to 36 months after the procedure")
        if any(later <= earlier for earlier, later in zip(value, value[1:], strict=False)):
            raise ValueError("the months must increase")
        return value

    @model_validator(mode="after")
    def _age_band(self) -> FollowUpRules:
        if self.min_age > self.max_age:
            raise ValueError("min_age must not exceed max_age")
        return self

    def rounds_per_year(self, key_subject: bool) -> int:
        return self.key_subject_check_rounds_per_year if key_subject else self.check_rounds_per_year


class InvalidFollowUpRules(ValueError):
    """A county's saved override cannot be read; `problems` says what is wrong with it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def rules_from_override(overrides: Mapping[str, Any] | None) -> FollowUpRules:
    """The defaults with a county's override applied (only the keys it sets); InvalidFollowUpRules if unreadable."""
    if overrides is not None and not isinstance(overrides, Mapping):
        raise InvalidFollowUpRules(["overrides must be a JSON object"])
    try:
        return FollowUpRules.model_validate(dict(overrides or {}))
    except ValidationError as error:
        raise InvalidFollowUpRules(
            [f"{'.'.join(map(str, problem['loc'])) or 'overrides'}: {problem['msg']}" for problem in error.errors()]
        ) from None


def followup_key(kind: FollowUpKind, subject_id: object, period: str) -> str:
    """The identity of one follow-up: a case is opened at most once per key (kept in `Case.details`)."""
    return f"{kind.value}:{subject_id}:{period}"


# --- date arithmetic ------------------------------------------------------------------------------------


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_years(day: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def birth_date_bounds(day: date, min_age: int, max_age: int) -> tuple[date, date]:
    """(exclusive lower, inclusive upper) birth-date bounds of the people aged min_age..max_age on `day`."""
    return add_years(day, -(max_age + 1)), add_years(day, -min_age)


@dataclass(frozen=True, slots=True)
class RoundWindow:
    """Round `round` of `rounds` in `year`: the months from `start` to `end`, both days included."""

    year: int
    round: int
    rounds: int
    start: date
    end: date

    @property
    def period(self) -> str:
        return f"{self.year}-R{self.round}of{self.rounds}"


def check_round_windows(year: int, rounds: int) -> list[RoundWindow]:
    """The year split into `rounds` equal runs of whole months."""
    if rounds not in ROUNDS_PER_YEAR_ALLOWED:
        raise ValueError(f"{rounds} rounds do not split the year into whole months")
    months = 12 // rounds
    return [
        RoundWindow(
            year=year,
            round=index + 1,
            rounds=rounds,
            start=date(year, index * months + 1, 1),
            end=month_end(year, (index + 1) * months),
        )
        for index in range(rounds)
    ]


def check_round_window(day: date, rounds: int) -> RoundWindow:
    """The round whose window contains `day`."""
    return next(window for window in check_round_windows(day.year, rounds) if window.start <= day <= window.end)


@dataclass(frozen=True, slots=True)
class QuarterNotice:
    """The mail-back notice of one quarter: sent from `opens_on`, the report due by `due` (the quarter's end)."""

    year: int
    quarter: int
    opens_on: date
    due: date

    @property
    def period(self) -> str:
        return f"{self.year}-Q{self.quarter}"


def mail_back_notice(day: date, lead_months: int) -> QuarterNotice | None:
    """The notice to send on `day`: from the first day of the month `lead_months` before the quarter's end."""
    quarter = (day.month - 1) // 3 + 1
    last_month = quarter * 3
    opens_on = date(day.year, last_month - lead_months + 1, 1)
    if day < opens_on:
        return None
    return QuarterNotice(year=day.year, quarter=quarter, opens_on=opens_on, due=month_end(day.year, last_month))


def inspection_due(
    *,
    last_inspected_on: date | None,
    arrived_on: date | None,
    issued_on: date,
    valid_until: date | None,
    permanent: bool,
    day: date,
    rules: FollowUpRules,
) -> date | None:
    """The inspection occurrence to open a case for on `day`, if any (its due date identifies it).

    Occurrences fall every `inspection_interval_days` from the first due date (the last inspection plus the
    interval, or the arrival when never inspected); the latest one whose lead time has begun is returned.
    """
    interval = timedelta(days=rules.inspection_interval_days)
    if last_inspected_on is not None:
        first_due = last_inspected_on + interval
    else:
        first_due = max(issued_on, arrived_on or issued_on)
    horizon = day + timedelta(days=rules.inspection_lead_days)
    if horizon < first_due:
        return None
    due = first_due + interval * ((horizon - first_due).days // rules.inspection_interval_days)
    if not permanent and valid_until is not None and due > valid_until:
        return None
    return due


def renewal_due(*, valid_until: date | None, permanent: bool, day: date, rules: FollowUpRules) -> date | None:
    """The renewal reminder's due date (the last valid day) once its lead time has begun; never when permanent."""
    if permanent or valid_until is None:
        return None
    if day < valid_until - timedelta(days=rules.renewal_lead_days):
        return None
    return valid_until


def agreement_renewal_due(valid_until: date | None, day: date, rules: FollowUpRules) -> date | None:
    """An agreement's renewal reminder is due on its last valid day, opened `agreement_renewal_lead_days`
    before; none for an open-ended agreement or one already past its end (nothing left to renew on time)."""
    if valid_until is None or day > valid_until:
        return None
    if day < valid_until - timedelta(days=rules.agreement_renewal_lead_days):
        return None
    return valid_until


def postpartum_visit_due(birth_date: date, day: date, rules: FollowUpRules) -> date | None:
    """The visit's due date (birth + postpartum_visit_days) if a case for it should be open on `day`."""
    due = birth_date + timedelta(days=rules.postpartum_visit_days)
    if (
        due - timedelta(days=rules.postpartum_visit_lead_days)
        <= day
        <= due + timedelta(days=rules.postpartum_visit_catch_up_days)
    ):
        return due
    return None


def postpartum_birth_bounds(day: date, rules: FollowUpRules) -> tuple[date, date]:
    """(earliest, latest) birth dates, both included, whose visit `postpartum_visit_due` plans on `day`."""
    return (
        day - timedelta(days=rules.postpartum_visit_days + rules.postpartum_visit_catch_up_days),
        day - timedelta(days=rules.postpartum_visit_days - rules.postpartum_visit_lead_days),
    )


def add_months(day: date, months: int) -> date:
    """The same day `months` later; a day the month lacks becomes its last day (31 January + 1 → 28/29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def pill_user_window(day: date, months: int) -> RoundWindow:
    """The pill users' visit window containing `day`: the year split into runs of `months` months (1: each
    calendar month). Its period names the year and the first month (2026-12, then 2027-01 across the year's end)."""
    return check_round_window(day, 12 // months)


def visit_period(window: RoundWindow) -> str:
    """The period of a pill users' visit window: year and first month, e.g. 2027-01."""
    return f"{window.year}-{window.start.month:02d}"


def post_procedure_visits_due(procedure_on: date, day: date, rules: FollowUpRules) -> list[tuple[int, date]]:
    """The visits after a procedure on `procedure_on` that should have a case on `day`: (months after, due day) for
    each visit opened `post_procedure_lead_days` before it is due and not yet `post_procedure_catch_up_days` past."""
    found = []
    for months in rules.post_procedure_visit_months:
        due = add_months(procedure_on, months)
        if (
            due - timedelta(days=rules.post_procedure_lead_days)
            <= day
            <= due + timedelta(days=rules.post_procedure_catch_up_days)
        ):
            found.append((months, due))
    return found


def post_procedure_bounds(day: date, rules: FollowUpRules) -> tuple[date, date]:
    """(earliest, latest) procedure dates, both included, that may have a visit due on `day` (a few days wide on
    each side: the month arithmetic is checked again per person)."""
    longest, shortest = max(rules.post_procedure_visit_months), min(rules.post_procedure_visit_months)
    earliest = add_months(day - timedelta(days=rules.post_procedure_catch_up_days), -longest) - timedelta(days=3)
    latest = add_months(day + timedelta(days=rules.post_procedure_lead_days), -shortest) + timedelta(days=3)
    return earliest, latest
