"""Typed errors of the object storage port; each carries its HTTP status and a bilingual message."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.core.errors import Conflict, DomainError, NotFound


def _format_instant(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class InvalidObjectKey(DomainError):
    """A key that could address something other than one object (traversal, absolute, hidden characters).

    The key itself is kept on `.key` for logs but never put into the message: keys name tenants and cases.
    """

    def __init__(self, key: object, reason_zh: str, reason_en: str) -> None:
        super().__init__(
            detail=f"文件存储键无效：{reason_zh} / invalid storage key: {reason_en}",
            status_code=422,
            code="INVALID_OBJECT_KEY",
        )
        self.key = key


class InvalidObjectMetadata(DomainError):
    """Content type or metadata that S3 cannot carry safely in headers."""

    def __init__(self, reason_zh: str, reason_en: str) -> None:
        super().__init__(
            detail=f"文件元数据无效：{reason_zh} / invalid object metadata: {reason_en}",
            status_code=422,
            code="INVALID_OBJECT_METADATA",
        )


class ObjectNotFound(NotFound):
    """No object under this key (or it was deleted)."""

    def __init__(self, key: str) -> None:
        super().__init__("文件不存在或已删除 / the stored file does not exist")
        self.key = key


class ObjectExists(Conflict):
    """An object already exists under this key and the caller did not ask to overwrite it."""

    def __init__(self, key: str) -> None:
        super().__init__(
            "文件已存在，未要求覆盖 / a stored file with this key already exists and overwrite was not requested",
            code="OBJECT_EXISTS",
        )
        self.key = key


class ObjectRetained(Conflict):
    """The object is within its retention period: it may be read, never replaced or deleted."""

    def __init__(self, key: str, retain_until: datetime | None) -> None:
        if retain_until is None:
            until_zh, until_en = "", ""
        else:
            instant = _format_instant(retain_until)
            until_zh, until_en = f"（至 {instant}）", f" until {instant}"
        super().__init__(
            f"文件在保存期内{until_zh}，不能覆盖或删除 / "
            f"the stored file is retained{until_en} and cannot be overwritten or deleted",
            code="OBJECT_RETAINED",
        )
        self.key = key
        self.retain_until = retain_until


class StorageUnavailable(DomainError):
    """The storage backend failed or cannot be reached; the cause is chained and logged, not shown."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(
            detail="文件存储暂时不可用，请稍后重试 / file storage is unavailable; try again later",
            status_code=503,
            code="STORAGE_UNAVAILABLE",
        )
        self.reason = reason
