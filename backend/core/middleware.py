"""Pure ASGI middleware: request id, client address and access log with Prometheus metrics; the pages' URL guard."""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.context import client_addr_var, request_id_var
from backend.core.errors import FieldError
from backend.core.input import CONTROL_CHARACTERS_MESSAGE, refuses_control_characters
from backend.core.metrics import HTTP_SERVER_DURATION

log = logging.getLogger("liuguan.access")

REQUEST_ID_HEADER = "x-request-id"
# A caller-supplied id is kept only if it is short and harmless, so it cannot forge log lines.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _route_template(scope: Scope) -> str:
    """The matched route's template (`/api/v1/cases/{case_id}`), not the raw path: ids in paths would
    explode the metric's cardinality. Routers carry their full prefix (backend/api.py), so this is complete."""
    return str(getattr(scope.get("route"), "path", "unmatched"))


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        client = scope.get("client")
        request_token = request_id_var.set(request_id)
        client_token = client_addr_var.set(client[0] if client else None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        response_started = False

        async def send_tracking(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send_with_id(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            # Handled here rather than by Starlette's outermost error middleware, so that the log line and
            # the response still carry the request id. Nothing of the exception reaches the client.
            log.exception("unhandled error", extra={"path": scope["path"]})
            if response_started:
                raise
            from backend.core.error_handlers import error_response

            await error_response(Request(scope), 500)(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route_label = _route_template(scope)
            HTTP_SERVER_DURATION.labels(scope["method"], route_label, str(status)).observe(elapsed)
            log.info(
                "%s %s %s",
                scope["method"],
                route_label,
                status,
                extra={"status": status, "duration_ms": round(elapsed * 1000, 2), "path": scope["path"]},
            )
            request_id_var.reset(request_token)
            client_addr_var.reset(client_token)


def _control_characters_in_url(scope: Scope) -> tuple[str | int, ...] | None:
    """Where the URL carries a control character (decoded): ("path",) or ("query", name); None when it does not."""
    if refuses_control_characters(scope["path"]):
        return ("path",)
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace"):
        if refuses_control_characters(name) or refuses_control_characters(value):
            return ("query", name)
    return None


class PageUrlGuard:
    """Pages read their filters and search boxes from the query string by hand: a control character in a page's
    URL (NUL, which PostgreSQL refuses in text, and the rest) is answered 422 here, before a handler could carry
    it to the database. The API declares every parameter with the shared types of backend/core/input.py."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/api/"):
            where = _control_characters_in_url(scope)
            if where is not None:
                from backend.core.error_handlers import error_response

                refusal = error_response(Request(scope), 422, fields=[FieldError(where, CONTROL_CHARACTERS_MESSAGE)])
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
