"""Typed errors of the yearly archive, each carrying its HTTP status."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class ArchiveVolumeNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("归档卷不存在 / Archive volume not found")


class InvalidArchive(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__("不能归档 / The volume cannot be built", [FieldError(("body", field), reason)])


class VolumeExists(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "该单位该年度已归档或正在归档 / this unit's volume of that year is built or being built",
            code="ARCHIVE_EXISTS",
        )


class VolumeNotBuilt(Conflict):
    def __init__(self) -> None:
        super().__init__("归档卷尚未完成 / the volume is not built yet", code="ARCHIVE_NOT_BUILT")
