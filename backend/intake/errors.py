from __future__ import annotations

from backend.core.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound


class NotificationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("通报不存在 / Notification not found")


class TypeNotInScope(Forbidden):
    """A client may only send the types of its department (a health system cannot report a residence)."""

    def __init__(self) -> None:
        super().__init__("该客户端无权报送此类通报 / This client may not send this notification type")


class TransactionReused(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "交易号已用于内容不同的通报 / The transaction id was already used for a different notification",
            code="transaction_reused",
            fields=[FieldError(("body", "transaction_id"), "内容不同 / different content")],
        )


class InvalidNotification(InvalidInput):
    def __init__(self, fields: list[FieldError]) -> None:
        super().__init__("通报内容有误 / Invalid notification", fields)


class TriageNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("分拣案件不存在 / Triage case not found")


class TriageStateError(Conflict):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, code="triage_state")


class RateLimited(DomainError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            detail="请求过于频繁，请稍后重试 / Too many requests, retry later",
            status_code=429,
            code="rate_limited",
            headers={"Retry-After": str(retry_after)},
        )


class DeliveryNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("回调记录不存在 / Delivery not found")


class NoSubscription(NotFound):
    def __init__(self) -> None:
        super().__init__("尚未登记回调地址 / No callback URL is registered")
