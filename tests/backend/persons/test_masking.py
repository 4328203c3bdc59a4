"""Masking resident ID numbers and phone numbers for display."""

from __future__ import annotations

import pytest

from backend.persons.resident_id import mask_phone, mask_resident_id


def test_resident_id_keeps_first_6_and_last_4() -> None:
    assert mask_resident_id("110101199003074518") == "110101********4518"


def test_resident_id_with_x_keeps_the_x() -> None:
    assert mask_resident_id("11010519491231002X") == "110105********002X"


def test_legacy_15_digit_number_keeps_first_6_and_last_4() -> None:
    assert mask_resident_id("110105491231002") == "110105*****1002"


@pytest.mark.parametrize("short", ["", "1234", "1101051234"])
def test_number_too_short_to_show_6_plus_4_is_masked_whole(short: str) -> None:
    assert mask_resident_id(short) == "*" * len(short)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),
        ("+8613812345678", "+86 138****5678"),
        ("+86 138-1234-5678", "+86 138****5678"),
        ("0086 13812345678", "0086 138****5678"),
    ],
)
def test_mobile_keeps_first_3_and_last_4(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("010-12345678", "010-****5678"),
        ("0571-8765432", "0571-***5432"),
        ("(0571)87654321", "0571-****4321"),
        ("01012345678", "010****5678"),
        ("057187654321", "0571****4321"),
    ],
)
def test_landline_keeps_area_code_and_last_4(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("87654321", "****4321"), ("8765432", "***5432"), ("+1 4155550123", "+1 ******0123")],
)
def test_other_numbers_keep_only_last_4(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("phone", ["110", "1234"])
def test_numbers_of_4_digits_or_fewer_are_masked_whole(phone: str) -> None:
    assert mask_phone(phone) == "*" * len(phone)
