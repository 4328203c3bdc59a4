"""The delivery pages: 通知设置 linked from the notification page, a bad choice refused at its field in Chinese;
the admin's 投递渠道 page whose test send names what is wrong (wrong gateway token, unreachable SMTP server); the
投递失败 list with its retry; none of them open to an officer."""

from __future__ import annotations

import re

from sqlalchemy import select

from backend.authz.vocabulary import Role
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import NotificationDelivery
from backend.notifications.delivery import service
from tests.backend.notifications.delivery.conftest import notify
from tests.backend.notifications.delivery.servers import GatewayStub, SmtpServer, free_port
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


async def test_my_notification_settings_are_saved_and_a_bad_choice_is_refused_at_its_field(
    county: County, sign_in: SignIn
) -> None:
    officer = await sign_in(county, "officer")
    assert 'href="/notifications/settings"' in (await officer.get("/notifications")).text
    page = await officer.get("/notifications/settings")
    assert page.status_code == 200 and "通知设置" in page.text

    refused = await officer.post("/notifications/settings", data={"ch.case.assigned": "sms"})
    assert refused.status_code == 422
    assert 'id="e-phone"' in refused.text and "选择了短信通知，请填写手机号码" in refused.text
    assert "SMS chosen" not in refused.text
    assert 'value="sms" checked' in refused.text  # the choice is kept as made

    saved = await officer.post(
        "/notifications/settings",
        data={"ch.case.assigned": ["sms", "email"], "phone": "13812345678", "email": "o@county.example.cn"},
    )
    assert saved.status_code == 303, saved.text
    read = (await officer.get("/api/v1/me/notification-preferences")).json()
    assert read["channels"] == {"case.assigned": ["email", "sms"]} and read["phone"] == "138****5678"
    # Saved again without typing the number: the saved one is kept.
    again = await officer.post("/notifications/settings", data={"ch.case.assigned": "sms"})
    assert again.status_code == 303
    assert (await officer.get("/api/v1/me/notification-preferences")).json()["phone"] == "138****5678"


async def test_the_admin_test_send_names_what_is_wrong_in_chinese(
    county: County, sign_in: SignIn, smtp_server: SmtpServer, gateway: GatewayStub, loopback_policy: object
) -> None:
    admin = await sign_in(county, "admin")
    saved = await admin.post(
        "/admin/delivery",
        data={
            "smtp_host": "127.0.0.1",
            "smtp_port": str(free_port()),
            "smtp_sender": "lg@county.example.cn",
            "sms_url": gateway.url("/sms"),
            "sms_token": "wrong-token",
        },
    )
    assert saved.status_code == 303, saved.text
    page = (await admin.get("/admin/delivery")).text
    assert "wrong-token" not in page and "已设置" in page

    sms = await admin.post("/admin/delivery/test-send", data={"channel": "sms", "phone": "13812345678"})
    assert "短信网关拒绝了令牌（HTTP 401），请检查网关令牌" in _text(sms.text)
    email = await admin.post("/admin/delivery/test-send", data={"channel": "email", "email": "a@county.example.cn"})
    assert "无法连接邮件服务器 127.0.0.1" in _text(email.text)

    fixed = await admin.post("/admin/delivery", data={"sms_url": gateway.url("/sms"), "sms_token": "gateway-token"})
    assert fixed.status_code == 303
    sms = await admin.post("/admin/delivery/test-send", data={"channel": "sms", "phone": "13812345678"})
    assert "已发送" in _text(sms.text)
    assert len(gateway.sent_sms) == 1

    refused = await admin.post("/admin/delivery", data={"sms_url": "ftp://x"})
    assert refused.status_code == 422 and 'id="e-sms_url"' in refused.text


async def test_failed_deliveries_are_listed_for_the_admin_with_a_retry(
    county: County, sign_in: SignIn, database: Database
) -> None:
    officer, admin = await sign_in(county, "officer"), await sign_in(county, "admin")
    prefs = {"channels": {"case.assigned": ["email"]}, "email": "o@county.example.cn"}
    assert (await officer.put("/api/v1/me/notification-preferences", json=prefs)).status_code == 200
    await notify(database, county, "officer")
    actor_var.set(SYSTEM_ACTOR)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        delivery = (await session.scalars(select(NotificationDelivery))).one()
        await service.mark_failed(session, delivery.id, "无法连接邮件服务器 mail.example:25 / cannot reach")

    page = await admin.get("/admin/delivery/failed")
    assert page.status_code == 200
    assert "无法连接邮件服务器 mail.example:25" in page.text and "cannot reach" not in page.text
    assert page.text.count('data-testid="failed-delivery"') == 1
    retried = await admin.post(f"/admin/delivery/{delivery.id}/retry")
    assert retried.status_code == 303
    assert 'data-testid="failed-delivery"' not in (await admin.get("/admin/delivery/failed")).text
    for path in ("/admin/delivery", "/admin/delivery/failed"):
        assert (await officer.get(path)).status_code in (403, 404)


async def test_another_countys_deliveries_are_neither_listed_nor_retried(
    county: County, sign_in: SignIn, database: Database, tenant_factory: TenantFactory
) -> None:
    other = await build_county(database, tenant_factory, name="邻县")
    await add_user(database, other, "officer", "t1", [(Role.township_officer, "t1")])
    officer = await sign_in(other, "officer")
    prefs = {"channels": {"case.assigned": ["email"]}, "email": "o@other.example.cn"}
    assert (await officer.put("/api/v1/me/notification-preferences", json=prefs)).status_code == 200
    await notify(database, other, "officer")
    actor_var.set(SYSTEM_ACTOR)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, other.tenant.id)
        theirs = (await session.scalars(select(NotificationDelivery))).one()
        await service.mark_failed(session, theirs.id, "无法连接邮件服务器 / cannot reach")

    admin = await sign_in(county, "admin")
    listed = await admin.get("/api/v1/admin/notification-deliveries", params={"status": "failed"})
    assert listed.status_code == 200 and listed.json()["items"] == []
    assert (await admin.post(f"/api/v1/admin/notification-deliveries/{theirs.id}/retry")).status_code == 404
    assert (await admin.post(f"/admin/delivery/{theirs.id}/retry")).status_code == 404
