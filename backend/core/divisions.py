"""National statistical division codes (统计用区划代码): county 6 digits, township 9, village 12. A unit's code
starts with its parent's, so the ancestry of a code is its prefixes."""

from __future__ import annotations

COUNTY_LENGTH = 6
TOWNSHIP_LENGTH = 9
VILLAGE_LENGTH = 12


def county_of(code: str) -> str:
    """The county (the tenant) a unit or division code belongs to: '330106001002' -> '330106'."""
    return code[:COUNTY_LENGTH]


def township_of(code: str) -> str | None:
    """The township a code lies in, or None for a county-level code: '330106001002' -> '330106001'."""
    return code[:TOWNSHIP_LENGTH] if len(code) >= TOWNSHIP_LENGTH else None


def ancestry(code: str) -> list[str]:
    """The county, township and village codes a code lies in, itself included: '330106001002' -> ['330106',
    '330106001', '330106001002'] (for totals per level)."""
    return [code[:length] for length in (COUNTY_LENGTH, TOWNSHIP_LENGTH, VILLAGE_LENGTH) if len(code) >= length]


LEVEL_NAMES = {COUNTY_LENGTH: "county", TOWNSHIP_LENGTH: "township", VILLAGE_LENGTH: "village"}
