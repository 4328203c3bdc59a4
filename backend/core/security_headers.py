"""Response headers that keep the pages and the API answers where they belong (issue #16).

Every response gets, unless the handler set its own (a downloaded file keeps its `sandbox` policy):

- `Content-Security-Policy`: scripts, styles, fonts and requests from this origin only (the vendored htmx, the
  app's own static files; no inline script or style), images also as `data:` URIs (icons in stylesheets), no
  plugins, no `<base>` elsewhere, forms posting here only, and `frame-ancestors 'none'`: no page is framed;
- `X-Frame-Options: DENY` (the same for browsers without CSP level 2), `X-Content-Type-Options: nosniff`,
  `Referrer-Policy: no-referrer` (a URL may carry a search for a name or an ID number);
- `Cache-Control: no-store` on every answer to a signed-in request (a session cookie or a bearer token): pages
  and API answers show personal data, which must not stay in a shared computer's cache. Static files are
  exempt; they carry nothing personal.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
ALWAYS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
STATIC_PREFIX = "/static/"
SESSION_COOKIE_PREFIX = b"lg_"  # the app's cookies: the session (backend/auth/cookie.py) and the sign-in form's


def signed_in(scope: Scope) -> bool:
    """Whether the request carries credentials: a bearer token or one of the app's cookies."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return True
        if name == b"cookie" and any(part.strip().startswith(SESSION_COOKIE_PREFIX) for part in value.split(b";")):
            return True
    return False


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = signed_in(scope) and not scope["path"].startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if no_store:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
