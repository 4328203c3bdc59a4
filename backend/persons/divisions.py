"""PRC administrative division codes (行政区划代码, GB/T 2260), current and historical.

The table lives in `data/divisions.csv` (source and licence in `data/README.md`). It is read once, on
first use, and kept in memory as a dict, so every lookup is O(1). Historical codes stay in the table
because ID numbers keep the code of the place that first registered the holder, even after that
county was merged away or renumbered.

Levels:
- `province`   省级 (xx0000), including 710000 台湾省, 810000 香港特别行政区, 820000 澳门特别行政区
- `prefecture` 地级 (xxxx00)
- `county`     县级 (everything else): the units a county tenant and the division-code picker deal with
- `summary`    汇总码: codes such as ××××01 市辖区 or 110200 县 that group units without naming a place;
               they still appear on real ID cards, so ID validation accepts them.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Literal, cast

DivisionLevel = Literal["province", "prefecture", "county", "summary"]

PROVINCE_CODES: frozenset[str] = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46".split()
) | frozenset("50 51 52 53 54 61 62 63 64 65 71 81 82".split())
"""The two-digit province-level prefixes valid in a resident ID number (GB 11643 / GB/T 2260)."""

_LEVELS: frozenset[str] = frozenset({"province", "prefecture", "county", "summary"})


@dataclass(frozen=True, slots=True)
class Division:
    """One row of the division-code table.

    `first_year` is the first year the code is recorded (1980 means "1980 or earlier": the sources
    start there); `last_year` is None while the code is in use and otherwise the last year it was
    recorded. `former_names` lists earlier names of the same code, newest first.
    """

    code: str
    name: str
    province: str
    prefecture: str
    level: DivisionLevel
    first_year: int
    last_year: int | None
    former_names: tuple[str, ...]

    @property
    def is_current(self) -> bool:
        """Whether the code is still in the newest code list the table was built from."""
        return self.last_year is None


def _parse_rows(text: str) -> dict[str, Division]:
    table: dict[str, Division] = {}
    for row in csv.DictReader(io.StringIO(text)):
        level = row["level"]
        if level not in _LEVELS:
            raise ValueError(f"divisions.csv: unknown level {level!r} for code {row['code']}")
        table[row["code"]] = Division(
            code=row["code"],
            name=row["name"],
            province=row["province"],
            prefecture=row["prefecture"],
            level=cast(DivisionLevel, level),
            first_year=int(row["first_year"]),
            last_year=int(row["last_year"]) if row["last_year"] else None,
            former_names=tuple(row["former_names"].split("|")) if row["former_names"] else (),
        )
    return table


@functools.cache
def division_table() -> Mapping[str, Division]:
    """The whole table keyed by 6-digit code, loaded on first call and cached for the process."""
    text = resources.files("backend.persons").joinpath("data/divisions.csv").read_text(encoding="utf-8")
    return _parse_rows(text)


def lookup_division(code: str) -> Division | None:
    """The table row for a 6-digit code, or None if the code is unknown."""
    return division_table().get(code)


def division_name(code: str) -> str | None:
    """The (newest) name of a 6-digit division code, e.g. `110101` → `东城区`; None if unknown."""
    division = division_table().get(code)
    return division.name if division is not None else None


def is_known_division(code: str) -> bool:
    """Whether a 6-digit code is in the table at any level, current or historical."""
    return code in division_table()


def is_valid_province_code(code: str) -> bool:
    """Whether the first two characters of `code` are a province-level prefix (see PROVINCE_CODES)."""
    return code[:2] in PROVINCE_CODES


def province_of(code: str) -> str | None:
    """The province-level name for any code starting with a valid province prefix, e.g.
    `330106` → `浙江省`; None if the first two digits are not a province-level prefix."""
    if not is_valid_province_code(code):
        return None
    province = division_table().get(code[:2] + "0000")
    return province.name if province is not None else None


def county_divisions(*, current_only: bool = True) -> list[Division]:
    """County-level units sorted by code, for the division-code picker and tenant routing."""
    return [
        division
        for division in division_table().values()
        if division.level == "county" and (division.is_current or not current_only)
    ]
