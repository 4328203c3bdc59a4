"""The drivers against real receivers on loopback: e-mail to a real SMTP server, SMS to the gateway stub, the
WeCom and DingTalk robots (DingTalk's signature checked by an independent computation); the outbound URL policy
at every send; and no resident ID in any message of any kind through any driver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import unquote_plus

import pytest

from backend.core.outbound import OutboundPolicy
from backend.notifications.delivery.channels import (
    ChannelError,
    DeliveryChannel,
    DingTalkRobotChannel,
    EmailChannel,
    OutgoingMessage,
    Recipient,
    SmsGatewayChannel,
    SmtpSettings,
    WeComRobotChannel,
    message_id,
)
from backend.notifications.schemas import KIND_LABELS
from tests.backend.notifications.delivery.conftest import LOOPBACK
from tests.backend.notifications.delivery.servers import GatewayStub, SmtpServer, free_port

ID_PATTERN = re.compile(r"[0-9]{17}[0-9Xx]")
RESIDENT_ID = "11010119900307123X"
RECIPIENT = Recipient(email="wang@county.example.cn", phone="13812345678")


def _message(key: str = "lg-test-1", title: str = "案件LG-2026-000123已分配给您 / case assigned") -> OutgoingMessage:
    return OutgoingMessage(
        idempotency_key=key,
        kind_label="案件分配 / Case assigned",
        title=title,
        reference="LG-2026-000123",
        link="https://liuguan.example.cn/cases/1",
    )


def _email(server: SmtpServer) -> EmailChannel:
    return EmailChannel(SmtpSettings(host="127.0.0.1", port=server.port, starttls=False, sender="lg@county.example.cn"))


async def test_an_email_reaches_the_smtp_server_with_the_idempotency_key_as_its_message_id(
    smtp_server: SmtpServer,
) -> None:
    receipt = await _email(smtp_server).send(_message("lg-abc-email"), RECIPIENT)

    assert receipt == message_id("lg-abc-email") == "<lg-abc-email@liuguan.delivery>"
    [arrived] = smtp_server.recorder.messages
    assert arrived["Message-ID"] == receipt
    assert arrived["To"] == RECIPIENT.email
    body = arrived.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "LG-2026-000123" in body and "https://liuguan.example.cn/cases/1" in body


async def test_an_unreachable_smtp_server_is_a_clear_error() -> None:
    closed = EmailChannel(SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, sender="lg@x.example.cn"))
    with pytest.raises(ChannelError) as refused:
        await closed.send(_message(), RECIPIENT)
    assert "无法连接邮件服务器 127.0.0.1" in refused.value.reason


async def test_an_sms_carries_the_key_as_request_id_and_a_repeat_is_not_sent_twice(gateway: GatewayStub) -> None:
    sms = SmsGatewayChannel(gateway.url("/sms"), "gateway-token", LOOPBACK)
    await sms.send(_message("lg-abc-sms"), RECIPIENT)
    await sms.send(_message("lg-abc-sms"), RECIPIENT)  # a retry after a crash

    arrivals = gateway.on("/sms")
    assert [arrival.body["request_id"] for arrival in arrivals] == ["lg-abc-sms", "lg-abc-sms"]
    assert arrivals[0].headers["Idempotency-Key"] == "lg-abc-sms"
    assert arrivals[0].body["phone"] == "13812345678"
    assert gateway.sent_sms == {"lg-abc-sms": 1}


async def test_a_wrong_gateway_token_is_a_clear_error(gateway: GatewayStub) -> None:
    sms = SmsGatewayChannel(gateway.url("/sms"), "wrong", LOOPBACK)
    with pytest.raises(ChannelError) as refused:
        await sms.send(_message(), RECIPIENT)
    assert "短信网关拒绝了令牌（HTTP 401）" in refused.value.reason


async def test_the_wecom_robot_gets_its_markdown_body(gateway: GatewayStub) -> None:
    await WeComRobotChannel(gateway.url("/wecom?key=robot-key"), LOOPBACK).send(_message(), Recipient())

    [arrival] = gateway.on("/wecom")
    assert arrival.query == {"key": ["robot-key"]}
    assert arrival.body["msgtype"] == "markdown"
    assert "LG-2026-000123" in arrival.body["markdown"]["content"]


async def test_the_dingtalk_robot_is_signed_with_its_secret(gateway: GatewayStub) -> None:
    secret = "SEC-robot-secret"
    await DingTalkRobotChannel(gateway.url("/dingtalk?access_token=t"), secret, LOOPBACK).send(_message(), Recipient())

    [arrival] = gateway.on("/dingtalk")
    timestamp = arrival.query["timestamp"][0]
    # DingTalk's documented check, computed here independently of the driver.
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert unquote_plus(unquote_plus(arrival.query["sign"][0])) in (expected, unquote_plus(expected))
    assert arrival.body["markdown"]["title"].startswith("【流管】案件分配")


async def test_a_robot_url_on_loopback_is_refused_by_the_default_policy(gateway: GatewayStub) -> None:
    with pytest.raises(ChannelError) as refused:
        await WeComRobotChannel(gateway.url("/wecom"), OutboundPolicy()).send(_message(), Recipient())
    assert "出站策略" in refused.value.reason
    assert gateway.on("/wecom") == []


async def test_no_message_of_any_kind_through_any_driver_carries_a_resident_id(
    smtp_server: SmtpServer, gateway: GatewayStub
) -> None:
    drivers: list[DeliveryChannel] = [
        _email(smtp_server),
        SmsGatewayChannel(gateway.url("/sms"), "gateway-token", LOOPBACK),
        WeComRobotChannel(gateway.url("/wecom"), LOOPBACK),
        DingTalkRobotChannel(gateway.url("/dingtalk"), "s", LOOPBACK),
    ]
    for number, label in enumerate(KIND_LABELS.values()):
        # A title that (wrongly) carries an ID: the driver must not let it out.
        message = OutgoingMessage(
            idempotency_key=f"lg-{number}",
            kind_label=label,
            title=f"{label} 涉及 {RESIDENT_ID} 的案件",
            reference=RESIDENT_ID,
            link="https://liuguan.example.cn/cases/1",
        )
        for driver in drivers:
            await driver.send(message, RECIPIENT)

    # What a person reads: each e-mail's decoded body, each HTTP body as sent.
    texts = [message.get_payload(decode=True).decode() for message in smtp_server.recorder.messages]  # type: ignore[union-attr]
    texts += [arrival.raw.decode() for arrival in gateway.arrivals]
    assert len(texts) == 4 * len(KIND_LABELS)
    assert all("110101********123X" in text for text in texts)  # the title and number arrived, masked
    assert [text for text in texts if ID_PATTERN.search(text)] == []
