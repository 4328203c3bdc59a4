"""Typed errors of the cases domain, each carrying its HTTP status."""

from __future__ import annotations

from typing import Any

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class CaseNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("案件不存在 / Case not found")


INVALID_CASE = "案件数据有误 / Invalid case"


class InvalidCase(InvalidInput):
    def __init__(self, field: str, reason: str, detail: str = INVALID_CASE) -> None:
        super().__init__(detail, [FieldError(("body", field), reason)])


class SubjectsRefused(InvalidInput):
    """Subjects that name no registered person in the caller's reach (or one person twice), each at its field."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__(INVALID_CASE, problems)


class CaseChanged(Conflict):
    """A second officer saved over a version she had not seen: 409 with what changed since her version."""

    def __init__(self, current: dict[str, Any], changed: dict[str, Any], changed_by: list[str]) -> None:
        super().__init__(
            "案件已被他人修改，请核对后重试 / Someone else changed this case; review the changes and retry",
            code="STALE_VERSION",
        )
        self.extra = {"current": current, "changed": changed, "changed_by": changed_by}


class IllegalTransition(Conflict):
    def __init__(self, reason: str) -> None:
        super().__init__(f"无法变更办理阶段：{reason}", code="ILLEGAL_TRANSITION")


class SpouseVerificationMissing(Conflict):
    """P04: a first-child registration is decided only after both spouses' registration townships were asked
    (see backend/verification/gating.py). Names the spouses still missing one."""

    def __init__(self, missing: list[dict[str, Any]]) -> None:
        names = "、".join(item["name"] for item in missing)
        super().__init__(
            f"一孩生育服务登记须先向夫妻双方户籍地乡镇（街道）发出协查，以下配偶尚未发出：{names} / "
            f"first-child registration needs verification requests to both spouses' registration townships; "
            f"not yet sent for: {names}",
            code="SPOUSE_VERIFICATION_MISSING",
        )
        self.extra = {"missing": missing}
