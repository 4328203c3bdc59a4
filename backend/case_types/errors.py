"""Typed errors of the case-type configuration, each carrying its HTTP status."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class CaseTypeNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("案件类型不存在 / Case type not found")


class UnknownCaseType(InvalidInput):
    """A code given in a request body that names no case type (422 naming that field)."""

    def __init__(self, code: str, field: str = "case_type") -> None:
        super().__init__(
            "未知的案件类型 / Unknown case type",
            [FieldError(("body", field), f"未知的案件类型 {code} / unknown case type {code}")],
        )


class CaseTypeOverrideRejected(InvalidInput):
    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__(
            "案件类型配置有误，未保存 / The case-type configuration is invalid; nothing was saved", problems
        )


class CaseTypeVersionRequired(InvalidInput):
    """A change to an existing override without the version the caller read (optimistic locking)."""

    def __init__(self) -> None:
        super().__init__(
            "修改已有配置须提供版本号 / Give the version you read to change an existing configuration",
            [FieldError(("body", "version"), "必填 / required")],
        )


class CaseTypeConfigConflict(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "配置已被他人同时修改，请刷新后重试 / Someone else configured this type at the same time; reload and retry",
            code="STALE_VERSION",
        )
