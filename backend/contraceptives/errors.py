"""Typed errors of contraceptive distribution, each carrying its HTTP status; messages "中文 / English"."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class PointNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("发放点不存在 / Distribution point not found")


class DistributionRejected(InvalidInput):
    """A receipt, an issue or a point that cannot be recorded; every problem at its field (422)."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__("药具登记有误，未保存 / The entry is invalid; nothing was saved", problems)


class PointNameTaken(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "本单位已有同名发放点 / The unit already has a distribution point of this name",
            code="POINT_NAME_TAKEN",
            fields=[FieldError(("body", "name"), "本单位已有同名发放点 / the unit already has a point of this name")],
        )


def problem(field: str, zh: str, en: str) -> FieldError:
    """One problem of a body at its field."""
    return FieldError(("body", field), f"{zh} / {en}")
