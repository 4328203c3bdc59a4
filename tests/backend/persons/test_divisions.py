"""The division-code table: lookups, history, and the shape of the committed data file."""

from __future__ import annotations

import pytest

from backend.persons import divisions
from backend.persons.divisions import (
    PROVINCE_CODES,
    county_divisions,
    division_name,
    division_table,
    is_known_division,
    is_valid_province_code,
    lookup_division,
    province_of,
)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("110101", "东城区"),
        ("330106", "西湖区"),
        ("440305", "南山区"),
        ("429004", "仙桃市"),
        ("330100", "杭州市"),
    ],
)
def test_known_codes_have_their_names(code: str, name: str) -> None:
    assert division_name(code) == name
    assert is_known_division(code)


@pytest.mark.parametrize("code", ["110199", "330199", "999999", "000000", "", "11010"])
def test_unknown_codes_have_no_name(code: str) -> None:
    assert division_name(code) is None
    assert not is_known_division(code)
    assert lookup_division(code) is None


def test_row_carries_province_and_prefecture() -> None:
    division = lookup_division("330106")
    assert division is not None
    assert (division.province, division.prefecture, division.level) == ("浙江省", "杭州市", "county")
    assert division.is_current


def test_abolished_code_is_kept_with_its_last_year() -> None:
    division = lookup_division("110103")
    assert division is not None
    assert division.name == "崇文区"
    assert division.last_year == 2009
    assert not division.is_current


def test_reused_code_keeps_its_former_names() -> None:
    division = lookup_division("533322")
    assert division is not None
    assert division.former_names == ("福贡县",)


@pytest.mark.parametrize(
    ("code", "province"),
    [("330106", "浙江省"), ("110101", "北京市"), ("119999", "北京市"), ("650102", "新疆维吾尔自治区"),
     ("810000", "香港特别行政区")],
)  # fmt: skip
def test_province_of_any_code_with_a_valid_prefix(code: str, province: str) -> None:
    assert province_of(code) == province


@pytest.mark.parametrize("code", ["990101", "160101", "830000", "", "1"])
def test_province_of_invalid_prefix_is_none(code: str) -> None:
    assert province_of(code) is None
    assert not is_valid_province_code(code)


def test_every_province_prefix_has_a_province_row() -> None:
    assert len(PROVINCE_CODES) == 34
    for prefix in PROVINCE_CODES:
        division = lookup_division(prefix + "0000")
        assert division is not None, prefix
        assert division.level == "province"


def test_current_county_list_matches_the_2024_count_and_leaves_out_abolished_codes() -> None:
    # 2,846 county-level units in the Ministry of Civil Affairs' 2024 list; update on a data rebuild.
    current = county_divisions()
    codes = [division.code for division in current]
    assert len(current) == 2846
    assert "110101" in codes
    assert "110103" not in codes
    assert codes == sorted(codes)
    assert {division.level for division in current} == {"county"}


def test_historical_county_list_includes_abolished_codes() -> None:
    codes = {division.code for division in county_divisions(current_only=False)}
    assert "110103" in codes
    assert len(codes) > 2846


def test_table_shape() -> None:
    table = division_table()
    assert len(table) > 7000
    for code, division in table.items():
        assert code == division.code
        assert len(code) == 6
        assert code.isdigit()
        assert code[:2] in PROVINCE_CODES
        assert division.name
        assert division.province
        assert division.first_year >= 1980
        assert division.last_year is None or division.last_year >= division.first_year
        if division.level == "province":
            assert code.endswith("0000")
        if division.level == "county":
            assert not code.endswith("00")
            assert division.prefecture


def test_table_is_loaded_once() -> None:
    assert division_table() is division_table()


def test_unknown_level_in_data_is_rejected() -> None:
    text = (
        "code,name,province,prefecture,level,first_year,last_year,former_names\n"
        "110101,东城区,北京市,市辖区,town,1980,,\n"
    )
    with pytest.raises(ValueError, match="unknown level 'town'"):
        divisions._parse_rows(text)
