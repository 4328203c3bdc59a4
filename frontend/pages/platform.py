"""The platform operator's pages (平台管理员): sign in with the platform token, then import a year's State Council
holiday notice (国务院办公厅放假通知): paste or upload it, preview the parsed days, confirm. Same parser and the
same publishing (import + every county's recount) as POST /api/v1/platform/calendar/notices.

The platform operator has no user account: the API knows them only by `Authorization: Bearer
<PLATFORM_ADMIN_TOKEN>`, which a browser cannot send. These pages therefore sign the operator in with that
token and keep a cookie of their own, valid for the `/platform` pages only and for `PLATFORM_SESSION_HOURS`:
an expiry signed with the token (HMAC-SHA256), never the token itself, so changing the token ends every such
session. Writes carry a CSRF token derived the same way. The principal is the same platform principal the
bearer token gives (backend/auth/bearer.py): `platform_admin`, whose only action is `tenant.provision`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from backend.auth.bearer import platform_principal
from backend.authz.dependencies import PERMISSION_ATTRIBUTE
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.calendar import service as calendar
from backend.calendar.notice_import import NoticeFormat, notice_year, parse_notice_import
from backend.calendar.publishing import publish_official_notice
from backend.calendar.workdays import SpecialDay
from backend.core.errors import DomainError
from backend.db.session import SessionDep
from backend.identity.security import new_token, tokens_equal
from frontend.forms import Form
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PLATFORM_COOKIE = "lg_platform"
PLATFORM_LOGIN_CSRF_COOKIE = "lg_platform_login_csrf"
PLATFORM_PATH = "/platform"
PLATFORM_SESSION_HOURS = 8
MAX_NOTICE_CHARS = 200_000  # a notice is a few dozen rows; this bounds what a paste or upload may hold
TOO_LONG = "内容太长 / the text is too long"


def _signature(token: str, purpose: str, expires: int) -> str:
    return hmac.new(token.encode(), f"{purpose}:{expires}".encode(), hashlib.sha256).hexdigest()


def _session_value(token: str, expires: int) -> str:
    return f"{expires}.{_signature(token, 'platform-page-session', expires)}"


def _valid_expiry(request: Request) -> int | None:
    """The expiry of the request's platform cookie when it is signed with the current token and not expired."""
    token = request.app.state.settings.platform_admin_token
    expires_text, _, signature = request.cookies.get(PLATFORM_COOKIE, "").partition(".")
    if not expires_text.isdigit() or int(expires_text) < time.time():
        return None
    if not tokens_equal(signature, _signature(token, "platform-page-session", int(expires_text))):
        return None
    return int(expires_text)


def _csrf_token(request: Request, expires: int) -> str:
    return _signature(request.app.state.settings.platform_admin_token, "platform-page-csrf", expires)


async def platform_page_principal(request: Request, session: SessionDep) -> Principal | None:
    """The platform principal for a valid platform cookie (the transaction in the platform context), or None:
    the handler then sends the browser to the platform sign-in. A write must echo the CSRF token."""
    expires = _valid_expiry(request)
    if expires is None:
        return None
    if request.method not in ("GET", "HEAD"):
        form = await request.form()
        supplied = form.get("csrf_token")
        if not isinstance(supplied, str) or not tokens_equal(supplied, _csrf_token(request, expires)):
            return None
    principal = await platform_principal(session)
    principal.csrf_token = _csrf_token(request, expires)
    request.state.principal = principal
    return principal


# The route table reads the permission from the dependency, as for Require(...): tenant.provision is what the
# platform principal holds, and nothing else.
setattr(platform_page_principal, PERMISSION_ATTRIBUTE, Action.tenant_provision.value)
PlatformPage = Annotated[Principal | None, Depends(platform_page_principal)]


def _to_sign_in() -> RedirectResponse:
    return RedirectResponse(f"{PLATFORM_PATH}/login", status_code=303)


def _login_page(request: Request, *, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    csrf = new_token(24)
    response = render(request, "platform/login.html", {"csrf_token": csrf, "error": error}, status_code=status_code)
    response.set_cookie(
        PLATFORM_LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict", path=f"{PLATFORM_PATH}/login"
    )
    return response


@router.get("/platform/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/platform/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await Form.read(request, ("platform_token", "csrf_token"), verbatim=("platform_token",))
    expected_csrf = request.cookies.get(PLATFORM_LOGIN_CSRF_COOKIE, "")
    if not expected_csrf or not tokens_equal(form.values["csrf_token"], expected_csrf):
        return _login_page(request, error="页面已过期，请重试 / The form expired; please try again", status_code=403)
    settings = request.app.state.settings
    supplied = form.values["platform_token"]
    if not supplied or not hmac.compare_digest(supplied.encode(), settings.platform_admin_token.encode()):
        return _login_page(request, error="平台令牌不正确 / the platform token is not correct", status_code=401)
    expires = int(time.time()) + PLATFORM_SESSION_HOURS * 3600
    response = RedirectResponse(f"{PLATFORM_PATH}/calendar", status_code=303)
    response.set_cookie(
        PLATFORM_COOKIE,
        _session_value(settings.platform_admin_token, expires),
        max_age=PLATFORM_SESSION_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
        path=PLATFORM_PATH,
    )
    response.delete_cookie(PLATFORM_LOGIN_CSRF_COOKIE, path=f"{PLATFORM_PATH}/login")
    return response


@router.post("/platform/logout")
async def logout(principal: PlatformPage) -> Response:
    response = _to_sign_in()
    response.delete_cookie(PLATFORM_COOKIE, path=PLATFORM_PATH)
    return response


@dataclass
class NoticeDraft:
    """The notice on the page: as pasted, its format, the days it parses to (the preview) and the problems."""

    text: str = ""
    fmt: NoticeFormat = "csv"
    preview: list[SpecialDay] | None = None
    year: int | None = None
    published: bool = False  # the preview's year is already published: importing replaces it
    errors: list[str] = field(default_factory=list)


async def _calendar_page(
    request: Request, session: SessionDep, principal: Principal, notice: NoticeDraft | None = None
) -> HTMLResponse:
    notice = notice or NoticeDraft()
    context = {"csrf_token": principal.csrf_token, "years": await calendar.official_years(session), "notice": notice}
    return render(request, "platform/calendar.html", context, status_code=422 if notice.errors else 200)


@router.get("/platform/calendar", response_class=HTMLResponse)
async def calendar_page(request: Request, session: SessionDep, principal: PlatformPage) -> Response:
    if principal is None:
        return _to_sign_in()
    return await _calendar_page(request, session, principal)


def _format(value: object) -> NoticeFormat:
    return "json" if value == "json" else "csv"


async def _notice_text(request: Request) -> tuple[str, NoticeFormat, list[str]]:
    """The notice from the upload (when a file was chosen) or the text box, its format, and any problem."""
    form = await request.form()
    fmt = _format(form.get("format"))
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_NOTICE_CHARS * 4 + 1)
        if len(data) > MAX_NOTICE_CHARS * 4:
            return "", fmt, ["文件太大 / the file is too large"]
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return "", fmt, ["文件须为 UTF-8 编码的 CSV 或 JSON / the file must be UTF-8 CSV or JSON"]
        if upload.filename.lower().endswith(".json"):
            fmt = "json"
    else:
        text = str(form.get("text", ""))
    if len(text) > MAX_NOTICE_CHARS:
        return "", fmt, [TOO_LONG]
    if not text.strip():
        return "", fmt, ["请粘贴通知内容或选择文件 / paste the notice or choose a file"]
    return text, fmt, []


@router.post("/platform/calendar/preview", response_class=HTMLResponse)
async def preview(request: Request, session: SessionDep, principal: PlatformPage) -> Response:
    """Parse the notice and show its days; nothing is written."""
    if principal is None:
        return _to_sign_in()
    text, fmt, problems = await _notice_text(request)
    if problems:
        return await _calendar_page(request, session, principal, NoticeDraft(fmt=fmt, errors=problems))
    try:
        days = parse_notice_import(text, fmt)
    except DomainError as error:
        messages = [problem.msg for problem in error.fields] or [error.detail]
        return await _calendar_page(request, session, principal, NoticeDraft(text, fmt, errors=messages))
    year = notice_year(days)
    published = await calendar.notice_year_published(session, year)
    return await _calendar_page(request, session, principal, NoticeDraft(text, fmt, days, year, published))


@router.post("/platform/calendar/import", response_class=HTMLResponse)
async def import_notice(request: Request, session: SessionDep, principal: PlatformPage) -> Response:
    """Import what the preview showed (the same text, parsed again), then recount every county's deadlines."""
    if principal is None:
        return _to_sign_in()
    form = await Form.read(request, ("text", "format", "replace"), verbatim=("text",))
    text, fmt = form.values["text"], _format(form.values["format"])
    if len(text) > MAX_NOTICE_CHARS:
        return await _calendar_page(request, session, principal, NoticeDraft(fmt=fmt, errors=[TOO_LONG]))
    try:
        async with session.begin_nested():
            result = await publish_official_notice(session, text, fmt, replace=form.values["replace"] == "1")
    except DomainError as error:
        messages = [error.detail] + [problem.msg for problem in error.fields]
        return await _calendar_page(request, session, principal, NoticeDraft(text, fmt, errors=messages))
    outcome = {
        "done": "replaced" if result.replaced else "imported",
        "year": result.year,
        "holidays": result.public_holidays,
        "workdays": result.makeup_workdays,
        "counties": result.tenants_notified,
    }
    return RedirectResponse(f"{PLATFORM_PATH}/calendar?{urlencode(outcome)}", status_code=303)
