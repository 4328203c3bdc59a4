"""Typed domain errors. Each carries its HTTP status and a stable code; handlers turn them into
`{"error": CODE, "detail": ..., "fields": [...]}` for the API and a friendly page for browsers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field. `msg` is bilingual: Chinese first, then English."""

    loc: tuple[str | int, ...]
    msg: str

    def as_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg}


@dataclass
class DomainError(Exception):
    detail: str
    fields: list[FieldError] = field(default_factory=list)
    status_code: int = 400
    code: str = "BAD_REQUEST"
    headers: dict[str, str] | None = None
    # Further keys of the API error body, for errors that carry data (e.g. the current values on a 409).
    extra: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        super().__init__(self.detail)


class NotFound(DomainError):
    def __init__(self, detail: str = "未找到 / Not found") -> None:
        super().__init__(detail=detail, status_code=404, code="NOT_FOUND")


class Forbidden(DomainError):
    def __init__(self, detail: str = "无权执行此操作 / Not allowed") -> None:
        super().__init__(detail=detail, status_code=403, code="FORBIDDEN")


class Unauthorized(DomainError):
    def __init__(
        self,
        detail: str = "需要登录或有效凭证 / Authentication required",
        *,
        code: str = "UNAUTHORIZED",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=401, code=code, headers=headers)


class Conflict(DomainError):
    def __init__(self, detail: str, *, code: str = "CONFLICT", fields: list[FieldError] | None = None) -> None:
        super().__init__(detail=detail, fields=fields or [], status_code=409, code=code)


class InvalidInput(DomainError):
    def __init__(self, detail: str, fields: list[FieldError] | None = None) -> None:
        super().__init__(detail=detail, fields=fields or [], status_code=422, code="INVALID_INPUT")


class StaleVersion(Conflict):
    """Someone else changed the row since it was read: the client gets the current values to compare."""

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__(
            "数据已被他人修改，请核对后重试 / Someone else changed this record; review the changes and retry",
            code="STALE_VERSION",
        )
        self.extra = {"current": current}
