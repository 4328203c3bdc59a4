"""Typed errors of rental housing and employers, each carrying its HTTP status; messages "中文 / English"."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class HouseNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("出租房屋不存在 / Rental house not found")


class EmployerNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("用工单位不存在 / Employer not found")


class OccupancyNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("租住或用工记录不存在 / Tenancy or employment not found")


class HousingRejected(InvalidInput):
    """A house, employer, move-in or move-out that cannot be recorded; every problem at its field (422)."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__("登记有误，未保存 / The entry is invalid; nothing was saved", problems)


class DoorPlateTaken(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "门牌号已登记给另一处出租房屋 / The door-plate number belongs to another rental house",
            code="DOOR_PLATE_TAKEN",
            fields=[
                FieldError(("body", "door_plate"), "门牌号已登记给另一处出租房屋 / already another house's number")
            ],
        )


def problem(field: str, zh: str, en: str) -> FieldError:
    """One problem of a body at its field."""
    return FieldError(("body", field), f"{zh} / {en}")
