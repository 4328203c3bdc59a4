"""Typed errors of the information-query ledger, each carrying its HTTP status."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class InfoQueryNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("查询登记不存在 / Query entry not found")


class InvalidInfoQuery(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__("人口信息查询不予受理 / The query cannot be accepted", [FieldError(("body", field), reason)])


class QueryClosed(Conflict):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, code="QUERY_CLOSED")


class ApplicationScanMissing(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "须先上传查询人签署的《人口信息查询申请表》扫描件 / upload the scan of the signed application form first",
            code="APPLICATION_SCAN_MISSING",
        )
