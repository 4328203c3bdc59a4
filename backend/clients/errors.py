from __future__ import annotations

from backend.core.errors import DomainError, FieldError, InvalidInput, NotFound, Unauthorized

_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="liuguan", error="invalid_token"'}
# RFC 6749 §5.1: token responses, errors included, must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def token_error(error: DomainError) -> DomainError:
    """An error of the token endpoint in RFC 6749 §5.2 form as well: `error` (already the code) and
    `error_description` beside the house body's `detail` and `fields`, and never cached."""
    error.extra = {**(error.extra or {}), "error_description": error.detail}
    error.headers = {**(error.headers or {}), **NO_STORE}
    return error


class InvalidClient(Unauthorized):
    """Unknown client, wrong secret or revoked client: one answer for all (RFC 6749 §5.2)."""

    def __init__(self) -> None:
        super().__init__(
            "客户端认证失败 / Client authentication failed",
            code="invalid_client",
            headers={"WWW-Authenticate": 'Basic realm="liuguan"'},
        )
        token_error(self)


class InvalidRequest(DomainError):
    """A required parameter of the token request is missing (RFC 6749 §5.2 invalid_request)."""

    def __init__(self, parameter: str) -> None:
        super().__init__(
            detail=f"缺少参数 {parameter} / Missing parameter {parameter}",
            status_code=400,
            code="invalid_request",
            fields=[FieldError(("body", parameter), "必填 / required")],
        )
        token_error(self)


class InvalidToken(Unauthorized):
    """Expired, tampered, revoked or otherwise unusable token: no detail on which."""

    def __init__(self) -> None:
        super().__init__(
            "访问令牌无效或已过期 / The access token is invalid or expired",
            code="invalid_token",
            headers=_BEARER_CHALLENGE,
        )


class UnsupportedGrantType(DomainError):
    def __init__(self) -> None:
        super().__init__(
            detail="仅支持 client_credentials / Only client_credentials is supported",
            status_code=400,
            code="unsupported_grant_type",
            fields=[FieldError(("body", "grant_type"), "应为 client_credentials / expected client_credentials")],
        )
        token_error(self)


class InvalidScope(DomainError):
    def __init__(self) -> None:
        super().__init__(
            detail="请求的权限范围超出该客户端 / Requested scope exceeds the client's scopes",
            status_code=400,
            code="invalid_scope",
            fields=[FieldError(("body", "scope"), "超出范围 / not allowed for this client")],
        )
        token_error(self)


class ClientNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("接口客户端不存在 / API client not found")


class InvalidClientDefinition(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__("接口客户端定义有误 / Invalid API client", [FieldError(("body", field), reason)])
