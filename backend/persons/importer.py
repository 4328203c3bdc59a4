"""Bulk import of the registry from a spreadsheet (批量导入): .xlsx or .csv (UTF-8 or GBK/GB18030).

The first row is the header, in Chinese (the template's labels) or with the API's English field names:

  姓名 name · 性别 sex · 民族 ethnicity · 身份证号 resident_id · 手机号 phone ·
  户籍地区划代码 registration_division_code ·
  户籍地址 registration_address · 现居住单位代码 residence_unit_code · 现居住地址 residence_address ·
  流动方向(流入/流出/县内) flow_direction · 流动日期 flow_date · 流出地/流入地 flow_origin_destination ·
  房东或单位 landlord_or_employer · 婚姻状况 marital_status · 避孕措施 contraception_measure ·
  措施日期 contraception_date · 重点对象(是/否) key_subject · 备注 notes

Rules:
- Every row is checked in one pass and every problem is reported as `{"loc": ["row", n, column], "msg"}`, n being
  the row number the spreadsheet shows (the header is row 1) and column the header as written in the file.
- `all_or_nothing` (default) writes nothing when any row is wrong; `valid_rows` writes the good rows and
  reports the others. `dry_run` checks and counts without writing.
- The resident ID number is required: it is what makes an import idempotent. A number the county already holds
  updates that record, and only when some value differs; re-importing the same file changes nothing.
- Empty cells leave an existing record's values as they are (an import fills and corrects, it never erases).
- The managing unit is the residence unit (现居住单位代码) for inflow and within-county people and the
  registration place (户籍地区划代码, a unit of this county) for outflow people.
- The file type is decided from its bytes (an .xlsx is a zip starting with PK), never from its name
  (backend/persons/spreadsheet.py reads it).
- The registration counties of inflow persons created, or coming back, are told (流入登记通报), as a
  registration one by one would.
- Each created or updated person gets its own audit event and the import one `person.import` summary, all
  sharing the import's correlation id, in the request's single transaction.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.core.errors import FieldError
from backend.data_review.pending import ImportHold
from backend.models import ContraceptionMeasure, FlowDirection, MaritalStatus, Person, PersonStatus, ReviewState, Sex
from backend.notifications import events
from backend.notifications.service import notify
from backend.persons import records, service
from backend.persons.errors import ImportFileRejected, ImportRejected, RegisteredOutsideReach
from backend.persons.identifiers import resident_id_digest
from backend.persons.repository import PersonRepository
from backend.persons.schemas import ImportMode, ImportReport
from backend.persons.spreadsheet import Table, present, read_table
from backend.persons.validation import Rules, check_person_fields, load_rules

MAX_REPORTED_PROBLEMS = 5_000
IMPORT_REASON = "批量导入 / import"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str  # the template's header
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名"),
    Column("sex", "性别"),
    Column("ethnicity", "民族"),
    Column("resident_id", "身份证号", ("身份证号码", "公民身份号码")),
    Column("phone", "手机号", ("手机号码", "联系电话")),
    Column("registration_division_code", "户籍地区划代码"),
    Column("registration_address", "户籍地址"),
    Column("residence_unit_code", "现居住单位代码", ("residence_division_code",)),
    Column("residence_address", "现居住地址"),
    Column("flow_direction", "流动方向(流入/流出/县内)", ("流动方向",)),
    Column("flow_date", "流动日期"),
    Column("flow_origin_destination", "流出地/流入地", ("流入地/流出地",)),
    Column("landlord_or_employer", "房东或单位"),
    Column("marital_status", "婚姻状况"),
    Column("contraception_measure", "避孕措施"),
    Column("contraception_date", "措施日期"),
    Column("key_subject", "重点对象(是/否)", ("重点对象",)),
    Column("notes", "备注"),
)
REQUIRED_COLUMNS = ("name", "resident_id", "flow_direction")
# Columns many county spreadsheets carry that mean nothing to the registry.
IGNORED_HEADERS = frozenset({"序号", "no", "no."})
LABELS = {column.key: column.label for column in COLUMNS}

SEX_WORDS = {"男": Sex.male, "女": Sex.female, "male": Sex.male, "female": Sex.female, "m": Sex.male, "f": Sex.female}
FLOW_WORDS = {
    "流入": FlowDirection.inflow,
    "流出": FlowDirection.outflow,
    "县内": FlowDirection.within_county,
    "县内流动": FlowDirection.within_county,
    **{direction.value: direction for direction in FlowDirection},
}
MARITAL_WORDS = {
    "未婚": MaritalStatus.unmarried,
    "初婚": MaritalStatus.first_marriage,
    "再婚": MaritalStatus.remarried,
    "离婚": MaritalStatus.divorced,
    "丧偶": MaritalStatus.widowed,
    **{status.value: status for status in MaritalStatus},
}
MEASURE_WORDS = {
    "无": ContraceptionMeasure.none,
    "上环": ContraceptionMeasure.iud,
    "放环": ContraceptionMeasure.iud,
    "宫内节育器": ContraceptionMeasure.iud,
    "绝育": ContraceptionMeasure.sterilisation,
    "结扎": ContraceptionMeasure.sterilisation,
    "皮埋": ContraceptionMeasure.implant,
    "皮下埋植": ContraceptionMeasure.implant,
    "针剂": ContraceptionMeasure.injection,
    "避孕针": ContraceptionMeasure.injection,
    "口服药": ContraceptionMeasure.pill,
    "口服避孕药": ContraceptionMeasure.pill,
    "避孕套": ContraceptionMeasure.condom,
    "其他": ContraceptionMeasure.other,
    "其它": ContraceptionMeasure.other,
    **{measure.value: measure for measure in ContraceptionMeasure},
}
YES_WORDS = frozenset({"是", "yes", "y", "true", "1"})
NO_WORDS = frozenset({"否", "no", "n", "false", "0"})
_UNIT_CODE = re.compile(r"[0-9]{6}|[0-9]{9}|[0-9]{12}")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def _header_key(text: str) -> str:
    """Header spellings compared without width, case or spaces: （） and () are the same bracket."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


HEADER_ALIASES: dict[str, str] = {
    _header_key(name): column.key for column in COLUMNS for name in (column.label, column.key, *column.aliases)
}


# --- checking rows --------------------------------------------------------------------------------------


@dataclass
class RowResult:
    """One data row: where it is, its validated values (when it has no problems) and its problems."""

    number: int
    clean: dict[str, Any] = field(default_factory=dict)
    problems: list[FieldError] = field(default_factory=list)
    resident_id_hash: str | None = None
    resident_id_loc: tuple[str | int, ...] = ()


def _header(rows: list[tuple[int, list[Any]]]) -> tuple[dict[str, int], dict[str, str]]:
    """Map column keys to cell positions and to the header text as written; refuse bad headers."""
    problems: list[FieldError] = []
    positions: dict[str, int] = {}
    written: dict[str, str] = {}
    cells = rows[0][1] if rows else []
    for index, cell in enumerate(cells):
        text = str(cell).strip() if cell is not None else ""
        if not text or _header_key(text) in IGNORED_HEADERS:
            continue
        key = HEADER_ALIASES.get(_header_key(text))
        if key is None:
            problems.append(
                FieldError(("row", 1, text), f"第1行 {text}：无法识别的列 / unknown column (see the import template)")
            )
        elif key in positions:
            problems.append(FieldError(("row", 1, text), f"第1行 {text}：列重复 / the column appears twice"))
        else:
            positions[key], written[key] = index, text
    for key in REQUIRED_COLUMNS:
        if key not in positions:
            label = LABELS[key]
            problems.append(FieldError(("row", 1, label), f"第1行：缺少必需的列“{label}” / missing column {key}"))
    if problems:
        raise ImportRejected(problems, total=len(problems), rows_with_errors=1)
    return positions, written


class _RowChecker:
    """Turns one row's cells into the values `check_person_fields` takes, collecting problems."""

    def __init__(self, number: int, cells: Mapping[str, Any], written: Mapping[str, str]) -> None:
        self.number = number
        self.cells = cells
        self.written = written
        self.problems: list[FieldError] = []
        self.values: dict[str, Any] = {}
        # Which column a service field came from, for the loc of its problems.
        self.source_column: dict[str, str] = {}

    def column(self, key: str) -> str:
        return self.written.get(key) or LABELS.get(key, key)

    def loc(self, *parts: str | int) -> tuple[str | int, ...]:
        key = str(parts[0])
        return ("row", self.number, self.column(self.source_column.get(key, key)))

    def problem(self, key: str, zh: str, en: str) -> None:
        self.problems.append(FieldError(("row", self.number, self.column(key)), f"{zh} / {en}"))

    def text(self, key: str) -> str | None:
        value = self.cells.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, datetime):
            value = value.date()
        text = unicodedata.normalize("NFKC", str(value)).strip() if not isinstance(value, str) else value.strip()
        return text or None

    def word(self, key: str, words: Mapping[str, Any], allowed: str) -> Any:
        text = self.text(key)
        if text is None:
            return None
        found = words.get(text) or words.get(text.lower())
        if found is None:
            self.problem(key, f"“{text}”不是可选值（{allowed}）", f"'{text}' is not one of: {allowed}")
        return found

    def date(self, key: str) -> date | None:
        value = self.cells.get(key)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = self.text(key)
        if text is None:
            return None
        for pattern in _DATE_FORMATS:
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        self.problem(key, f"日期“{text}”格式不正确，应为 YYYY-MM-DD", f"'{text}' is not a date YYYY-MM-DD")
        return None

    def code(self, key: str) -> str | None:
        text = self.text(key)
        if text is not None and _UNIT_CODE.fullmatch(text) is None:
            self.problem(key, f"代码“{text}”应为6、9或12位数字", f"code '{text}' must have 6, 9 or 12 digits")
            return None
        return text

    def values_for_service(self) -> dict[str, Any]:
        """The row as service field values; empty cells are left out (they leave existing values alone)."""
        values: dict[str, Any] = {}
        for key in (
            "name",
            "ethnicity",
            "registration_address",
            "residence_address",
            "flow_origin_destination",
            "landlord_or_employer",
            "notes",
            "phone",
        ):
            if (text := self.text(key)) is not None:
                values[key] = text
        raw_id = self.cells.get("resident_id")
        if isinstance(raw_id, float):
            self.problem(
                "resident_id",
                "身份证号被保存为数字，末几位已丢失，请将该列设为文本格式后重新填写",
                "the ID number was stored as a number and lost its last digits; format the column as text",
            )
        elif (text := self.text("resident_id")) is not None:
            values["resident_id"] = text
        else:
            self.problem(
                "resident_id", "身份证号必填（导入依据身份证号识别人员）", "required: imports match people by ID"
            )
        if self.text("name") is None:
            self.problem("name", "姓名必填", "required")
        sex = self.word("sex", SEX_WORDS, "男/女")
        if sex is not None:
            values["sex"] = sex
        direction = self.word("flow_direction", FLOW_WORDS, "流入/流出/县内")
        if self.text("flow_direction") is None:
            self.problem(
                "flow_direction", "流动方向必填（流入/流出/县内）", "required: inflow, outflow or within county"
            )
        for key, words, allowed in (
            ("marital_status", MARITAL_WORDS, "未婚/初婚/再婚/离婚/丧偶"),
            ("contraception_measure", MEASURE_WORDS, "无/上环/绝育/皮埋/针剂/口服药/避孕套/其他"),
        ):
            if (found := self.word(key, words, allowed)) is not None:
                values[key] = found
        for key in ("flow_date", "contraception_date"):
            if (day := self.date(key)) is not None:
                values[key] = day
        key_subject = self.text("key_subject")
        if key_subject is not None:
            if key_subject.lower() in YES_WORDS:
                values["key_subject"] = True
            elif key_subject.lower() in NO_WORDS:
                values["key_subject"] = False
            else:
                self.problem(
                    "key_subject", f"“{key_subject}”应为 是 或 否", f"'{key_subject}' must be 是 (yes) or 否 (no)"
                )
        registration_code = self.code("registration_division_code")
        residence_code = self.code("residence_unit_code")
        if registration_code is not None:
            values["registration_division_code"] = registration_code
        if direction is not None:
            values["flow_direction"] = direction
            if direction == FlowDirection.outflow:
                # An outflow person is managed where they are registered, a unit of this county.
                if registration_code is None:
                    self.problem(
                        "registration_division_code",
                        "流出人员必须填写户籍地区划代码（本县村居或乡镇代码）",
                        "required for outflow people: their registration unit in this county",
                    )
                else:
                    values["org_unit_code"] = registration_code
                    self.source_column["org_unit_code"] = "registration_division_code"
                if residence_code is not None:
                    values["residence_division_code"] = residence_code
                    self.source_column["residence_division_code"] = "residence_unit_code"
            else:
                if residence_code is None:
                    self.problem(
                        "residence_unit_code",
                        "流入和县内流动人员必须填写现居住单位代码",
                        "required for inflow and within-county people",
                    )
                else:
                    values["org_unit_code"] = residence_code
                    values["residence_division_code"] = residence_code
                    self.source_column["org_unit_code"] = "residence_unit_code"
                    self.source_column["residence_division_code"] = "residence_unit_code"
        return values


def _first_per_loc(problems: list[FieldError]) -> list[FieldError]:
    """One message per cell: a unit code that is both the managing unit and the residence is reported once."""
    seen: set[tuple[str | int, ...]] = set()
    kept: list[FieldError] = []
    for problem in problems:
        if problem.loc not in seen:
            seen.add(problem.loc)
            kept.append(problem)
    return kept


def _with_row_prefix(problem: FieldError) -> FieldError:
    number, column = problem.loc[1], problem.loc[2]
    if problem.msg.startswith("第"):
        return problem
    return FieldError(problem.loc, f"第{number}行 {column}：{problem.msg}")


def check_rows(table: Table, rules: Rules) -> list[RowResult]:
    """Check every data row against the registry's rules; blank rows are skipped."""
    positions, written = _header(table.rows)
    results: list[RowResult] = []
    first_row_of_id: dict[str, int] = {}
    for number, cells in table.rows[1:]:
        if not any(present(value) for value in cells):
            continue
        by_key = {key: cells[index] if index < len(cells) else None for key, index in positions.items()}
        checker = _RowChecker(number, by_key, written)
        values = checker.values_for_service()
        clean, problems = check_person_fields(values, rules=rules, loc=checker.loc)
        if "sex" not in clean and "resident_id" not in values:
            checker.problem("sex", "性别必填", "required")
        result = RowResult(number=number, clean=clean, resident_id_loc=checker.loc("resident_id"))
        number_text = clean.get("resident_id")
        if number_text is not None:
            if number_text in first_row_of_id:
                earlier = first_row_of_id[number_text]
                problems.append(
                    FieldError(
                        result.resident_id_loc,
                        f"与第{earlier}行的身份证号码重复 / the same ID number as row {earlier}",
                    )
                )
            else:
                first_row_of_id[number_text] = number
            result.resident_id_hash = resident_id_digest(number_text)
        result.problems = [_with_row_prefix(problem) for problem in _first_per_loc(checker.problems + problems)]
        results.append(result)
    return results


# --- the import -----------------------------------------------------------------------------------------


async def import_persons(
    session: AsyncSession,
    principal: Principal,
    data: bytes,
    *,
    mode: ImportMode,
    dry_run: bool,
) -> ImportReport:
    """Check the whole file, then (unless refused or a dry run) create and update persons in this transaction.

    The registration counties of the inflow persons created (or coming back: a departed record imported again)
    are told in this transaction, as a registration one by one would (流入登记通报)."""
    table = read_table(data)
    rules = await load_rules(session, principal)
    results = check_rows(table, rules)
    if not results:
        raise ImportFileRejected("文件中没有数据行", "the file has no data rows")
    existing = await PersonRepository(session).by_resident_id_hashes(
        result.resident_id_hash for result in results if result.resident_id_hash is not None
    )
    for result in results:
        holder = existing.get(result.resident_id_hash or "")
        if not result.problems and holder is not None and not rules.may_write(holder.org_unit_code):
            refusal = RegisteredOutsideReach(result.resident_id_loc).fields[0]
            result.problems.append(_with_row_prefix(refusal))
    problems = [problem for result in results for problem in result.problems]
    rejected = sum(1 for result in results if result.problems)
    if problems and mode == "all_or_nothing":
        raise ImportRejected(problems[:MAX_REPORTED_PROBLEMS], total=len(problems), rows_with_errors=rejected)

    import_id = None if dry_run else uuid.uuid4()
    review = ImportHold(session, principal)
    updated = unchanged = 0
    to_create: list[dict[str, Any]] = []
    returning: list[Person] = []
    for result in results:
        if result.problems:
            continue
        holder = existing.get(result.resident_id_hash or "")
        if holder is None:
            to_create.append(result.clean)
            continue
        if dry_run:
            changed = bool(records.planned_changes(holder, result.clean, reactivate=True))
        elif holder.review_state in (None, ReviewState.changes_pending) and await review.waits(holder.org_unit_code):
            # A village coordinator's row for a counted record waits for the township (三级把关).
            changes = records.planned_changes(holder, result.clean, reactivate=True)
            if changes:
                await review.hold_row(holder, result.clean, changes)
            changed = bool(changes)
        else:
            if holder.status == PersonStatus.departed:
                returning.append(holder)
            changed = bool(
                await records.update_from_clean(
                    session,
                    holder,
                    result.clean,
                    reason=IMPORT_REASON,
                    reactivate=True,
                    correlation_id=str(import_id),
                )
            )
        updated += changed
        unchanged += not changed

    created = len(to_create)
    notices: Counter[str] = Counter()
    if not dry_run:
        new_persons = await records.create_many_from_clean(
            session, to_create, reason=IMPORT_REASON, correlation_id=str(import_id)
        )
        counted = await review.hold_new(new_persons)  # held ones are announced once confirmed
        notices = await service.announce_arrivals(session, principal, [*counted, *returning])
    # The counts the report gives and the import's audit event keeps.
    counts = {"rows": len(results), "created": created, "updated": updated, "unchanged": unchanged}
    counts |= {"rejected": rejected, "notices_sent": notices["sent"], "notices_not_sent": notices["off_platform"]}
    report = ImportReport(
        mode=mode,
        dry_run=dry_run,
        errors=[problem.as_dict() for problem in problems[:MAX_REPORTED_PROBLEMS]],
        import_id=import_id,
        **counts,
    )
    if import_id is not None:
        await audit.record(
            session,
            action="person.import",
            entity_type="person_import",
            entity_id=import_id,
            org_unit_code=principal.org_unit_code,
            changes={
                "mode": mode,
                "file_format": table.file_format,
                "file_sha256": hashlib.sha256(data).hexdigest(),
                **counts,
            },
            reason=IMPORT_REASON,
            correlation_id=str(import_id),
        )
        if principal.kind == "user" and principal.tenant_id is not None and principal.org_unit_code:
            finished = events.import_finished(
                principal.tenant_id, principal.org_unit_code, uuid.UUID(principal.id), import_id, counts
            )
            await notify(session, finished)
    return report
