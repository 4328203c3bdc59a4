"""Typed errors of the person registry (人员登记). Messages are bilingual: Chinese first, then English."""

from __future__ import annotations

from enum import StrEnum

from backend.core.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound

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


# --- the registry: records, duplicates, merges ---------------------------------------------------------


class PersonNotFound(NotFound):
    """No such person in the caller's reach (another county's or another subtree's person answers the same)."""

    def __init__(self) -> None:
        super().__init__("人员不存在 / Person not found")


class PersonInputRejected(InvalidInput):
    """A registration or change was refused; `fields` has one entry per bad field (all found in one pass)."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__("人员信息有误，请按提示修改 / The person's details need correcting", fields=problems)


class PersonNotActive(Conflict):
    """The action needs an active record (e.g. departing a person who already departed or was merged)."""

    def __init__(self, status: str) -> None:
        super().__init__(
            f"该人员当前状态为“{_STATUS_ZH.get(status, status)}”，不能执行此操作 / "
            f"The person's status is '{status}'; this action is not possible",
            code="PERSON_NOT_ACTIVE",
        )


class PersonMerged(Conflict):
    """Merged records are read-only until an administrator unmerges them."""

    def __init__(self) -> None:
        super().__init__(
            "该记录已合并到另一条记录，请修改合并后的记录 / This record was merged into another; edit that one",
            code="PERSON_MERGED",
        )


class ResidentIdTaken(Conflict):
    """Another record of the county already holds this ID number (change or unmerge would duplicate it)."""

    def __init__(self, loc: Loc | None = RESIDENT_ID_LOC) -> None:
        msg = (
            "本县已有使用该身份证号码的另一条记录，请改为合并记录 / "
            "Another record of this county already has this resident ID number; merge the records instead"
        )
        super().__init__(msg, code="RESIDENT_ID_TAKEN", fields=[FieldError(loc, msg)] if loc is not None else [])


class RegisteredOutsideReach(Conflict):
    """A re-registration of an ID number that a unit outside the caller's reach manages.

    Saying so reveals that the person is registered somewhere in the county, which the caller needs to know to
    hand the case over; it reveals nothing else (not the unit, not the record)."""

    def __init__(self, loc: Loc = RESIDENT_ID_LOC) -> None:
        msg = (
            "该身份证号码已由本县其他单位登记，请联系县级或该单位办理转移 / "
            "This resident ID number is registered by another unit of this county; ask the county to transfer it"
        )
        super().__init__(msg, code="REGISTERED_ELSEWHERE", fields=[FieldError(loc, msg)])


class MergeRejected(InvalidInput):
    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(f"不能合并：{zh} / Cannot merge: {en}", fields=[FieldError(("body", field), f"{zh} / {en}")])


class UnmergeForbidden(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "撤销合并须由县级系统管理员（同时具有人员编辑权限）办理 / "
            "Only a county administrator who may also edit persons can undo a merge"
        )


class NotMerged(Conflict):
    def __init__(self) -> None:
        super().__init__("该记录未被合并 / This record is not merged", code="NOT_MERGED")


# --- bulk import ---------------------------------------------------------------------------------------


class ImportRejected(InvalidInput):
    """The file was checked and refused; `fields` lists every problem (loc = ["row", n, column])."""

    def __init__(self, problems: list[FieldError], *, total: int, rows_with_errors: int) -> None:
        shown = "" if total == len(problems) else f"（仅列出前{len(problems)}处）"
        shown_en = "" if total == len(problems) else f" (the first {len(problems)} are listed)"
        super().__init__(
            f"导入文件有{rows_with_errors}行共{total}处错误{shown}，未导入任何数据 / "
            f"{rows_with_errors} row(s) have {total} problem(s){shown_en}; nothing was imported",
            fields=problems,
        )
        self.code = "IMPORT_REJECTED"


class ImportFileRejected(DomainError):
    """The upload itself (not a row) was refused: too large, not a spreadsheet, unreadable, too many rows."""

    def __init__(self, zh: str, en: str, *, status_code: int = 422, code: str = "IMPORT_FILE_REJECTED") -> None:
        super().__init__(
            detail=f"导入文件：{zh} / Import file: {en}",
            fields=[FieldError(("body", "file"), f"{zh} / {en}")],
            status_code=status_code,
            code=code,
        )


_STATUS_ZH = {"active": "在册", "departed": "已注销", "merged": "已合并"}
