"""A county's delivery channels (投递渠道设置), set by its administrator.

The non-secret part (SMTP host, port, STARTTLS, user name, sender; the SMS gateway's URL) is stored as JSON; the
SMTP password, the gateway token, the robots' URLs (their key is part of the URL) and DingTalk's signing secret
as one AES-GCM ciphertext under the data encryption key, never shown again (the read says only whether each is
set). `channels()` builds the drivers of the channels the county configured. `test_send()` sends a test message
through one channel now and answers with the driver's reason when it fails (the settings page shows it).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.core.clock import utc_now
from backend.core.crypto import personal_data_cipher
from backend.core.outbound import OutboundPolicy, safe_outbound_url
from backend.models import DeliverySettings
from backend.notifications.delivery.channels import (
    ChannelError,
    ChannelKind,
    DeliveryChannel,
    DingTalkRobotChannel,
    EmailChannel,
    OutgoingMessage,
    Recipient,
    SmsGatewayChannel,
    SmtpSettings,
    WeComRobotChannel,
)
from backend.notifications.delivery.repository import DeliveryRepository
from backend.notifications.delivery.schemas import (
    DeliverySettingsRead,
    DeliverySettingsUpdate,
    TestSend,
    TestSendResult,
)

SECRETS_CONTEXT = "delivery_settings.secrets"
SECRET_FIELDS = ("smtp_password", "sms_token", "wecom_url", "dingtalk_url", "dingtalk_secret")
PLAIN_FIELDS = ("smtp_host", "smtp_port", "smtp_starttls", "smtp_username", "smtp_sender", "sms_url")


def _secrets(row: DeliverySettings | None) -> dict[str, str]:
    if row is None or row.secrets_ciphertext is None:
        return {}
    loaded: dict[str, str] = json.loads(personal_data_cipher().decrypt(row.secrets_ciphertext, context=SECRETS_CONTEXT))
    return loaded


def _read(row: DeliverySettings | None) -> DeliverySettingsRead:
    secrets = _secrets(row)
    plain = row.settings if row is not None else {}
    return DeliverySettingsRead(**plain, **{f"{name}_set": bool(secrets.get(name)) for name in SECRET_FIELDS})


async def read_settings(session: AsyncSession) -> DeliverySettingsRead:
    return _read(await DeliveryRepository(session).settings())


async def update_settings(
    session: AsyncSession, principal: Principal, update: DeliverySettingsUpdate, policy: OutboundPolicy
) -> DeliverySettingsRead:
    """Replace the county's channel settings; a secret given as null keeps the stored one. URLs are checked
    against the outbound policy now (a refusal is a 422 at the field) and again at every send. Audited (which
    fields changed; secrets only as "changed")."""
    for name in ("sms_url", "wecom_url", "dingtalk_url"):
        url = getattr(update, name)
        if url:
            await safe_outbound_url(url, policy, field_name=name)
    repository = DeliveryRepository(session)
    row = await repository.settings(for_update=True)
    before_plain = dict(row.settings) if row is not None else {}
    secrets = _secrets(row)
    changed_secrets = []
    for name in SECRET_FIELDS:
        value = getattr(update, name)
        if value is not None and value != secrets.get(name, ""):
            changed_secrets.append(name)
            secrets[name] = value
    plain: dict[str, Any] = update.model_dump(mode="json", include=set(PLAIN_FIELDS))
    ciphertext = personal_data_cipher().encrypt(json.dumps(secrets), context=SECRETS_CONTEXT)
    if row is None:
        row = DeliverySettings(id=uuid.uuid4(), tenant_id=repository.tenant_id, settings=plain)
        repository.add(row)
    row.settings = plain
    row.secrets_ciphertext = ciphertext
    row.updated_at = utc_now()
    await repository.flush()
    changes = audit.diff(before_plain, plain)
    changes.update({name: "changed" for name in changed_secrets})
    if changes:
        await _audit(session, principal, "delivery_settings.update", changes)
    return _read(row)


async def _audit(session: AsyncSession, principal: Principal, action: str, changes: dict[str, Any]) -> None:
    """An event about the county's delivery settings."""
    county = principal.tenant_code
    await audit.record(
        session,
        action=action,
        entity_type="delivery_settings",
        entity_id=county or "",
        org_unit_code=county,
        changes=changes,
    )


def build_channels(row: DeliverySettings | None, policy: OutboundPolicy) -> dict[ChannelKind, DeliveryChannel]:
    """The drivers of the channels this county configured."""
    plain = row.settings if row is not None else {}
    secrets = _secrets(row)
    channels: dict[ChannelKind, DeliveryChannel] = {}
    if plain.get("smtp_host") and plain.get("smtp_sender"):
        channels[ChannelKind.email] = EmailChannel(
            SmtpSettings(
                host=plain["smtp_host"],
                port=int(plain.get("smtp_port") or 25),
                starttls=bool(plain.get("smtp_starttls")),
                sender=plain["smtp_sender"],
                username=plain.get("smtp_username") or None,
                password=secrets.get("smtp_password") or None,
            )
        )
    if plain.get("sms_url"):
        channels[ChannelKind.sms] = SmsGatewayChannel(plain["sms_url"], secrets.get("sms_token", ""), policy)
    if secrets.get("wecom_url"):
        channels[ChannelKind.wecom] = WeComRobotChannel(secrets["wecom_url"], policy)
    if secrets.get("dingtalk_url"):
        channels[ChannelKind.dingtalk] = DingTalkRobotChannel(
            secrets["dingtalk_url"], secrets.get("dingtalk_secret") or None, policy
        )
    return channels


async def channels(session: AsyncSession, policy: OutboundPolicy) -> dict[ChannelKind, DeliveryChannel]:
    return build_channels(await DeliveryRepository(session).settings(), policy)


def not_configured(channel: ChannelKind) -> str:
    return f"本县未设置该渠道（{channel.value}），请先在投递渠道设置中填写 / the county has not set up {channel.value}"


async def test_send(
    session: AsyncSession, principal: Principal, body: TestSend, policy: OutboundPolicy
) -> TestSendResult:
    """Send a test message through one channel now; the driver's reason when it fails. Audited."""
    driver = (await channels(session, policy)).get(body.channel)
    if driver is None:
        result = TestSendResult(ok=False, detail=not_configured(body.channel))
    else:
        message = OutgoingMessage(
            idempotency_key=f"lg-test-{uuid.uuid4().hex}",
            kind_label="测试消息 / Test message",
            title="这是一条测试消息 / This is a test message",
            reference=None,
            link="/notifications",
        )
        try:
            receipt = await driver.send(message, Recipient(email=body.email, phone=body.phone))
            result = TestSendResult(ok=True, detail=f"已发送 / sent ({receipt})")
        except ChannelError as error:
            result = TestSendResult(ok=False, detail=error.reason)
    changes = {"channel": body.channel.value, "ok": result.ok, "detail": result.detail}
    await _audit(session, principal, "delivery_settings.test_send", changes)
    return result
