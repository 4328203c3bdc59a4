"""Resident identity numbers (居民身份证号码) per GB 11643-1999, and masking for display.

Layout of the 18 characters:
- 1–6   address code (地址码): the GB/T 2260 division where the holder was first registered
- 7–14  birth date (出生日期码), YYYYMMDD
- 15–17 sequence code (顺序码); the 17th digit is odd for men, even for women
- 18    check character (校验码), ISO 7064 MOD 11-2 over the first 17 digits, 0–9 or X

Everything here is pure: no database, no wall clock (`today` is passed in by the caller).
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from backend.core.errors import FieldError
from backend.persons.divisions import is_valid_province_code, lookup_division
from backend.persons.errors import RESIDENT_ID_LOC, InvalidResidentId, Loc, ResidentIdProblem

Sex = Literal["male", "female"]

RESIDENT_ID_LENGTH = 18
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ZERO_OFFSET = ord("0") * sum(_WEIGHTS)
_CHECK_CHARACTERS = "10X98765432"
# Prefixes of residence permits for Hong Kong and Macao residents (港澳居民居住证): same format as an
# ID number, with a province-level code in place of a county code.
_RESIDENCE_PERMIT_CODES = frozenset({"810000", "820000"})
_LAST_CHARACTERS = frozenset("0123456789X")
_WHITESPACE = re.compile(r"\s+")

_FIELD_ZH = "身份证号码"
_FIELD_EN = "Resident ID number"

_SEX_ZH: dict[Sex, str] = {"male": "男", "female": "女"}


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A resident ID number that passed every check. `number` is normalised (upper-case X)."""

    number: str
    division_code: str
    birth_date: date
    sex: Sex


def _has_id_shape(number: str) -> bool:
    """17 ASCII digits then a digit or X (the regex [0-9]{17}[0-9X], without the regex: this runs for every
    item of a 1,000-notification batch)."""
    return number.isascii() and number[:17].isdigit() and number[17:] in _LAST_CHARACTERS


def check_character(first_17_digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number."""
    if len(first_17_digits) != len(_WEIGHTS) or not (first_17_digits.isascii() and first_17_digits.isdigit()):
        raise ValueError("the check character is computed over exactly 17 digits")
    # Over the ASCII codes, less '0' times the weights: no int() per digit (this runs per batch item).
    total = sum(map(operator.mul, first_17_digits.encode("ascii"), _WEIGHTS)) - _ZERO_OFFSET
    return _CHECK_CHARACTERS[total % 11]


def _refuse(problem: ResidentIdProblem, zh: str, en: str, loc: Loc) -> InvalidResidentId:
    return InvalidResidentId(problem, f"{_FIELD_ZH}{zh} / {_FIELD_EN}: {en}", loc=loc)


def normalise_resident_id(raw: str) -> str:
    """Full-width characters to half-width (an IME often types １２３), whitespace removed, x → X."""
    if raw.isascii() and raw.isalnum():  # the common case (department systems): nothing to normalise
        return raw.upper()
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", raw)).upper()


def _region_is_known(division_code: str) -> bool:
    division = lookup_division(division_code)
    if division is None:
        return False
    return division.level != "province" or division_code in _RESIDENCE_PERMIT_CODES


def parse_resident_id(raw: str, *, today: date, loc: Loc = RESIDENT_ID_LOC) -> ResidentId:
    """Validate and normalise an 18-character resident ID number.

    Checks, in order: length, characters, check character, birth date (a real date, not before
    1900-01-01, not after `today`), province prefix, and the full 6-digit region code against the
    division table (historical codes included). Raises `InvalidResidentId` naming the field at
    `loc` and the first problem found; the message never reveals the correct check character.
    """
    number = normalise_resident_id(raw)
    if len(number) != RESIDENT_ID_LENGTH:
        raise _refuse(
            ResidentIdProblem.WRONG_LENGTH,
            f"应为18位，实际为{len(number)}位",
            f"must be 18 characters long, got {len(number)}",
            loc,
        )
    if not _has_id_shape(number):
        raise _refuse(
            ResidentIdProblem.BAD_CHARACTERS,
            "含有无效字符：前17位必须是数字，最后一位必须是数字或X",
            "contains invalid characters: the first 17 must be digits and the last a digit or X",
            loc,
        )
    if check_character(number[:17]) != number[17]:
        raise _refuse(
            ResidentIdProblem.BAD_CHECK_DIGIT,
            "校验位不正确，请核对号码是否输错",
            "the check digit is wrong; please check the number for typos",
            loc,
        )
    birth_digits = number[6:14]
    try:
        birth_date = date(int(birth_digits[:4]), int(birth_digits[4:6]), int(birth_digits[6:]))
    except ValueError:
        raise _refuse(
            ResidentIdProblem.IMPOSSIBLE_BIRTH_DATE,
            f"中的出生日期{birth_digits}不是有效日期",
            f"the birth date {birth_digits} is not a real date",
            loc,
        ) from None
    if birth_date < EARLIEST_BIRTH_DATE:
        raise _refuse(
            ResidentIdProblem.BIRTH_DATE_TOO_EARLY,
            f"中的出生日期{birth_date.isoformat()}早于1900年1月1日",
            f"the birth date {birth_date.isoformat()} is before 1900-01-01",
            loc,
        )
    if birth_date > today:
        raise _refuse(
            ResidentIdProblem.FUTURE_BIRTH_DATE,
            f"中的出生日期{birth_date.isoformat()}晚于今天",
            f"the birth date {birth_date.isoformat()} is in the future",
            loc,
        )
    division_code = number[:6]
    if not is_valid_province_code(division_code):
        raise _refuse(
            ResidentIdProblem.UNKNOWN_PROVINCE,
            f"前两位{division_code[:2]}不是有效的省级行政区代码",
            f"the first two digits {division_code[:2]} are not a valid province-level code",
            loc,
        )
    if not _region_is_known(division_code):
        raise _refuse(
            ResidentIdProblem.UNKNOWN_REGION,
            f"前六位{division_code}不是已知的行政区划代码",
            f"the first six digits {division_code} are not a known region (division) code",
            loc,
        )
    return ResidentId(
        number=number,
        division_code=division_code,
        birth_date=birth_date,
        sex="male" if int(number[16]) % 2 == 1 else "female",
    )


def check_consistency(
    resident_id: ResidentId,
    *,
    birth_date: date | None = None,
    sex: Sex | None = None,
    birth_date_loc: Loc = ("body", "birth_date"),
    sex_loc: Loc = ("body", "sex"),
) -> list[FieldError]:
    """Compare separately entered details with what the ID number encodes.

    Returns one `FieldError` per contradicting field (empty when everything agrees or nothing was
    given); raise `InconsistentWithResidentId(errors)` if the caller wants to refuse the input.
    """
    mismatches: list[FieldError] = []
    if birth_date is not None and birth_date != resident_id.birth_date:
        entered, encoded = birth_date.isoformat(), resident_id.birth_date.isoformat()
        mismatches.append(
            FieldError(
                loc=birth_date_loc,
                msg=(
                    f"出生日期{entered}与身份证号码中的出生日期{encoded}不一致 / "
                    f"Birth date {entered} does not match the birth date "
                    f"in the resident ID number ({encoded})"
                ),
            )
        )
    if sex is not None and sex != resident_id.sex:
        mismatches.append(
            FieldError(
                loc=sex_loc,
                msg=(
                    f"性别“{_SEX_ZH[sex]}”与身份证号码中的性别“{_SEX_ZH[resident_id.sex]}”不一致 / "
                    f"Sex '{sex}' does not match the sex in the resident ID number ('{resident_id.sex}')"
                ),
            )
        )
    return mismatches


def mask_resident_id(number: str) -> str:
    """Keep the first 6 and last 4 characters: `110101********4518`.

    Anything 10 characters or shorter is masked whole, since showing 6 + 4 would reveal all of it.
    """
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


# +86 / 0086 may run straight into the number; another country code must be followed by a separator.
_PHONE_PREFIX = re.compile(r"^(?:\+|00)86[\s-]*|^(?:\+|00)\d{1,3}[\s-]+")
_PHONE_SEPARATORS = re.compile(r"[\s()-]+")


def _mask_keep_last_4(digits: str) -> str:
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def _landline_area_code_length(digits: str) -> int:
    # 010 and 02x are three digits; every other mainland area code is four (0xxx).
    return 3 if digits[:2] in {"01", "02"} else 4


def mask_phone(phone: str) -> str:
    """Mask a phone number for display, keeping what identifies the line's region and the last 4.

    - mobile (11 digits starting with 1): `13812345678` → `138****5678`
    - landline with area code: `010-12345678` → `010-****5678`, `057187654321` → `0571****4321`
    - local number without area code: `87654321` → `****4321`
    - a country prefix is kept, followed by one space: `+8613812345678` → `+86 138****5678`
    - numbers of 4 digits or fewer are masked whole.
    """
    text = unicodedata.normalize("NFKC", phone).strip()
    prefix_match = _PHONE_PREFIX.match(text)
    rest = text[prefix_match.end() :] if prefix_match else text
    prefix = prefix_match.group(0).rstrip(" -") + " " if prefix_match else ""
    groups = [group for group in _PHONE_SEPARATORS.split(rest) if group]
    digits = "".join(groups)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{prefix}{digits[:3]}****{digits[-4:]}"
    if digits.startswith("0") and len(digits) > 4:
        if len(groups) > 1 and len(groups[0]) in {3, 4}:
            area_code, subscriber = groups[0], "".join(groups[1:])
            return f"{prefix}{area_code}-{_mask_keep_last_4(subscriber)}"
        split = _landline_area_code_length(digits)
        return f"{prefix}{digits[:split]}{_mask_keep_last_4(digits[split:])}"
    return f"{prefix}{_mask_keep_last_4(digits)}"
