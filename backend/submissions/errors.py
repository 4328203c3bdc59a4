"""Errors of form submissions."""

from __future__ import annotations

from backend.core.errors import DomainError


class SubmissionRefused(DomainError):
    """A token that belongs to another form or another user: the page shows the form again with a fresh one."""

    def __init__(self) -> None:
        super().__init__(
            detail="表单已失效，请刷新页面后重试 / this form has expired: reload the page and try again",
            status_code=409,
            code="FORM_TOKEN_REFUSED",
        )
