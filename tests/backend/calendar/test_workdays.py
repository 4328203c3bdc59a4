"""Working days on the official calendar: deadlines, provisional years, county holidays, notice import.

The 2026 figures are those of the State Council notice 国办发明电〔2025〕7号, as shipped by `chinesecalendar`.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from importlib.metadata import version

import chinese_calendar
import pytest

from backend.calendar import (
    CalendarDataError,
    DayKind,
    DueDate,
    NoticeImportError,
    SpecialDay,
    WorkingDayCalendar,
    official_calendar,
    official_published_years,
    official_special_days,
    parse_notice_import,
)
from backend.calendar.notice_import import notice_year, notice_year_of
from backend.core.errors import InvalidInput

COUNTY_SOURCE = "某县人民政府令（测试）"


def county_holiday(day: date) -> SpecialDay:
    return SpecialDay(date=day, kind=DayKind.COUNTY_HOLIDAY, name="县庆", source=COUNTY_SOURCE)


def official_with(*extra: SpecialDay) -> WorkingDayCalendar:
    return WorkingDayCalendar([*official_special_days(), *extra], official_published_years())


def official_special_days_up_to(last_year: int) -> list[SpecialDay]:
    return [day for day in official_special_days() if day.date.year <= last_year]


def days_from(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


# --- the official 2026 schedule -------------------------------------------------------------------------


def test_official_2026_schedule_is_the_state_council_notice() -> None:
    public = DayKind.PUBLIC_HOLIDAY
    makeup = DayKind.MAKEUP_WORKDAY
    notice = {
        *((day, public, "元旦") for day in days_from(date(2026, 1, 1), date(2026, 1, 3))),
        (date(2026, 1, 4), makeup, "元旦"),
        *((day, public, "春节") for day in days_from(date(2026, 2, 15), date(2026, 2, 23))),
        (date(2026, 2, 14), makeup, "春节"),
        (date(2026, 2, 28), makeup, "春节"),
        *((day, public, "清明节") for day in days_from(date(2026, 4, 4), date(2026, 4, 6))),
        *((day, public, "劳动节") for day in days_from(date(2026, 5, 1), date(2026, 5, 5))),
        (date(2026, 5, 9), makeup, "劳动节"),
        *((day, public, "端午节") for day in days_from(date(2026, 6, 19), date(2026, 6, 21))),
        *((day, public, "中秋节") for day in days_from(date(2026, 9, 25), date(2026, 9, 27))),
        *((day, public, "国庆节") for day in days_from(date(2026, 10, 1), date(2026, 10, 7))),
        (date(2026, 9, 20), makeup, "国庆节"),
        (date(2026, 10, 10), makeup, "国庆节"),
    }

    shipped = {(day.date, day.kind, day.name) for day in official_special_days() if day.date.year == 2026}

    assert shipped == notice


def test_official_special_days_have_chinese_names_english_names_and_the_package_as_source() -> None:
    by_date = {(day.date, day.kind): day for day in official_special_days()}
    source = f"chinesecalendar {version('chinesecalendar')}"

    assert by_date[(date(2026, 10, 1), DayKind.PUBLIC_HOLIDAY)] == SpecialDay(
        date=date(2026, 10, 1),
        kind=DayKind.PUBLIC_HOLIDAY,
        name="国庆节",
        source=source,
        name_en="National Day",
    )
    assert by_date[(date(2026, 2, 28), DayKind.MAKEUP_WORKDAY)].name == "春节"
    assert by_date[(date(2026, 4, 5), DayKind.PUBLIC_HOLIDAY)].name == "清明节"
    assert by_date[(date(2015, 9, 3), DayKind.PUBLIC_HOLIDAY)].name == "抗战胜利70周年纪念日"
    assert source.startswith("chinesecalendar 1.")


def test_official_published_years_run_from_2004_to_the_package_latest_year() -> None:
    years = official_published_years()

    assert min(years) == 2004
    assert years == set(range(2004, max(years) + 1))
    assert 2026 in years
    assert 2031 not in years


def test_official_calendar_agrees_with_the_package_on_every_published_day() -> None:
    calendar = official_calendar()
    years = official_published_years()

    disagreements = [
        day
        for day in days_from(date(min(years), 1, 1), date(max(years), 12, 31))
        if calendar.is_working_day(day) != chinese_calendar.is_workday(day)
    ]

    assert disagreements == []


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 10, 1), False),  # 国庆节, a Thursday
        (date(2026, 10, 10), True),  # make-up Saturday
        (date(2026, 9, 20), True),  # make-up Sunday
        (date(2026, 10, 11), False),  # plain Sunday
        (date(2026, 10, 14), True),  # plain Wednesday
    ],
)
def test_is_working_day_follows_holidays_makeup_days_and_weekdays(day: date, working: bool) -> None:
    assert official_calendar().is_working_day(day) is working


# --- counting deadlines --------------------------------------------------------------------------------


def test_seven_working_days_from_2026_02_12_end_on_the_makeup_saturday_2026_02_28() -> None:
    # Start Thu 02-12 (not counted): Fri 02-13 (1), make-up Sat 02-14 (2), 春节 02-15..02-23,
    # Tue 02-24 (3), 02-25 (4), 02-26 (5), Fri 02-27 (6), make-up Sat 02-28 (7).
    assert official_calendar().add_working_days(date(2026, 2, 12), 7) == DueDate(date(2026, 2, 28), False)
    assert date(2026, 2, 28).weekday() == 5


def test_fifteen_working_days_from_2026_09_28_cross_national_day() -> None:
    # Start Mon 09-28 (not counted): Tue 09-29 (1), Wed 09-30 (2), 国庆节 10-01..10-07,
    # Thu 10-08 (3), Fri 10-09 (4), make-up Sat 10-10 (5), Sun 10-11 off,
    # Mon 10-12 (6), 10-13 (7), 10-14 (8), 10-15 (9), Fri 10-16 (10),
    # Mon 10-19 (11), 10-20 (12), 10-21 (13), 10-22 (14), Fri 10-23 (15).
    assert official_calendar().add_working_days(date(2026, 9, 28), 15) == DueDate(date(2026, 10, 23), False)


def test_the_start_day_is_not_counted() -> None:
    # Mon 2026-03-02 is a working day, yet one working day from it is Tue 03-03.
    assert official_calendar().add_working_days(date(2026, 3, 2), 1).date == date(2026, 3, 3)


def test_a_start_on_a_holiday_counts_from_the_first_working_day_after_it() -> None:
    calendar = official_calendar()

    assert calendar.add_working_days(date(2026, 10, 1), 1).date == date(2026, 10, 8)
    assert calendar.add_working_days(date(2026, 10, 3), 3).date == date(2026, 10, 10)


def test_zero_working_days_is_the_start_day_itself_even_on_a_holiday() -> None:
    assert official_calendar().add_working_days(date(2026, 10, 3), 0) == DueDate(date(2026, 10, 3), False)


def test_a_negative_number_of_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        official_calendar().add_working_days(date(2026, 3, 2), -1)


def test_a_makeup_sunday_counts_as_a_working_day() -> None:
    plain = WorkingDayCalendar([], {2026})

    # From Fri 2026-09-18: Sat 09-19 is off, Sun 09-20 is a make-up workday.
    assert official_calendar().add_working_days(date(2026, 9, 18), 1).date == date(2026, 9, 20)
    assert plain.add_working_days(date(2026, 9, 18), 1).date == date(2026, 9, 21)


def test_a_county_holiday_is_skipped() -> None:
    with_county_day = official_with(county_holiday(date(2026, 3, 3)))

    assert official_calendar().add_working_days(date(2026, 3, 2), 1).date == date(2026, 3, 3)
    assert with_county_day.add_working_days(date(2026, 3, 2), 1).date == date(2026, 3, 4)
    assert with_county_day.is_working_day(date(2026, 3, 3)) is False


def test_a_county_holiday_on_a_makeup_saturday_is_a_day_off() -> None:
    calendar = official_with(county_holiday(date(2026, 10, 10)))

    assert calendar.is_working_day(date(2026, 10, 10)) is False
    assert calendar.add_working_days(date(2026, 10, 9), 1).date == date(2026, 10, 12)


def test_a_computation_wholly_within_2026_is_not_provisional() -> None:
    assert official_calendar().add_working_days(date(2026, 1, 5), 200).provisional is False


def test_a_due_date_in_a_year_without_data_is_provisional_and_counts_weekdays_only() -> None:
    assert 2031 not in official_published_years()

    # Tue 2031-09-30: Wed 10-01 (1), Thu 10-02 (2), Fri 10-03 (3), Mon 10-06 (4), Tue 10-07 (5): no
    # National Day holiday is known for 2031, so only weekends are skipped.
    assert official_calendar().add_working_days(date(2031, 9, 30), 5) == DueDate(date(2031, 10, 7), True)


def test_a_count_running_into_an_unpublished_year_is_provisional() -> None:
    calendar = WorkingDayCalendar(official_special_days_up_to(2026), range(2004, 2027))

    # Wed 2026-12-30: Thu 12-31 (1), Fri 2027-01-01 (2, 元旦 unknown yet), Mon 2027-01-04 (3).
    assert calendar.add_working_days(date(2026, 12, 30), 3) == DueDate(date(2027, 1, 4), True)
    assert calendar.add_working_days(date(2026, 12, 30), 1) == DueDate(date(2026, 12, 31), False)


def test_county_holidays_apply_in_unpublished_years_but_official_days_are_refused_there() -> None:
    calendar = WorkingDayCalendar([county_holiday(date(2031, 10, 1))], {2026})

    assert calendar.add_working_days(date(2031, 9, 30), 1) == DueDate(date(2031, 10, 2), True)
    with pytest.raises(CalendarDataError, match="2031"):
        WorkingDayCalendar(
            [SpecialDay(date(2031, 10, 1), DayKind.PUBLIC_HOLIDAY, "国庆节", "猜测")],
            {2026},
        )


# --- working days between, and suspended clocks ----------------------------------------------------------


def test_working_days_between_counts_after_start_up_to_and_including_end() -> None:
    calendar = official_calendar()

    assert calendar.working_days_between(date(2026, 2, 12), date(2026, 2, 28)) == 7
    assert calendar.working_days_between(date(2026, 2, 28), date(2026, 2, 12)) == -7
    assert calendar.working_days_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    assert calendar.working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1


def test_working_days_between_undoes_add_working_days() -> None:
    calendar = official_with(county_holiday(date(2026, 3, 3)), county_holiday(date(2026, 10, 10)))
    mismatches = []
    # Every start from December 2025 to January 2027 (into an unpublished year), every n up to 44.
    for start in days_from(date(2025, 12, 1), date(2027, 1, 31)):
        for n in range(45):
            due = calendar.add_working_days(start, n).date
            if calendar.working_days_between(start, due) != n or (n > 0 and not calendar.is_working_day(due)):
                mismatches.append((start, n, due))

    assert mismatches == []


def test_add_working_days_agrees_with_counting_day_by_day() -> None:
    calendar = official_with(county_holiday(date(2026, 3, 3)))

    def count_day_by_day(start: date, n: int) -> date:
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            counted += calendar.is_working_day(day)
        return day

    mismatches = [
        (start, n)
        for start in days_from(date(2025, 12, 20), date(2027, 1, 10))
        for n in (1, 2, 5, 7, 10, 15, 20, 30, 60)
        if calendar.add_working_days(start, n).date != count_day_by_day(start, n)
    ]

    assert mismatches == []


def test_a_suspended_clock_resumes_with_the_remaining_budget() -> None:
    calendar = official_calendar()
    received, budget = date(2026, 9, 28), 15

    # Suspended on Fri 10-09: 09-29, 09-30, 10-08, 10-09 were used.
    used = calendar.working_days_between(received, date(2026, 10, 9))
    # Resumed on Tue 10-20 with 11 left: 10-21 (1), 10-22 (2), 10-23 (3), 10-26..10-30 (4-8),
    # Mon 11-02 (9), 11-03 (10), Wed 11-04 (11).
    resumed = calendar.add_working_days(date(2026, 10, 20), budget - used)

    assert used == 4
    assert resumed == DueDate(date(2026, 11, 4), False)


# --- warning admins about next year -------------------------------------------------------------------


def test_no_next_year_warning_before_november() -> None:
    assert WorkingDayCalendar([], {2026}).needs_next_year_warning(date(2026, 10, 31)) is None


def test_next_year_warning_from_november_first_when_next_year_is_unpublished() -> None:
    calendar = WorkingDayCalendar([], {2026})

    assert calendar.needs_next_year_warning(date(2026, 11, 1)) == 2027
    assert calendar.needs_next_year_warning(date(2026, 12, 31)) == 2027


def test_no_next_year_warning_once_next_year_is_published() -> None:
    assert WorkingDayCalendar([], {2026, 2027}).needs_next_year_warning(date(2026, 11, 1)) is None


def test_an_unpublished_current_year_is_warned_about_at_any_date() -> None:
    assert WorkingDayCalendar([], {2026}).needs_next_year_warning(date(2027, 1, 5)) == 2027


# --- importing a State Council notice ---------------------------------------------------------------------

NOTICE_SOURCE = "国办发明电〔2025〕7号"

SPRING_FESTIVAL_2026_CSV = (
    "date,kind,name,source\n"
    + f"2026-02-14,makeup_workday,春节,{NOTICE_SOURCE}\n"
    + "".join(
        f"{day.isoformat()},public_holiday,春节,{NOTICE_SOURCE}\n"
        for day in days_from(date(2026, 2, 15), date(2026, 2, 23))
    )
    + f"2026-02-28,makeup_workday,春节,{NOTICE_SOURCE}\n"
)


def test_a_valid_csv_notice_is_imported() -> None:
    imported = parse_notice_import(SPRING_FESTIVAL_2026_CSV, "csv")

    assert len(imported) == 11
    assert imported[0] == SpecialDay(date(2026, 2, 14), DayKind.MAKEUP_WORKDAY, "春节", NOTICE_SOURCE)
    assert imported[1] == SpecialDay(date(2026, 2, 15), DayKind.PUBLIC_HOLIDAY, "春节", NOTICE_SOURCE)
    assert imported[-1] == SpecialDay(date(2026, 2, 28), DayKind.MAKEUP_WORKDAY, "春节", NOTICE_SOURCE)
    assert [day.kind for day in imported].count(DayKind.PUBLIC_HOLIDAY) == 9


def test_an_imported_notice_drives_the_calendar_of_its_year() -> None:
    calendar = WorkingDayCalendar(parse_notice_import(SPRING_FESTIVAL_2026_CSV, "csv"), {2026})

    assert calendar.add_working_days(date(2026, 2, 12), 7) == DueDate(date(2026, 2, 28), False)


def test_a_csv_notice_saved_with_a_byte_order_mark_and_blank_lines_is_imported() -> None:
    text = "\ufeffdate,kind,name,source\r\n\r\n2026-10-10,makeup_workday,国庆节,通知\r\n"

    assert parse_notice_import(text, "csv") == [
        SpecialDay(date(2026, 10, 10), DayKind.MAKEUP_WORKDAY, "国庆节", "通知")
    ]


def test_a_valid_json_notice_is_imported() -> None:
    rows = [
        {"date": "2026-09-20", "kind": "makeup_workday", "name": "国庆节", "source": NOTICE_SOURCE},
        *(
            {"date": day.isoformat(), "kind": "public_holiday", "name": "国庆节", "source": NOTICE_SOURCE}
            for day in days_from(date(2026, 10, 1), date(2026, 10, 7))
        ),
        {"date": "2026-10-10", "kind": "makeup_workday", "name": "国庆节", "source": NOTICE_SOURCE},
    ]

    imported = parse_notice_import(json.dumps(rows, ensure_ascii=False), "json")

    assert [(day.date, day.kind) for day in imported] == [
        (date(2026, 9, 20), DayKind.MAKEUP_WORKDAY),
        *((day, DayKind.PUBLIC_HOLIDAY) for day in days_from(date(2026, 10, 1), date(2026, 10, 7))),
        (date(2026, 10, 10), DayKind.MAKEUP_WORKDAY),
    ]
    assert {(day.name, day.source) for day in imported} == {("国庆节", NOTICE_SOURCE)}


def test_a_csv_with_several_bad_rows_reports_every_problem_with_row_and_field() -> None:
    text = (
        "date,kind,name,source\n"
        "2027-01-01,public_holiday,元旦,通知\n"
        "2027/01/02,public_holiday,元旦,通知\n"
        "2027-02-30,holiday,春节,通知\n"
        "2027-02-10,public_holiday,,\n"
        "2027-02-11,county_holiday,春节,通知\n"
        "2027-02-12,public_holiday,春节\n"
    )

    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import(text, "csv")

    assert [(problem.loc, problem.msg) for problem in raised.value.fields] == [
        ((3, "date"), "第3行 date：日期格式应为 YYYY-MM-DD / row 3 date: expected YYYY-MM-DD"),
        ((4, "date"), "第4行 date：日期 2027-02-30 不存在 / row 4 date: 2027-02-30 is not a real date"),
        (
            (4, "kind"),
            "第4行 kind：类型应为 public_holiday（放假）或 makeup_workday（调休上班） "
            "/ row 4 kind: expected public_holiday or makeup_workday",
        ),
        ((5, "name"), "第5行 name：不能为空 / row 5 name: must not be empty"),
        ((5, "source"), "第5行 source：不能为空 / row 5 source: must not be empty"),
        (
            (6, "kind"),
            "第6行 kind：县级增设假日不属于国务院放假通知，请在县级假日中维护 / row 6 kind: county holidays "
            "are not part of the State Council notice; maintain them as county holidays",
        ),
        ((7,), "第7行：应有4列，实际为3列 / row 7: expected 4 columns, got 3"),
    ]
    assert isinstance(raised.value, InvalidInput)
    assert raised.value.status_code == 422
    assert "7" in raised.value.detail


def test_csv_rows_are_numbered_as_the_lines_of_the_file() -> None:
    # Line 2 is blank, lines 3-4 hold one quoted row whose name breaks across them, line 5 is the next row.
    text = 'date,kind,name,source\n\n2026-10-01,public_holiday,"国庆\n节",通知\n2026-10-2,public_holiday,国庆节,通知\n'

    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import(text, "csv")

    assert [problem.msg for problem in raised.value.fields] == [
        "第3行 name：不能包含换行 / row 3 name: must not contain line breaks",
        "第5行 date：日期格式应为 YYYY-MM-DD / row 5 date: expected YYYY-MM-DD",
    ]


def test_duplicate_dates_are_reported_against_the_first_row() -> None:
    text = "date,kind,name,source\n2026-10-01,public_holiday,国庆节,通知\n2026-10-01,public_holiday,国庆节,通知\n"

    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import(text, "csv")

    assert [problem.msg for problem in raised.value.fields] == [
        "第3行 date：与第2行日期重复 / row 3 date: same date as row 2"
    ]


def test_a_day_listed_both_as_holiday_and_as_makeup_workday_is_reported() -> None:
    text = "date,kind,name,source\n2026-10-03,public_holiday,国庆节,通知\n2026-10-03,makeup_workday,国庆节,通知\n"

    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import(text, "csv")

    assert [problem.loc for problem in raised.value.fields] == [(3, "date")]
    assert "既放假又调休上班" in raised.value.fields[0].msg
    assert "both a holiday and a make-up workday" in raised.value.fields[0].msg


def test_a_makeup_workday_on_a_weekday_is_reported() -> None:
    text = "date,kind,name,source\n2026-10-09,makeup_workday,国庆节,通知\n"

    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import(text, "csv")

    assert [problem.msg for problem in raised.value.fields] == [
        "第2行 date：调休上班日应为周六或周日，2026-10-09（周五）本来就是工作日 / row 2 date: a make-up "
        "workday must be a Saturday or Sunday; 2026-10-09 (Friday) is already a working day"
    ]


def test_rows_of_more_than_one_year_are_reported_against_the_notice_year() -> None:
    text = (
        "date,kind,name,source\n"
        "2026-10-01,public_holiday,国庆节,通知\n"
        "2027-01-01,public_holiday,元旦,通知\n"
        "2027-01-02,public_holiday,元旦,通知\n"
    )

    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import(text, "csv")

    assert [problem.msg for problem in raised.value.fields] == [
        "第2行 date：一份通知只能包含一个年度，本通知为2027年 / row 2 date: one notice covers one year; "
        "this notice is for 2027"
    ]


# The 2019 notice (国办发〔2018〕94号) began its New Year's Day holiday in December 2018.
NEW_YEAR_2019_CSV = (
    "date,kind,name,source\n"
    "2018-12-29,makeup_workday,元旦,国办发〔2018〕94号\n"
    "2018-12-30,public_holiday,元旦,国办发〔2018〕94号\n"
    "2018-12-31,public_holiday,元旦,国办发〔2018〕94号\n"
    "2019-01-01,public_holiday,元旦,国办发〔2018〕94号\n"
)


def test_december_days_of_new_years_day_belong_to_the_next_years_notice() -> None:
    imported = parse_notice_import(NEW_YEAR_2019_CSV, "csv")

    assert [(day.date, day.kind) for day in imported] == [
        (date(2018, 12, 29), DayKind.MAKEUP_WORKDAY),
        (date(2018, 12, 30), DayKind.PUBLIC_HOLIDAY),
        (date(2018, 12, 31), DayKind.PUBLIC_HOLIDAY),
        (date(2019, 1, 1), DayKind.PUBLIC_HOLIDAY),
    ]
    # Three of the four rows are dated 2018, yet the notice is 2019's.
    assert notice_year(imported) == 2019


def test_the_package_2019_new_years_day_matches_the_notice_rule() -> None:
    shipped = [day for day in official_special_days() if date(2018, 12, 29) <= day.date <= date(2019, 1, 1)]

    assert {notice_year_of(day.date, day.name) for day in shipped} == {2019}
    assert [(day.date, day.kind, day.name) for day in shipped] == [
        (day.date, day.kind, day.name) for day in parse_notice_import(NEW_YEAR_2019_CSV, "csv")
    ]


def test_a_december_day_of_the_previous_year_not_named_new_years_day_is_reported() -> None:
    text = (
        "date,kind,name,source\n"
        "2026-12-31,public_holiday,国庆节,通知\n"
        "2027-01-01,public_holiday,元旦,通知\n"
        "2027-01-02,public_holiday,元旦,通知\n"
    )

    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import(text, "csv")

    assert [problem.msg for problem in raised.value.fields] == [
        "第2行 date：一份通知只能包含一个年度，本通知为2027年；上一年12月的日期只能属于元旦假期（name 应为“元旦”） / "
        "row 2 date: one notice covers one year; this notice is for 2027; December dates of the previous year "
        "may only belong to New Year's Day (name 元旦)"
    ]


def test_a_december_new_years_day_in_its_own_years_notice_is_reported() -> None:
    # 2026-12-31 as 元旦 is announced by the 2027 notice, not by the 2026 one.
    text = (
        "date,kind,name,source\n"
        "2026-10-01,public_holiday,国庆节,通知\n"
        "2026-10-02,public_holiday,国庆节,通知\n"
        "2026-12-31,public_holiday,元旦,通知\n"
    )

    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import(text, "csv")

    assert [problem.loc for problem in raised.value.fields] == [(4, "date")]
    assert raised.value.fields[0].msg.endswith("December days of New Year's Day belong to the 2027 notice")


@pytest.mark.parametrize(
    ("day", "name", "year"),
    [
        (date(2018, 12, 30), "元旦", 2019),
        (date(2018, 12, 30), "New Year's Day", 2019),
        (date(2018, 12, 30), "元旦假期", 2019),
        (date(2018, 11, 30), "元旦", 2018),
        (date(2018, 12, 30), "春节", 2018),
        (date(2019, 1, 1), "元旦", 2019),
    ],
)
def test_notice_year_of_a_day(day: date, name: str, year: int) -> None:
    assert notice_year_of(day, name) == year


def test_a_calendar_accepts_december_days_of_the_next_published_years_notice() -> None:
    # 2030 is unpublished, 2031's notice starts New Year's Day on 2030-12-31 (a Tuesday).
    calendar = WorkingDayCalendar([SpecialDay(date(2030, 12, 31), DayKind.PUBLIC_HOLIDAY, "元旦", "通知")], {2031})

    assert calendar.is_working_day(date(2030, 12, 31)) is False
    # December 2030 itself is still unpublished: a count through it stays provisional.
    assert calendar.add_working_days(date(2030, 12, 30), 1) == DueDate(date(2031, 1, 1), True)
    with pytest.raises(CalendarDataError, match="2030-11-30"):
        WorkingDayCalendar([SpecialDay(date(2030, 11, 30), DayKind.MAKEUP_WORKDAY, "元旦", "通知")], {2031})


def test_a_csv_header_without_the_notice_columns_is_reported() -> None:
    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import("date,type,name\n2026-10-01,public_holiday,国庆节\n", "csv")

    assert [problem.msg for problem in raised.value.fields] == [
        "第1行 header：缺少列 kind, source / row 1 header: missing column(s) kind, source",
        "第1行 header：未知列 type / row 1 header: unknown column(s) type",
    ]


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("", "csv", "文件：文件为空，应有表头 date,kind,name,source / file: empty"),
        ("date,kind,name,source\n", "csv", "文件：没有任何日期 / file: contains no dates"),
        ("[]", "json", "文件：没有任何日期 / file: contains no dates"),
        ('{"date": "2026-10-01"}', "json", "文件：应为对象列表 / file: expected a list of objects"),
        ('[{"date": "2026-10-01",]', "json", "文件：不是有效的 JSON（第1行第24列） / file: not valid JSON"),
    ],
)
def test_an_unusable_file_is_reported_as_a_whole(text: str, fmt: str, message: str) -> None:
    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import(text, fmt)  # type: ignore[arg-type]

    assert [problem.loc for problem in raised.value.fields] == [("file",)]
    assert raised.value.fields[0].msg.startswith(message)


def test_json_rows_are_checked_for_shape_keys_and_types() -> None:
    rows = [
        "2026-10-01",
        {"date": "2026-10-02", "kind": "public_holiday", "name": "国庆节"},
        {"date": 20261003, "kind": "public_holiday", "name": "国庆节", "source": "通知", "note": "x"},
    ]

    with pytest.raises(NoticeImportError) as raised:
        parse_notice_import(json.dumps(rows), "json")

    assert [(problem.loc, problem.msg) for problem in raised.value.fields] == [
        ((1,), "第1行：应为对象 / row 1: expected an object"),
        ((2, "source"), "第2行 source：缺少该字段 / row 2 source: field is missing"),
        ((3,), "第3行：未知字段 note / row 3: unknown key(s) note"),
        ((3, "date"), "第3行 date：应为文本 / row 3 date: expected a string"),
    ]
