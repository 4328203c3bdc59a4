"""The error body every error status of every route answers, declared once (backend/api.py applies it to the
routers, and adds readable operation ids, the security schemes and an example for every request body). An
integrator generates a client from the document (docs/openapi.json), and that client reads the errors the API
really sends (`{"error", "detail", "fields"}`), not FastAPI's default validation body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorField(BaseModel):
    """One problem with one input: where (`["body", "persons", 3, "resident_id"]`) and what, in Chinese and
    English."""

    loc: list[str | int]
    msg: str


class ErrorBody(BaseModel):
    """Every error the API answers. `error` is a stable code (`INVALID_INPUT`, `NOT_FOUND`, `STALE_VERSION`,
    `invalid_client` ...), `detail` a message in Chinese then English, `fields` the inputs at fault. Some
    errors add keys: a 409 on a stale version carries the current values and what changed; the OAuth2 token
    endpoint adds `error_description` (RFC 6749 §5.2)."""

    model_config = ConfigDict(
        title="Error",
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "error": "INVALID_INPUT",
                    "detail": "输入有误 / Invalid input",
                    "fields": [{"loc": ["body", "resident_id"], "msg": "校验位不正确 / wrong check digit"}],
                }
            ]
        },
    )

    error: str = Field(examples=["INVALID_INPUT"])
    detail: str
    fields: list[ErrorField] = Field(default_factory=list)
    error_description: str | None = None


# The error statuses every API route may answer (a route's own declaration of one of them wins).
ERROR_STATUSES = {
    400: "请求有误 / Bad request",
    401: "需要登录或有效凭证 / Authentication required",
    403: "无权执行此操作 / Not allowed",
    404: "未找到（或不在可及范围内）/ Not found (or out of reach)",
    409: "冲突：已被他人修改或状态不允许 / Conflict: changed by someone else, or not allowed in this state",
    413: "内容过大 / Payload too large",
    415: "不支持的内容类型 / Unsupported media type",
    422: "输入有误，见 fields / Invalid input, see fields",
    429: "请求过于频繁 / Too many requests",
    500: "系统内部错误，已记录 / Internal error; it has been logged",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description} for status, description in ERROR_STATUSES.items()
}
