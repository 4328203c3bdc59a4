"""Typed errors of the agreements domain. A rule broken by a request body is the documents domain's
`DocumentRejected` (422 naming the field), as for any other record kept with documents."""

from __future__ import annotations

from backend.core.errors import NotFound


class AgreementNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("协议不存在 / Agreement not found")
