"""Typed errors of the complaints domain, each carrying its HTTP status."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class ComplaintNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("投诉举报不存在 / Complaint not found")


class InvalidComplaint(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__("投诉举报有误 / Invalid complaint", [FieldError(("body", field), reason)])


class RewardNotDue(Conflict):
    """A 两非 report's reward is paid once, and only when the report was verified (经查实)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, code="REPORT_REWARD_NOT_DUE")
