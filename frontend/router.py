"""Server-rendered pages: public pages here, each area's pages in frontend/pages/."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from frontend.i18n import LOCALE_COOKIE, SUPPORTED_LOCALES
from frontend.pages import (
    admin,
    agreements,
    archive,
    assessments,
    audit,
    auth,
    campaigns,
    case_open,
    cases,
    certificates,
    checks,
    complaints,
    contraceptives,
    dashboard,
    data_review,
    delivery,
    documents,
    entrustments,
    followups,
    free_services,
    housing,
    info_queries,
    kpis,
    notifications,
    persons,
    platform,
    registers,
    reports,
    rewards,
    settings,
    todo,
    triage,
    verification,
)
from frontend.rendering import render

pages_router = APIRouter(include_in_schema=False)


@pages_router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return render(request, "home.html")


@pages_router.get("/lang/{locale}")
async def switch_language(locale: str, request: Request, next: str = "/") -> RedirectResponse:
    """Remember the chosen language in a cookie and go back to the page the link was on (`next`, a path of this
    site: the pages send no Referer, Referrer-Policy no-referrer)."""
    if locale not in SUPPORTED_LOCALES:
        raise StarletteHTTPException(status_code=404)
    response = RedirectResponse(_same_site_path(next), status_code=303)
    response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
    return response


def _same_site_path(target: str) -> str:
    """`target` if it is a path on this site (with its query), else the home page: never another host."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target if len(target) <= 2000 else "/"


pages_router.include_router(auth.router)
pages_router.include_router(dashboard.router)
# Before cases.router: /cases/{id}/verification, /documents and /issue are more specific than its routes.
pages_router.include_router(verification.router)
pages_router.include_router(documents.router)
pages_router.include_router(triage.router)
pages_router.include_router(delivery.router)  # /notifications/settings before /notifications/{id}
pages_router.include_router(notifications.router)
pages_router.include_router(todo.router)
pages_router.include_router(case_open.router)  # /cases/new before /cases/{id}
pages_router.include_router(cases.router)
pages_router.include_router(persons.router)
pages_router.include_router(certificates.router)
pages_router.include_router(agreements.router)  # /agreements/new before /agreements/{id}
pages_router.include_router(complaints.router)  # /complaints/new before /complaints/{id}
pages_router.include_router(entrustments.router)
pages_router.include_router(archive.router)
pages_router.include_router(rewards.router)
pages_router.include_router(info_queries.router)  # /info-queries/new before /info-queries/{id}
pages_router.include_router(data_review.router)
pages_router.include_router(registers.router)
pages_router.include_router(checks.router)
pages_router.include_router(followups.router)
pages_router.include_router(contraceptives.router)
pages_router.include_router(housing.router)
pages_router.include_router(campaigns.router)
pages_router.include_router(free_services.router)
pages_router.include_router(kpis.router)  # /platform/kpis before platform.router's pages
pages_router.include_router(reports.router)
pages_router.include_router(assessments.router)
pages_router.include_router(admin.router)
pages_router.include_router(audit.router)
pages_router.include_router(platform.router)
pages_router.include_router(settings.router)
