"""Resident ID numbers: parsing, every refusal and its message, consistency with entered details."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from backend.core.errors import FieldError, InvalidInput
from backend.persons.errors import InconsistentWithResidentId, InvalidResidentId, Loc, ResidentIdProblem
from backend.persons.resident_id import (
    ResidentId,
    Sex,
    check_character,
    check_consistency,
    parse_resident_id,
)

TODAY = date(2025, 6, 1)
PUBLIC_EXAMPLE = "11010519491231002X"


def with_check(first_17: str) -> str:
    """Append the check character, computed independently of the module: weight i is 2^(17-i) mod 11
    and the check value is (12 - sum mod 11) mod 11, written X for 10."""
    assert len(first_17) == 17
    total = sum(int(digit) * pow(2, 17 - index, 11) for index, digit in enumerate(first_17))
    value = (12 - total % 11) % 11
    return first_17 + ("X" if value == 10 else str(value))


def wrong_check(first_17: str) -> str:
    """The same number with a check character that is not the right one."""
    right = with_check(first_17)[-1]
    return first_17 + ("0" if right != "0" else "1")


def refusal(raw: str, loc: Loc | None = None) -> InvalidResidentId:
    """The error parsing `raw` raises; `loc` is passed only when given, so the default is tested."""
    with pytest.raises(InvalidResidentId) as caught:
        if loc is None:
            parse_resident_id(raw, today=TODAY)
        else:
            parse_resident_id(raw, today=TODAY, loc=loc)
    return caught.value


def test_helper_agrees_with_public_example() -> None:
    assert with_check(PUBLIC_EXAMPLE[:17]) == PUBLIC_EXAMPLE


def test_public_example_parses() -> None:
    assert parse_resident_id(PUBLIC_EXAMPLE, today=TODAY) == ResidentId(
        number=PUBLIC_EXAMPLE, division_code="110105", birth_date=date(1949, 12, 31), sex="female"
    )


@pytest.mark.parametrize(
    ("first_17", "division_code", "birth_date", "sex"),
    [
        ("33010619900307123", "330106", date(1990, 3, 7), "male"),
        ("11010120000229452", "110101", date(2000, 2, 29), "female"),
        ("44030519851015001", "440305", date(1985, 10, 15), "male"),
    ],
)
def test_valid_number_gives_division_birth_date_and_sex(
    first_17: str, division_code: str, birth_date: date, sex: Sex
) -> None:
    number = with_check(first_17)
    assert parse_resident_id(number, today=TODAY) == ResidentId(number, division_code, birth_date, sex)


def test_check_character_matches_independent_helper_on_many_numbers() -> None:
    generator = random.Random(11643)
    for _ in range(500):
        first_17 = "".join(generator.choice("0123456789") for _ in range(17))
        assert check_character(first_17) == with_check(first_17)[-1]


def test_lowercase_x_is_accepted_and_normalised() -> None:
    assert parse_resident_id(PUBLIC_EXAMPLE.lower(), today=TODAY).number == PUBLIC_EXAMPLE


def test_full_width_digits_and_spaces_are_normalised() -> None:
    typed = " １１０１０５ １９４９１２３１ ００２ｘ "
    assert parse_resident_id(typed, today=TODAY).number == PUBLIC_EXAMPLE


def test_abolished_county_code_is_still_accepted() -> None:
    # 110103 崇文区 was merged into 东城区 in 2010; people registered there keep the code.
    assert parse_resident_id(with_check("11010319751120331"), today=TODAY).division_code == "110103"


def test_summary_code_seen_on_real_cards_is_accepted() -> None:
    # 130101 石家庄市市辖区: a summary code, not a county, yet printed on real ID cards.
    assert parse_resident_id(with_check("13010119800101001"), today=TODAY).division_code == "130101"


def test_hong_kong_residence_permit_prefix_is_accepted() -> None:
    assert parse_resident_id(with_check("81000019800101001"), today=TODAY).division_code == "810000"


def test_birth_date_today_is_accepted() -> None:
    assert parse_resident_id(with_check("33010620250601001"), today=TODAY).birth_date == TODAY


def test_birth_date_1900_01_01_is_accepted() -> None:
    assert parse_resident_id(with_check("33010619000101001"), today=TODAY).birth_date == date(1900, 1, 1)


def test_wrong_check_digit_is_refused() -> None:
    assert refusal(wrong_check("33010619900307123")).problem is ResidentIdProblem.BAD_CHECK_DIGIT


def test_wrong_check_digit_message_does_not_reveal_the_right_one() -> None:
    first_17 = "33010619900307123"
    message = refusal(wrong_check(first_17)).fields[0].msg
    assert with_check(first_17)[-1] not in message
    assert not re.search(r"\d", message)
    assert "校验位" in message
    assert "check digit" in message


@pytest.mark.parametrize("birth_digits", ["19900230", "19901131", "19901301", "19900001", "19900100", "19990229"])
def test_impossible_birth_date_is_refused(birth_digits: str) -> None:
    error = refusal(with_check("330106" + birth_digits + "123"))
    assert error.problem is ResidentIdProblem.IMPOSSIBLE_BIRTH_DATE
    assert birth_digits in error.fields[0].msg


def test_future_birth_date_is_refused() -> None:
    error = refusal(with_check("33010620250602001"))
    assert error.problem is ResidentIdProblem.FUTURE_BIRTH_DATE
    assert "2025-06-02" in error.fields[0].msg


def test_future_is_judged_against_the_given_today() -> None:
    number = with_check("33010620250602001")
    assert parse_resident_id(number, today=date(2025, 6, 2)).birth_date == date(2025, 6, 2)


def test_birth_date_before_1900_is_refused() -> None:
    assert refusal(with_check("33010618991231001")).problem is ResidentIdProblem.BIRTH_DATE_TOO_EARLY


@pytest.mark.parametrize("division_code", ["119999", "330199", "110199"])
def test_county_code_missing_from_table_is_refused_as_unknown_region(division_code: str) -> None:
    error = refusal(with_check(division_code + "19900307123"))
    assert error.problem is ResidentIdProblem.UNKNOWN_REGION
    assert division_code in error.fields[0].msg


@pytest.mark.parametrize("division_code", ["330000", "710000"])
def test_bare_province_code_is_refused_as_unknown_region(division_code: str) -> None:
    assert refusal(with_check(division_code + "19900307123")).problem is ResidentIdProblem.UNKNOWN_REGION


@pytest.mark.parametrize("division_code", ["990101", "000000", "160101", "830000"])
def test_invalid_province_is_refused(division_code: str) -> None:
    error = refusal(with_check(division_code + "19900307123"))
    assert error.problem is ResidentIdProblem.UNKNOWN_PROVINCE
    assert division_code[:2] in error.fields[0].msg


@pytest.mark.parametrize(
    ("raw", "length"),
    [("", 0), ("1101051949123100", 16), ("11010519491231002", 17), ("11010519491231002X1", 19),
     ("110105491231002", 15)],
)  # fmt: skip
def test_wrong_length_is_refused(raw: str, length: int) -> None:
    error = refusal(raw)
    assert error.problem is ResidentIdProblem.WRONG_LENGTH
    assert f"{length}位" in error.fields[0].msg
    assert f"got {length}" in error.fields[0].msg


@pytest.mark.parametrize(
    "raw",
    [
        "1101051949123100A2",
        "X10105194912310021",
        "110105-9491231002X",
        "11010519491231002Y",
        "11010519491231X021",
    ],
)
def test_non_digits_are_refused(raw: str) -> None:
    assert refusal(raw).problem is ResidentIdProblem.BAD_CHARACTERS


FAILING_INPUTS = [
    "123",
    "1101051949123100A2",
    wrong_check("33010619900307123"),
    with_check("33010619900230123"),
    with_check("33010618991231001"),
    with_check("33010620250602001"),
    with_check("99010119900307123"),
    with_check("11999919900307123"),
]


def test_failing_inputs_cover_every_problem() -> None:
    problems = set()
    for raw in FAILING_INPUTS:
        with pytest.raises(InvalidResidentId) as caught:
            parse_resident_id(raw, today=TODAY)
        problems.add(caught.value.problem)
    assert problems == set(ResidentIdProblem)


@pytest.mark.parametrize("raw", FAILING_INPUTS)
def test_every_refusal_names_the_field_in_chinese_then_english(raw: str) -> None:
    error = refusal(raw)
    assert isinstance(error, InvalidInput)
    assert error.status_code == 422
    assert len(error.fields) == 1
    assert error.fields[0].loc == ("body", "resident_id")
    message = error.fields[0].msg
    chinese, english = message.split(" / ")
    assert chinese.startswith("身份证号码")
    assert english.startswith("Resident ID number:")
    assert error.detail == message


@pytest.mark.parametrize("raw", FAILING_INPUTS)
def test_refusal_uses_the_location_the_caller_gives(raw: str) -> None:
    error = refusal(raw, ("body", "spouse", "resident_id"))
    assert error.fields[0].loc == ("body", "spouse", "resident_id")


# --- consistency with separately entered details -------------------------------------------------

PERSON = ResidentId(number=PUBLIC_EXAMPLE, division_code="110105", birth_date=date(1949, 12, 31), sex="female")


def test_matching_details_report_nothing() -> None:
    assert check_consistency(PERSON, birth_date=date(1949, 12, 31), sex="female") == []


def test_nothing_entered_reports_nothing() -> None:
    assert check_consistency(PERSON) == []


def test_birth_date_mismatch_is_reported_on_the_birth_date_field() -> None:
    [mismatch] = check_consistency(PERSON, birth_date=date(1949, 12, 30))
    assert mismatch.loc == ("body", "birth_date")
    assert "1949-12-30" in mismatch.msg
    assert "1949-12-31" in mismatch.msg
    assert mismatch.msg.index("出生日期") < mismatch.msg.index("Birth date")


def test_sex_mismatch_is_reported_on_the_sex_field() -> None:
    [mismatch] = check_consistency(PERSON, sex="male")
    assert mismatch.loc == ("body", "sex")
    assert "性别" in mismatch.msg
    assert "'male'" in mismatch.msg
    assert "'female'" in mismatch.msg


def test_both_mismatches_are_reported_at_the_callers_locations() -> None:
    mismatches = check_consistency(
        PERSON,
        birth_date=date(1950, 1, 1),
        sex="male",
        birth_date_loc=("body", "child", "birth_date"),
        sex_loc=("body", "child", "sex"),
    )
    assert [mismatch.loc for mismatch in mismatches] == [
        ("body", "child", "birth_date"),
        ("body", "child", "sex"),
    ]


def test_inconsistency_error_carries_the_mismatches() -> None:
    mismatches = check_consistency(PERSON, sex="male")
    error = InconsistentWithResidentId(mismatches)
    assert isinstance(error, InvalidInput)
    assert error.status_code == 422
    assert error.fields == mismatches
    assert all(isinstance(field, FieldError) for field in error.fields)
