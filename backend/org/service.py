"""The org tree of a county: townships/street offices (9-digit codes) and villages/communities (12-digit).

The CSV import is all-or-nothing: every line is checked, every problem is reported with its line number,
and nothing is written unless the whole file is valid.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.errors import FieldError
from backend.models import OrgUnit, OrgUnitKind
from backend.models.org_unit import TOWNSHIP_KINDS, VILLAGE_KINDS
from backend.org.errors import OrgImportRejected, OrgUnitNotFound
from backend.org.repository import OrgUnitRepository

CSV_COLUMNS = ("code", "parent_code", "name", "kind")

# Ledgers kept by counties name the kind in Chinese; both spellings are accepted.
KIND_ALIASES: dict[str, OrgUnitKind] = {
    "乡": OrgUnitKind.township,
    "镇": OrgUnitKind.town,
    "街道": OrgUnitKind.subdistrict,
    "街道办事处": OrgUnitKind.subdistrict,
    "村": OrgUnitKind.village,
    "行政村": OrgUnitKind.village,
    "社区": OrgUnitKind.community,
    "居委会": OrgUnitKind.community,
    **{kind.value: kind for kind in OrgUnitKind if kind is not OrgUnitKind.county},
}
TRUE_WORDS = {"", "1", "true", "yes", "y", "是", "启用"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "停用"}


@dataclass(frozen=True, slots=True)
class OrgImportRow:
    line: int
    code: str
    parent_code: str
    name: str
    kind: OrgUnitKind
    active: bool


@dataclass(frozen=True, slots=True)
class OrgImportResult:
    created: int
    updated: int
    unchanged: int


def _problem(line: int, column: str, message: str) -> FieldError:
    return FieldError(("line", line, column), f"第{line}行 {column}：{message}")


def parse_org_csv(text: str, county_code: str) -> list[OrgImportRow]:
    """Check every line of an org CSV (header: code,parent_code,name,kind[,active]) against the county code."""
    problems: list[FieldError] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [column for column in CSV_COLUMNS if column not in header]
    if missing:
        raise OrgImportRejected(
            [_problem(1, "header", f"缺少列 {', '.join(missing)} / missing column(s) {', '.join(missing)}")]
        )
    rows: list[OrgImportRow] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        values = {key.strip(): (value or "").strip() for key, value in raw.items() if key is not None}
        code, parent_code, name = values["code"], values["parent_code"], values["name"]
        row_problems: list[FieldError] = []
        if not code.isdigit() or len(code) not in (9, 12):
            row_problems.append(
                _problem(
                    line,
                    "code",
                    "代码应为9位（乡镇街道）或12位（村居）数字 / "
                    "code must be 9 digits (township) or 12 digits (village)",
                )
            )
        elif not code.startswith(county_code):
            row_problems.append(
                _problem(line, "code", f"代码不属于本县 {county_code} / code is not under county {county_code}")
            )
        if not parent_code:
            row_problems.append(_problem(line, "parent_code", "上级代码不能为空 / parent code is required"))
        elif code.isdigit() and not code.startswith(parent_code):
            row_problems.append(
                _problem(
                    line,
                    "parent_code",
                    f"代码 {code} 不以上级代码 {parent_code} 开头 / "
                    f"code {code} does not start with its parent's code {parent_code}",
                )
            )
        elif code.isdigit() and len(parent_code) != len(code) - 3:
            row_problems.append(_problem(line, "parent_code", "上级代码层级不对 / the parent is not one level up"))
        if not name:
            row_problems.append(_problem(line, "name", "名称不能为空 / name is required"))
        elif len(name) > 100:
            row_problems.append(_problem(line, "name", "名称超过100字 / name longer than 100 characters"))
        kind = KIND_ALIASES.get(values["kind"])
        if kind is None:
            row_problems.append(_problem(line, "kind", f"未知类型 {values['kind']!r} / unknown kind"))
        elif code.isdigit() and (
            (len(code) == 9 and kind not in TOWNSHIP_KINDS) or (len(code) == 12 and kind not in VILLAGE_KINDS)
        ):
            row_problems.append(_problem(line, "kind", "类型与代码层级不符 / kind does not fit the code's level"))
        active_word = values.get("active", "").lower()
        if active_word not in TRUE_WORDS | FALSE_WORDS:
            row_problems.append(_problem(line, "active", "应为 是/否 / expected yes or no"))
        if code in seen:
            row_problems.append(_problem(line, "code", f"与第{seen[code]}行重复 / duplicates line {seen[code]}"))
        seen.setdefault(code, line)
        problems.extend(row_problems)
        if not row_problems and kind is not None:
            rows.append(OrgImportRow(line, code, parent_code, name, kind, active_word not in FALSE_WORDS))
    if problems:
        raise OrgImportRejected(problems)
    return rows


async def import_org_csv(session: AsyncSession, *, county_code: str, text: str) -> OrgImportResult:
    """Create or update the county's units from a CSV, all or nothing, one audit event per changed unit."""
    rows = parse_org_csv(text, county_code)
    repository = OrgUnitRepository(session)
    existing = await repository.all_by_code()
    known_codes = set(existing) | {row.code for row in rows}
    orphans = [
        _problem(row.line, "parent_code", f"上级 {row.parent_code} 不存在 / parent {row.parent_code} does not exist")
        for row in rows
        if row.parent_code not in known_codes
    ]
    if orphans:
        raise OrgImportRejected(orphans)

    created = updated = unchanged = 0
    # Parents first, so every unit's parent exists when the unit is written.
    for row in sorted(rows, key=lambda r: len(r.code)):
        incoming = {"parent_code": row.parent_code, "name": row.name, "kind": row.kind, "active": row.active}
        unit = existing.get(row.code)
        if unit is None:
            unit = OrgUnit(id=uuid.uuid4(), tenant_id=repository.tenant_id, code=row.code, **incoming)
            repository.add(unit)
            await session.flush()
            changes = audit.diff(None, {"code": row.code, **incoming})
            await audit.record_about(session, "org_unit", unit, "org_unit.create", changes, org_unit_code=unit.code)
            created += 1
            continue
        before = {name: getattr(unit, name) for name in incoming}
        changes = audit.diff(before, incoming)
        if not changes:
            unchanged += 1
            continue
        for name, value in incoming.items():
            setattr(unit, name, value)
        await session.flush()
        await audit.record_about(session, "org_unit", unit, "org_unit.update", changes, org_unit_code=unit.code)
        updated += 1
    return OrgImportResult(created=created, updated=updated, unchanged=unchanged)


async def list_subtree(session: AsyncSession, root_code: str) -> list[OrgUnit]:
    """Active units at and below `root_code`."""
    return await OrgUnitRepository(session).list_subtree(root_code)


async def get_unit(session: AsyncSession, code: str) -> OrgUnit:
    """The unit with this code in the current county; 404 when there is none."""
    unit = await OrgUnitRepository(session).get_by_code(code)
    if unit is None:
        raise OrgUnitNotFound()
    return unit


async def unit_in_reach(session: AsyncSession, principal: Principal, code: str) -> OrgUnit:
    """The unit with this code if the principal may read it; 404 otherwise, as if it did not exist."""
    unit = await get_unit(session, code)
    return await OrgUnitRepository(session).get_in_reach(principal, Action.org_read, unit.id)


async def list_units_in_scopes(session: AsyncSession, roots: list[str], *, active_only: bool = True) -> list[OrgUnit]:
    """Units under any of the roots ('' = the whole county): the active ones, unless `active_only` is false."""
    return await OrgUnitRepository(session).list_under_roots(roots, active_only=active_only)
