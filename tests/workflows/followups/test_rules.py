"""The follow-up date rules and the county rule override, without a database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.followups.rules import (
    FollowUpKind,
    FollowUpRules,
    InvalidFollowUpRules,
    add_years,
    age_on,
    birth_date_bounds,
    check_round_window,
    check_round_windows,
    followup_key,
    inspection_due,
    mail_back_notice,
    postpartum_birth_bounds,
    postpartum_visit_due,
    renewal_due,
    rules_from_override,
)

DEFAULTS = FollowUpRules()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


class TestRuleConfiguration:
    def test_defaults_are_the_shipped_rules(self) -> None:
        rules = rules_from_override(None)
        assert (rules.rounds_per_year(key_subject=False), rules.rounds_per_year(key_subject=True)) == (2, 4)
        assert (rules.inspection_lead_days, rules.renewal_lead_days) == (30, 90)
        assert rules.postpartum_visit_days == 42
        assert (rules.min_age, rules.max_age) == (18, 49)

    def test_override_changes_only_the_keys_it_sets(self) -> None:
        rules = rules_from_override({"check_rounds_per_year": 3, "renewal_lead_days": 60})
        assert rules.check_rounds_per_year == 3
        assert rules.renewal_lead_days == 60
        assert rules.key_subject_check_rounds_per_year == 4
        assert rules.inspection_lead_days == 30

    @pytest.mark.parametrize(
        ("override", "named"),
        [
            ({"check_rounds_per_year": 5}, "check_rounds_per_year"),
            ({"key_subject_check_rounds_per_year": 0}, "key_subject_check_rounds_per_year"),
            ({"renewal_lead_days": -1}, "renewal_lead_days"),
            ({"renewal_lead_day": 60}, "renewal_lead_day"),  # a typo is refused, not ignored
            ({"min_age": 30, "max_age": 20}, "min_age must not exceed max_age"),
            ({"postpartum_visit_days": "forty-two"}, "postpartum_visit_days"),
        ],
    )
    def test_unreadable_override_is_refused_naming_the_problem(self, override: dict[str, object], named: str) -> None:
        with pytest.raises(InvalidFollowUpRules) as raised:
            rules_from_override(override)
        assert named in str(raised.value)

    def test_override_that_is_not_an_object_is_refused(self) -> None:
        with pytest.raises(InvalidFollowUpRules):
            rules_from_override([1, 2])  # type: ignore[arg-type]

    def test_key_names_kind_subject_and_period(self) -> None:
        assert followup_key(FollowUpKind.check_round, "p1", "2031-R1of2") == "check_round:p1:2031-R1of2"


class TestAgeBand:
    def test_birth_date_bounds_select_exactly_the_ages_in_the_band(self) -> None:
        for day in (date(2031, 2, 28), date(2032, 2, 29), date(2031, 3, 1), date(2031, 12, 31)):
            born_after, born_by = birth_date_bounds(day, 18, 49)
            for birth in days(add_years(day, -51), add_years(day, -17)):
                in_band = 18 <= age_on(birth, day) <= 49
                assert (born_after < birth <= born_by) is in_band, (day, birth)

    def test_add_years_moves_29_february_to_the_28th(self) -> None:
        assert add_years(date(2028, 2, 29), 3) == date(2031, 2, 28)
        assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)


class TestCheckRounds:
    @pytest.mark.parametrize(
        ("rounds", "ends"),
        [
            (2, [date(2031, 6, 30), date(2031, 12, 31)]),
            (3, [date(2031, 4, 30), date(2031, 8, 31), date(2031, 12, 31)]),
            (4, [date(2031, 3, 31), date(2031, 6, 30), date(2031, 9, 30), date(2031, 12, 31)]),
        ],
    )
    def test_the_year_is_split_into_equal_windows(self, rounds: int, ends: list[date]) -> None:
        windows = check_round_windows(2031, rounds)
        assert [window.end for window in windows] == ends
        assert windows[0].start == date(2031, 1, 1)
        for before, after in zip(windows, windows[1:], strict=False):
            assert after.start == before.end + timedelta(days=1)

    def test_every_day_falls_in_exactly_one_round(self) -> None:
        for day in days(date(2032, 1, 1), date(2032, 12, 31)):
            window = check_round_window(day, 4)
            assert window.start <= day <= window.end
            assert window.round == (day.month - 1) // 3 + 1
        assert check_round_window(date(2031, 7, 1), 2).period == "2031-R2of2"

    def test_rounds_that_do_not_split_the_year_into_months_are_refused(self) -> None:
        with pytest.raises(ValueError, match="whole months"):
            check_round_windows(2031, 5)


class TestMailBackNotice:
    def test_notice_runs_from_the_first_day_of_the_quarters_last_month_to_its_end(self) -> None:
        assert mail_back_notice(date(2031, 2, 28), 1) is None
        march = mail_back_notice(date(2031, 3, 1), 1)
        assert march is not None
        assert (march.period, march.opens_on, march.due) == ("2031-Q1", date(2031, 3, 1), date(2031, 3, 31))
        assert mail_back_notice(date(2031, 5, 31), 1) is None
        december = mail_back_notice(date(2031, 12, 31), 1)
        assert december is not None and december.period == "2031-Q4"

    def test_longer_lead_opens_earlier(self) -> None:
        assert mail_back_notice(date(2031, 1, 31), 2) is None
        notice = mail_back_notice(date(2031, 2, 1), 2)
        assert notice is not None and notice.due == date(2031, 3, 31)
        assert mail_back_notice(date(2031, 4, 1), 3) is not None


class TestInspection:
    def _due(self, *, last: date | None, day: date, valid_until: date | None = date(2035, 1, 1)) -> date | None:
        return inspection_due(
            last_inspected_on=last,
            arrived_on=date(2030, 9, 1),
            issued_on=date(2030, 3, 1),
            valid_until=valid_until,
            permanent=valid_until is None,
            day=day,
            rules=DEFAULTS,
        )

    def test_due_a_year_after_the_last_inspection_opened_30_days_ahead(self) -> None:
        # 2031-06-01 + 365 days = 2032-05-31 (2032 is a leap year); 30 days before is 2032-05-01.
        assert self._due(last=date(2031, 6, 1), day=date(2032, 4, 30)) is None
        assert self._due(last=date(2031, 6, 1), day=date(2032, 5, 1)) == date(2032, 5, 31)

    def test_never_inspected_is_due_on_arrival(self) -> None:
        assert self._due(last=None, day=date(2030, 8, 1)) is None
        assert self._due(last=None, day=date(2030, 8, 2)) == date(2030, 9, 1)

    def test_without_a_new_inspection_the_next_occurrence_comes_a_year_later(self) -> None:
        assert self._due(last=date(2031, 6, 1), day=date(2033, 1, 1)) == date(2032, 5, 31)
        assert self._due(last=date(2031, 6, 1), day=date(2033, 5, 1)) == date(2033, 5, 31)

    def test_no_occurrence_after_the_certificate_expires_unless_permanent(self) -> None:
        assert self._due(last=date(2031, 6, 1), day=date(2032, 5, 10), valid_until=date(2032, 5, 1)) is None
        assert self._due(last=date(2031, 6, 1), day=date(2032, 5, 10), valid_until=None) == date(2032, 5, 31)


class TestRenewal:
    def test_reminder_from_90_days_before_the_last_valid_day(self) -> None:
        valid_until = date(2031, 5, 10)

        def due_on(day: date) -> date | None:
            return renewal_due(valid_until=valid_until, permanent=False, day=day, rules=DEFAULTS)

        assert due_on(date(2031, 2, 8)) is None
        assert due_on(date(2031, 2, 9)) == valid_until
        assert due_on(date(2032, 1, 1)) == valid_until  # expired and not renewed: still reminded, once

    def test_permanent_certificate_is_never_due(self) -> None:
        for day in (date(2031, 2, 9), date(2040, 1, 1)):
            assert renewal_due(valid_until=None, permanent=True, day=day, rules=DEFAULTS) is None
            assert renewal_due(valid_until=date(2031, 5, 10), permanent=True, day=day, rules=DEFAULTS) is None


class TestPostpartumVisit:
    def test_visit_due_42_days_after_birth_opened_a_week_ahead_and_caught_up_for_30_days(self) -> None:
        birth = date(2031, 3, 10)
        due = date(2031, 4, 21)
        assert postpartum_visit_due(birth, due - timedelta(days=8), DEFAULTS) is None
        assert postpartum_visit_due(birth, due - timedelta(days=7), DEFAULTS) == due
        assert postpartum_visit_due(birth, due + timedelta(days=30), DEFAULTS) == due
        assert postpartum_visit_due(birth, due + timedelta(days=31), DEFAULTS) is None

    def test_birth_bounds_select_exactly_the_births_with_a_visit_to_plan(self) -> None:
        day = date(2031, 4, 21)
        earliest, latest = postpartum_birth_bounds(day, DEFAULTS)
        for birth in days(day - timedelta(days=120), day):
            assert (earliest <= birth <= latest) is (postpartum_visit_due(birth, day, DEFAULTS) is not None), birth
