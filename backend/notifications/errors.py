"""Typed errors of the notifications domain."""

from __future__ import annotations

from backend.core.errors import NotFound


class NotificationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("通知不存在 / Notification not found")
