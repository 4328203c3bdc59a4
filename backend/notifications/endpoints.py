"""Notification routes under /me/notifications (a person's own; /notifications is the departments' intake):
my notifications (newest first, or only the unread), the unread count the header's bell shows, marking one or
all read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from backend.core.pagination import Page, PageParams, page_params
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.notifications import service
from backend.notifications.auth import NotificationsOwn
from backend.notifications.schemas import NotificationRead, UnreadCount

router = APIRouter(prefix=f"{API_V1}/me/notifications", tags=["notifications"])


@router.get("", summary="My notifications, newest first")
async def list_notifications(
    session: SessionDep,
    principal: NotificationsOwn,
    paging: Annotated[PageParams, Depends(page_params)],
    unread: bool = False,
) -> Page[NotificationRead]:
    return await service.mine(session, principal, paging, unread_only=unread)


@router.get("/unread-count", summary="How many of my notifications are unread")
async def unread_count(session: SessionDep, principal: NotificationsOwn) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, principal))


@router.post("/{notification_id}/read", summary="Mark one of my notifications read")
async def mark_read(session: SessionDep, principal: NotificationsOwn, notification_id: uuid.UUID) -> NotificationRead:
    return NotificationRead.model_validate(await service.mark_read(session, principal, notification_id))


@router.post("/read-all", summary="Mark all my notifications read")
async def mark_all_read(session: SessionDep, principal: NotificationsOwn) -> UnreadCount:
    await service.mark_all_read(session, principal)
    return UnreadCount(unread=0)
