"""Typed errors of free technical services, each carrying its HTTP status; messages "中文 / English"."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class FreeServiceItemNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("服务项目不存在 / Service item not found")


class FreeServiceRejected(InvalidInput):
    """A service or an item that cannot be recorded; every problem at its field (422)."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__("免费服务登记有误，未保存 / The entry is invalid; nothing was saved", problems)


class ItemCodeTaken(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "该项目代码已存在 / The item code already exists",
            code="ITEM_CODE_TAKEN",
            fields=[FieldError(("body", "code"), "该项目代码已存在 / the item code already exists")],
        )


def problem(field: str, zh: str, en: str) -> FieldError:
    """One problem of a body at its field."""
    return FieldError(("body", field), f"{zh} / {en}")
