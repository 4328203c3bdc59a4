"""Jinja2 rendering for server-side pages, with the request's locale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from backend.core.errors import FieldError
from frontend.i18n import LOCALE_COOKIE, negotiate_locale, translations

FRONTEND_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=FRONTEND_DIR / "templates")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    locale = negotiate_locale(request.cookies.get(LOCALE_COOKIE))
    catalog = translations(locale)
    # The environment is shared; the catalog is installed per render so concurrent requests in different
    # languages each get their own through the context-bound functions below.
    page_context = {
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "_": catalog.gettext,
        "gettext": catalog.gettext,
        "ngettext": catalog.ngettext,
        "principal": getattr(request.state, "principal", None),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, page_context, status_code=status_code, headers=headers)


def render_error_page(
    request: Request, status_code: int, detail: str, fields: list[FieldError], *, headers: dict[str, str] | None
) -> HTMLResponse:
    return render(
        request,
        "errors/error.html",
        {"status_code": status_code, "detail": detail, "fields": fields},
        status_code=status_code,
        headers=headers,
    )


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=FRONTEND_DIR / "static"), name="static")
