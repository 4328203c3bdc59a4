"""Typed errors of entrustment, each carrying its HTTP status."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class EntrustmentNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("委托不存在 / Entrustment not found")


class InvalidEntrustment(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__("委托不予办理 / The entrustment cannot be made", [FieldError(("body", field), reason)])


class EntrustmentClosed(Conflict):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, code="ENTRUSTMENT_CLOSED")
