"""Typed errors of the county settings."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput


class SettingsVersionRequired(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "修改已有配置须提供版本号 / Give the version you read to change the saved settings",
            [FieldError(("body", "version"), "必填 / required")],
        )


class SettingsConflict(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "配置已被他人修改，请刷新后重试 / Someone else changed the settings; reload and retry", code="STALE_VERSION"
        )
