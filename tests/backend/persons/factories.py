"""Valid resident ID numbers and registration bodies for registry tests."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from backend.persons.resident_id import check_character
from tests.fixtures.identity import County

_serial = itertools.count(1)


def make_id(*, region: str = "110101", birth: date | None = None, sex: str = "male") -> str:
    """A valid 18-character ID number, different on every call (the serial picks the birth date when none is
    given, and the sequence digits otherwise). The 17th digit is odd for men and even for women."""
    serial = next(_serial)
    birth = birth or date(1970, 1, 1) + timedelta(days=serial * 7)
    parity = 1 if sex == "male" else 0
    sequence = f"{serial % 100:02d}{(serial // 100 % 5) * 2 + parity}"
    first_17 = f"{region}{birth:%Y%m%d}{sequence}"
    return first_17 + check_character(first_17)


def with_wrong_check_digit(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:17] + wrong


def person_body(county: County, unit: str = "v11", **overrides: Any) -> dict[str, Any]:
    """An inflow person managed by (and living in) `unit`."""
    body: dict[str, Any] = {
        "name": "李梅",
        "resident_id": make_id(sex="female"),
        "phone": "13812345678",
        "org_unit_code": county.units.get(unit, unit),
        "flow_direction": "inflow",
        "flow_date": "2025-03-01",
        "registration_division_code": "330106",
        "registration_address": "浙江省杭州市西湖区文三路1号",
        "residence_address": "一村3组12号",
        "flow_origin_destination": "浙江杭州",
        "landlord_or_employer": "王房东",
        "marital_status": "first_marriage",
        "contraception_measure": "iud",
        "contraception_date": "2024-05-01",
    }
    body.update(overrides)
    return body
