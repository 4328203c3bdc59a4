"""Delivery pages: my notification settings (通知设置: channels per kind, e-mail, mobile, quiet hours), and for
the county admin the delivery channels (投递渠道: SMTP, SMS gateway, robots, with a test send) and the failed
deliveries (投递失败) with retry. Same services as /api/v1/me/notification-preferences,
/api/v1/admin/delivery-settings and /api/v1/admin/notification-deliveries."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.outbound import outbound_policy
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.notifications.auth import NotificationsOwn
from backend.notifications.delivery import preferences, service, settings
from backend.notifications.delivery.channels import CHANNEL_LABELS, SENT_CHANNELS
from backend.notifications.delivery.endpoints import DeliveryAdmin
from backend.notifications.delivery.schemas import DeliverySettingsUpdate, PreferencesUpdate, TestSend, TestSendResult
from backend.notifications.schemas import KIND_LABELS
from frontend.forms import Form, FormView
from frontend.pages.common import page_count, page_number
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
KINDS = [(kind.value, label) for kind, label in KIND_LABELS.items()]
CHANNELS = [(channel.value, CHANNEL_LABELS[channel]) for channel in SENT_CHANNELS]
PREFERENCE_FIELDS = ("email", "phone", "quiet_start", "quiet_end")
SUPERVISOR = Action.case_assign  # who may choose the daily digest (the service decides; the page offers it)
SETTINGS_FIELDS = (
    "smtp_host",
    "smtp_port",
    "smtp_username",
    "smtp_sender",
    "sms_url",
    "smtp_password",
    "sms_token",
    "wecom_url",
    "dingtalk_url",
    "dingtalk_secret",
)
SECRETS = frozenset({"smtp_password", "sms_token", "wecom_url", "dingtalk_url", "dingtalk_secret"})


# --- my notification settings --------------------------------------------------------------------------------


async def _preferences_page(
    request: Request, session: AsyncSession, principal: Principal, form: FormView | None = None
) -> HTMLResponse:
    saved = await preferences.read_preferences(session, principal)
    if form is None:
        values: dict[str, Any] = {
            "email": saved.email or "",
            "quiet_start": saved.quiet_start.strftime("%H:%M") if saved.quiet_start else "",
            "quiet_end": saved.quiet_end.strftime("%H:%M") if saved.quiet_end else "",
        }
        values |= {f"ch.{kind}": channels for kind, channels in saved.channels.items()}
        values["digest"] = ["on"] if saved.digest else []
        form = FormView(values)
    context = {
        "kinds": KINDS,
        "channels": CHANNELS,
        "saved_phone": saved.phone,
        "may_digest": principal.holds(SUPERVISOR),
    }
    return render(request, "notifications/settings.html", context, form=form)


@router.get("/notifications/settings", response_class=HTMLResponse)
async def preferences_page(request: Request, session: SessionDep, principal: NotificationsOwn) -> HTMLResponse:
    return await _preferences_page(request, session, principal)


@router.post("/notifications/settings", response_class=HTMLResponse)
async def preferences_save(request: Request, session: SessionDep, principal: NotificationsOwn) -> Response:
    form = await Form.read(request, PREFERENCE_FIELDS, lists=["digest", *(f"ch.{kind}" for kind, _ in KINDS)])
    data = form.given(*PREFERENCE_FIELDS)
    data["digest"] = bool(form.values["digest"])
    data["channels"] = {kind: form.values[f"ch.{kind}"] for kind, _ in KINDS if form.values[f"ch.{kind}"]}
    return await form.submit(
        session,
        PreferencesUpdate,
        lambda body: preferences.update_preferences(session, principal, body),
        data=data,
        done="/notifications/settings?done=saved",
        again=lambda errors: _preferences_page(request, session, principal, form.view(errors)),
    )


# --- the county's delivery channels --------------------------------------------------------------------------


async def _settings_page(
    request: Request, session: AsyncSession, form: FormView | None = None, tested: TestSendResult | None = None
) -> HTMLResponse:
    saved = await settings.read_settings(session)
    if form is None:
        form = FormView({name: value for name, value in saved.model_dump().items() if value is not None})
    context = {"saved": saved, "channel_labels": dict(CHANNELS), "tested": tested}
    return render(request, "admin/delivery.html", context, form=form)


@router.get("/admin/delivery", response_class=HTMLResponse)
async def settings_page(request: Request, session: SessionDep, principal: DeliveryAdmin) -> HTMLResponse:
    return await _settings_page(request, session)


@router.post("/admin/delivery", response_class=HTMLResponse)
async def settings_save(request: Request, session: SessionDep, principal: DeliveryAdmin) -> Response:
    form = await Form.read(request, SETTINGS_FIELDS, verbatim=SECRETS, lists=("smtp_starttls",))
    data: dict[str, Any] = form.given(*(name for name in SETTINGS_FIELDS if name not in SECRETS))
    data |= {name: form.values[name] for name in SECRETS if form.values[name]}  # empty: keep the saved secret
    data["smtp_starttls"] = bool(form.values["smtp_starttls"])
    return await form.submit(
        session,
        DeliverySettingsUpdate,
        lambda body: settings.update_settings(session, principal, body, outbound_policy()),
        data=data,
        done="/admin/delivery?done=saved",
        again=lambda errors: _settings_page(request, session, form.view(errors)),
    )


@router.post("/admin/delivery/test-send", response_class=HTMLResponse)
async def settings_test_send(request: Request, session: SessionDep, principal: DeliveryAdmin) -> Response:
    form = await Form.read(request, ("channel", "email", "phone"))
    tested = await form.attempt(
        session, TestSend, lambda body: settings.test_send(session, principal, body, outbound_policy())
    )
    if isinstance(tested, TestSendResult):
        return await _settings_page(request, session, tested=tested)
    return await _settings_page(request, session, form.view(tested))


# --- failed deliveries -----------------------------------------------------------------------------------------


@router.get("/admin/delivery/failed", response_class=HTMLResponse)
async def failed_page(request: Request, session: SessionDep, principal: DeliveryAdmin) -> HTMLResponse:
    page = page_number(request.query_params.get("page"))
    listed = await service.deliveries(session, [service.FAILED], PageParams(page=page, size=PAGE_SIZE))
    context = {
        "items": listed.items,
        "total": listed.total,
        "labels": dict(CHANNELS),
        "params": {},
        "page": page,
        "pages": page_count(listed.total, PAGE_SIZE),
    }
    return render(request, "admin/delivery_failed.html", context)


@router.post("/admin/delivery/{delivery_id}/retry")
async def failed_retry(session: SessionDep, principal: DeliveryAdmin, delivery_id: uuid.UUID) -> RedirectResponse:
    await service.retry(session, principal, delivery_id)
    return RedirectResponse("/admin/delivery/failed?done=retried", status_code=303)
