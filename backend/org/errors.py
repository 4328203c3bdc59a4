from __future__ import annotations

from backend.core.errors import FieldError, InvalidInput, NotFound


class OrgImportRejected(InvalidInput):
    """The whole file is refused; `fields` lists every bad line (loc = ["line", n, column])."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__(
            f"组织机构文件有 {len(problems)} 处错误，未导入任何数据 / "
            f"The org file has {len(problems)} problem(s); nothing was imported",
            fields=problems,
        )


class OrgUnitNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("组织机构不存在 / Org unit not found")
