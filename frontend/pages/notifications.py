"""The notification centre (通知) and the header's bell: my notifications, read and unread, each opening its item
(and marked read on the way); the bell's unread count is a fragment the header refreshes by HTMX. Same service as
/api/v1/me/notifications."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.notifications import service
from backend.notifications.auth import NotificationsOwn
from frontend.pages.common import page_count, page_number
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/notifications", response_class=HTMLResponse)
async def notification_list(request: Request, session: SessionDep, principal: NotificationsOwn) -> HTMLResponse:
    show = "unread" if request.query_params.get("show") == "unread" else "all"
    page = page_number(request.query_params.get("page"))
    listed = await service.mine(session, principal, PageParams(page=page, size=PAGE_SIZE), unread_only=show == "unread")
    return render(
        request,
        "notifications/list.html",
        {
            "items": listed.items,
            "total": listed.total,
            "unread": await service.unread_count(session, principal),
            "show": show,
            "params": {"show": show},
            "page": page,
            "pages": page_count(listed.total, PAGE_SIZE),
        },
    )


@router.get("/notifications/bell", response_class=HTMLResponse)
async def bell(request: Request, session: SessionDep, principal: NotificationsOwn) -> HTMLResponse:
    return render(request, "notifications/bell.html", {"unread": await service.unread_count(session, principal)})


@router.post("/notifications/read-all")
async def read_all(session: SessionDep, principal: NotificationsOwn) -> RedirectResponse:
    await service.mark_all_read(session, principal)
    return RedirectResponse("/notifications?done=read", status_code=303)


@router.post("/notifications/{notification_id}/open")
async def open_item(session: SessionDep, principal: NotificationsOwn, notification_id: uuid.UUID) -> RedirectResponse:
    """Mark it read and go to its item (links are paths on this site, written by the notifications domain)."""
    row = await service.mark_read(session, principal, notification_id)
    target = row.link if row.link.startswith("/") and not row.link.startswith("//") else "/notifications"
    return RedirectResponse(target, status_code=303)
