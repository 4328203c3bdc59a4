from __future__ import annotations

from backend.core.errors import Conflict, FieldError, NotFound


class TenantCodeTaken(Conflict):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"区划代码 {code} 已开通 / County {code} is already provisioned",
            code="TENANT_EXISTS",
            fields=[FieldError(("body", "code"), "该区县已开通 / this county already exists")],
        )


class TenantNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"区县 {code} 不存在 / No county with code {code}")
