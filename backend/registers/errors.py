"""Typed errors of the registers, each with its HTTP status."""

from __future__ import annotations

from backend.core.errors import FieldError, Forbidden, InvalidInput, NotFound


class RegisterNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("台账不存在 / No such register")


class RegisterUnitNotFound(NotFound):
    """The unit does not exist in this county or lies outside the caller's reach: both answer 404."""

    def __init__(self) -> None:
        super().__init__("单位不存在 / No such org unit")


class ExportNotAllowed(Forbidden):
    def __init__(self) -> None:
        super().__init__("无权导出该单位的台账 / Not allowed to export this unit's register")


class InvalidPeriod(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "统计期间有误 / Invalid period",
            [FieldError(("query", "period_to"), "截止日期不能早于起始日期 / period_to is before period_from")],
        )
