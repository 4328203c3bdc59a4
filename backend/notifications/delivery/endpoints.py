"""Delivery routes: my preferences (/me/notification-preferences), and for the county admin the channel settings
with a test send (/admin/delivery-settings) and the deliveries list with retry (/admin/notification-deliveries)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from backend.authz.dependencies import Require
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.outbound import outbound_policy
from backend.core.pagination import Page, PageParams, page_params
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.notifications.auth import NotificationsOwn
from backend.notifications.delivery import preferences, service, settings
from backend.notifications.delivery.schemas import (
    ChannelDeliveryRead,
    DeliverySettingsRead,
    DeliverySettingsUpdate,
    PreferencesRead,
    PreferencesUpdate,
    TestSend,
    TestSendResult,
)

DeliveryAdmin = Annotated[Principal, Depends(Require(Action.config_manage))]
router = APIRouter(prefix=API_V1, tags=["notifications"])


@router.get("/me/notification-preferences", summary="My notification channels and quiet hours")
async def read_preferences(session: SessionDep, principal: NotificationsOwn) -> PreferencesRead:
    return await preferences.read_preferences(session, principal)


@router.put("/me/notification-preferences", summary="Replace my notification channels and quiet hours")
async def update_preferences(
    session: SessionDep, principal: NotificationsOwn, body: PreferencesUpdate
) -> PreferencesRead:
    return await preferences.update_preferences(session, principal, body)


@router.get("/admin/delivery-settings", summary="The county's delivery channels (secrets only as set or not)")
async def read_delivery_settings(session: SessionDep, _: DeliveryAdmin) -> DeliverySettingsRead:
    return await settings.read_settings(session)


@router.put("/admin/delivery-settings", summary="Replace the county's delivery channels")
async def update_delivery_settings(
    session: SessionDep, principal: DeliveryAdmin, body: DeliverySettingsUpdate
) -> DeliverySettingsRead:
    return await settings.update_settings(session, principal, body, outbound_policy())


@router.post("/admin/delivery-settings/test-send", summary="Send a test message through one channel now")
async def test_send(session: SessionDep, principal: DeliveryAdmin, body: TestSend) -> TestSendResult:
    return await settings.test_send(session, principal, body, outbound_policy())


@router.get("/admin/notification-deliveries", summary="The county's deliveries by status (failed first of all)")
async def list_deliveries(
    session: SessionDep,
    _: DeliveryAdmin,
    paging: Annotated[PageParams, Depends(page_params)],
    status: Annotated[Literal["failed", "pending", "sending", "sent"], Query()] = "failed",
) -> Page[ChannelDeliveryRead]:
    return await service.deliveries(session, [status], paging)


@router.post("/admin/notification-deliveries/{delivery_id}/retry", summary="Send a failed delivery again")
async def retry_delivery(session: SessionDep, principal: DeliveryAdmin, delivery_id: uuid.UUID) -> ChannelDeliveryRead:
    return ChannelDeliveryRead.model_validate(await service.retry(session, principal, delivery_id))
