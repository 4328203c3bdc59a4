"""Typed errors of the person registry (人员登记). Messages are bilingual: Chinese first, then English."""

from __future__ import annotations

from enum import StrEnum

from backend.core.errors import FieldError, InvalidInput

Loc = tuple[str | int, ...]
RESIDENT_ID_LOC: Loc = ("body", "resident_id")


class ResidentIdProblem(StrEnum):
    """Why a resident ID number (居民身份证号码) was refused; stable values for callers and logs."""

    WRONG_LENGTH = "wrong_length"
    BAD_CHARACTERS = "bad_characters"
    BAD_CHECK_DIGIT = "bad_check_digit"
    IMPOSSIBLE_BIRTH_DATE = "impossible_birth_date"
    BIRTH_DATE_TOO_EARLY = "birth_date_too_early"
    FUTURE_BIRTH_DATE = "future_birth_date"
    UNKNOWN_PROVINCE = "unknown_province"
    UNKNOWN_REGION = "unknown_region"


class InvalidResidentId(InvalidInput):
    """A resident ID number failed validation. `problem` says why; `fields[0].loc` is where it was
    entered (default `("body", "resident_id")`), and `fields[0].msg` is the message shown there."""

    def __init__(self, problem: ResidentIdProblem, msg: str, *, loc: Loc = RESIDENT_ID_LOC) -> None:
        super().__init__(msg, fields=[FieldError(loc=loc, msg=msg)])
        self.problem = problem


class InconsistentWithResidentId(InvalidInput):
    """Separately entered details (birth date, sex) contradict the resident ID number;
    `fields` has one entry per contradicting field."""

    def __init__(self, mismatches: list[FieldError]) -> None:
        super().__init__(
            "填写的信息与身份证号码不一致 / The details entered do not match the resident ID number",
            fields=mismatches,
        )
