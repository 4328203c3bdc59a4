"""One error shape for the API, a friendly page for browsers, and no stack trace for anyone.

Unexpected exceptions are answered by RequestContextMiddleware (backend/core/middleware.py), which knows the
request id.

API: `{"error": CODE, "detail": "中文 / English", "fields": [{"loc": [...], "msg": "..."}]}`. Pages: the page
layer's error page, handed in by the composition root (`install_error_handlers(app, render_html=...)` in
backend/main.py), so that this module knows nothing of the pages.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.core.errors import DomainError, FieldError
from backend.core.input import policy_message

log = logging.getLogger(__name__)

# Messages for Pydantic's error types that users meet; anything else falls back to Pydantic's English.
_VALIDATION_MESSAGES = {
    "missing": "必填 / required",
    "extra_forbidden": "不允许的字段 / unknown field",
    "json_invalid": "JSON 格式错误 / malformed JSON",
    "string_type": "应为文本 / expected a string",
    "int_type": "应为整数 / expected an integer",
    "int_parsing": "应为整数 / expected an integer",
    "bool_type": "应为是/否 / expected a boolean",
    "bool_parsing": "应为是/否 / expected a boolean",
    "string_pattern_mismatch": "格式不正确 / wrong format",
    "string_too_short": "太短 / too short",
    "string_too_long": "太长 / too long",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD / expected a date YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD / expected a date YYYY-MM-DD",
    "uuid_parsing": "标识格式不正确 / malformed id",
    "enum": "不是允许的取值 / not one of the allowed values",
    "model_attributes_type": "应为对象 / expected an object",
    "dict_type": "应为对象 / expected an object",
    "list_type": "应为列表 / expected a list",
    "string_unicode": "文本编码无效 / invalid text encoding",
    "too_long": "条目过多 / too many items",
    "too_short": "条目过少 / too few items",
    "date_type": "日期格式应为 YYYY-MM-DD / expected a date YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 ISO 8601 / expected a date-time (ISO 8601)",
    "datetime_from_date_parsing": "时间格式应为 ISO 8601 / expected a date-time (ISO 8601)",
}

_STATUS_CODES = {
    400: ("BAD_REQUEST", "请求有误 / Bad request"),
    401: ("UNAUTHORIZED", "需要登录或有效凭证 / Authentication required"),
    403: ("FORBIDDEN", "无权执行此操作 / Not allowed"),
    404: ("NOT_FOUND", "未找到 / Not found"),
    405: ("METHOD_NOT_ALLOWED", "不支持此操作 / Method not allowed"),
    409: ("CONFLICT", "数据已被他人修改，请刷新后重试 / Changed by someone else; reload and retry"),
    413: ("TOO_LARGE", "内容过大 / Payload too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的内容类型 / Unsupported media type"),
    422: ("INVALID_INPUT", "输入有误 / Invalid input"),
    429: ("RATE_LIMITED", "请求过于频繁 / Too many requests"),
    500: ("INTERNAL_ERROR", "系统内部错误，已记录 / Internal error; it has been logged"),
    503: ("SERVICE_BUSY", "系统繁忙，请稍后重试 / The service is busy; retry shortly"),
}
BUSY_RETRY_AFTER_SECONDS = 2


class HtmlErrorRenderer(Protocol):
    """Renders the error page a browser sees (frontend/rendering.py `render_error_page`)."""

    def __call__(
        self,
        request: Request,
        status_code: int,
        detail: str,
        fields: list[FieldError],
        *,
        headers: dict[str, str] | None,
    ) -> Response: ...


def _html_renderer(request: Request) -> HtmlErrorRenderer | None:
    app = request.scope.get("app")
    return getattr(app.state, "render_html_error", None) if app is not None else None


def wants_html(request: Request) -> bool:
    """Browsers navigating pages get a page; API clients (and anything under /api) get JSON."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(
    request: Request,
    status_code: int,
    *,
    code: str | None = None,
    detail: str | None = None,
    fields: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    default_code, default_detail = _STATUS_CODES.get(status_code, ("ERROR", "请求失败 / Request failed"))
    code = code or default_code
    detail = detail or default_detail
    if wants_html(request) and status_code == 401:
        # A browser without a valid session goes to the sign-in page and comes back afterwards.
        next_path = "/dashboard"
        if request.method == "GET":
            # Back to the same page after signing in, filters included.
            next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': next_path})}", status_code=303)
    if wants_html(request) and code == "PASSWORD_CHANGE_REQUIRED":
        # An administrator reset the password: the user chooses her own first.
        return RedirectResponse("/password?required=1", status_code=303)
    if wants_html(request) and (render_html := _html_renderer(request)) is not None:
        return render_html(request, status_code, detail, fields or [], headers=headers)
    body: dict[str, Any] = {
        "error": code,
        "detail": detail,
        "fields": [field.as_dict() for field in fields or []],
        # Errors that carry data (e.g. the current values and what changed, on a 409).
        **(jsonable_encoder(extra) if extra else {}),
    }
    return JSONResponse(body, status_code=status_code, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    fields = []
    for error in exc.errors():
        message = policy_message(error) or _VALIDATION_MESSAGES.get(error["type"])
        if message is None:
            message = f"输入无效 / {error.get('msg', 'invalid value')}"
        fields.append(FieldError(tuple(error.get("loc", ())), message))
    return fields


def install_error_handlers(app: FastAPI, *, render_html: HtmlErrorRenderer | None = None) -> None:
    """The API's error shape for every error; browsers get `render_html`'s page when one is given."""
    app.state.render_html_error = render_html

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        return error_response(
            request,
            exc.status_code,
            code=exc.code,
            detail=exc.detail,
            fields=exc.fields,
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = _field_errors(exc)
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            return error_response(
                request,
                400,
                code="MALFORMED_JSON",
                detail="请求体不是合法的 JSON / The body is not valid JSON",
                fields=fields,
            )
        return error_response(request, 422, fields=fields)

    @app.exception_handler(PoolTimeoutError)
    async def pool_exhausted(request: Request, exc: PoolTimeoutError) -> Response:
        # More requests than database connections for longer than the pool's timeout: overload, not a fault of
        # this request. Nothing was written (the request never had a connection); the client may retry.
        log.warning("database pool exhausted", extra={"path": request.url.path})
        return error_response(request, 503, headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})

    @app.exception_handler(StaleDataError)
    async def stale_data(request: Request, exc: StaleDataError) -> Response:
        return error_response(request, 409, code="STALE_VERSION")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers) if exc.headers else None
        # Only our own fixed texts reach the client; a framework detail could be English-only or too revealing.
        return error_response(request, exc.status_code, headers=headers)
