from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class VerificationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("协查记录不存在 / Verification request not found")


class InvalidVerification(InvalidInput):
    def __init__(self, field: str, reason: str, detail: str = "协查数据有误 / Invalid verification request") -> None:
        super().__init__(detail, [FieldError(("body", *field.split(".")), reason)])


class OpenRequestExists(Conflict):
    """Only one open request per (case, responder unit): the officer follows the one already sent."""

    def __init__(self, correlation_id: str | None) -> None:
        super().__init__(
            "该案件已向该乡镇（街道）发出协查，尚未反馈，请勿重复发送 / "
            "an open request to this township already exists for this case"
            + (f" ({correlation_id})" if correlation_id else ""),
            code="OPEN_REQUEST_EXISTS",
        )
        self.extra = {"correlation_id": correlation_id}


class NotPending(Conflict):
    def __init__(self, state: str) -> None:
        super().__init__(
            f"协查已办结（{state}），不能再变更 / the request is no longer pending ({state})", code="NOT_PENDING"
        )
