from __future__ import annotations

from backend.core.errors import FieldError, InvalidInput, NotFound


class BreakGlassRejected(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__("紧急授权申请不符合要求 / Break-glass request rejected", [FieldError(("body", field), reason)])


class BreakGlassNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("紧急授权不存在 / Break-glass grant not found")
