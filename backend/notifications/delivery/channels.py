"""The delivery port and its drivers.

A `DeliveryChannel` sends one `OutgoingMessage` to one `Recipient` and returns the receiver's receipt (or raises
`ChannelError` with a reason in Chinese and English). Every message is rendered here, from the notification's
title, the item's number and a link, nothing else: no personal ID number can reach a channel (a test renders
every kind through every driver and scans for an 18-character ID pattern).

Each message carries its delivery's idempotency key: the e-mail's `Message-ID`, the SMS gateway's `request_id`
(and `Idempotency-Key` header), the robots' text footer. A send retried after a crash repeats the same key, so a
receiver that deduplicates on it (the SMS gateway contract, docs/operations.md) accepts it once.

Drivers:
- `EmailChannel`: SMTP (stdlib smtplib in a thread), optional STARTTLS and login.
- `SmsGatewayChannel`: a generic HTTP gateway, JSON POST with a bearer token; no provider SDK.
- `WeComRobotChannel` / `DingTalkRobotChannel`: the group robots' documented webhook bodies (markdown), with
  DingTalk's optional HMAC-SHA256 `sign` (timestamp + secret) added to the URL.
HTTP URLs go through the outbound URL policy (`backend/core/outbound.py`) at every send, pinned to the checked
address.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import quote_plus

import httpx

from backend.core.outbound import OutboundPolicy, UnsafeOutboundUrl, safe_outbound_url

TIMEOUT_SECONDS = 15.0
# An 18-character resident ID (17 digits and a digit or X) anywhere in a text: masked before it leaves.
RESIDENT_ID = re.compile(r"(?<![0-9])[0-9]{6}[0-9]{8}[0-9]{3}[0-9Xx](?![0-9A-Za-z])")
MESSAGE_ID_DOMAIN = "liuguan.delivery"


class ChannelKind(StrEnum):
    in_app = "in_app"  # the notification row itself: always
    email = "email"
    sms = "sms"
    wecom = "wecom"  # 企业微信群机器人
    dingtalk = "dingtalk"  # 钉钉群机器人


CHANNEL_LABELS: dict[ChannelKind, str] = {
    ChannelKind.in_app: "站内通知 / In-app",
    ChannelKind.email: "电子邮件 / E-mail",
    ChannelKind.sms: "短信 / SMS",
    ChannelKind.wecom: "企业微信群 / WeCom group",
    ChannelKind.dingtalk: "钉钉群 / DingTalk group",
}
SENT_CHANNELS = (ChannelKind.email, ChannelKind.sms, ChannelKind.wecom, ChannelKind.dingtalk)


class ChannelError(Exception):
    """A send that did not go through; `reason` is "中文 / English" and is shown to the county admin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def without_ids(text: str) -> str:
    """The text with any resident ID masked (the titles carry none; this is the last line of defence)."""
    return RESIDENT_ID.sub(lambda found: found.group(0)[:6] + "********" + found.group(0)[-4:], text)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    idempotency_key: str
    kind_label: str  # "收到协查 / Verification request received"
    title: str
    reference: str | None  # case number or correlation id
    link: str  # absolute
    lines: tuple[str, ...] = ()  # a digest: one line per notification

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", without_ids(self.title))
        object.__setattr__(self, "lines", tuple(without_ids(line) for line in self.lines))
        object.__setattr__(self, "reference", without_ids(self.reference) if self.reference else None)

    @property
    def subject(self) -> str:
        label = self.kind_label.split(" / ", 1)[0]
        return f"【流管】{label}" + (f" {self.reference}" if self.reference else "")

    def text(self) -> str:
        """The body every driver sends: the title, the number, the link. Nothing personal."""
        lines = [self.title, *(f"- {line}" for line in self.lines)]
        if self.reference:
            lines.append(f"编号 / No.: {self.reference}")
        lines.append(f"查看 / Open: {self.link}")
        return "\n".join(lines)

    def markdown(self) -> str:
        reference = f"\n> 编号 / No.: {self.reference}" if self.reference else ""
        items = "".join(f"\n> - {line}" for line in self.lines)
        return f"**{self.subject}**\n> {self.title}{items}{reference}\n\n[查看 / Open]({self.link})"


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str | None = None
    phone: str | None = None


class DeliveryChannel(Protocol):
    channel: ChannelKind

    async def send(self, message: OutgoingMessage, recipient: Recipient) -> str:
        """Send; the receiver's receipt (a Message-ID, a gateway id). `ChannelError` when it did not go."""
        ...


def message_id(idempotency_key: str) -> str:
    return f"<{idempotency_key}@{MESSAGE_ID_DOMAIN}>"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    sender: str
    username: str | None = None
    password: str | None = None


class EmailChannel:
    channel = ChannelKind.email

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def build(self, message: OutgoingMessage, to: str) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.settings.sender
        email["To"] = to
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = message_id(message.idempotency_key)
        email["X-Liuguan-Idempotency-Key"] = message.idempotency_key
        email.set_content(message.text())
        return email

    def _send_blocking(self, email: EmailMessage) -> None:
        settings = self.settings
        try:
            with smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS) as smtp:
                if settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.username:
                    smtp.login(settings.username, settings.password or "")
                smtp.send_message(email)
        except smtplib.SMTPAuthenticationError as error:
            raise ChannelError(f"邮件服务器拒绝了用户名或密码（{error.smtp_code}） / SMTP login refused") from None
        except smtplib.SMTPException as error:
            raise ChannelError(f"邮件服务器拒绝发送：{error} / the SMTP server refused: {error}") from None
        except OSError as error:
            raise ChannelError(
                f"无法连接邮件服务器 {settings.host}:{settings.port}（{error.strerror or error}） / "
                f"cannot reach the SMTP server {settings.host}:{settings.port}"
            ) from None

    async def send(self, message: OutgoingMessage, recipient: Recipient) -> str:
        if not recipient.email:
            raise ChannelError("收件人未填写电子邮件地址 / the recipient has no e-mail address")
        email = self.build(message, recipient.email)
        await asyncio.to_thread(self._send_blocking, email)
        return str(email["Message-ID"])


async def _post_json(
    url: str, body: dict[str, Any], policy: OutboundPolicy, headers: dict[str, str] | None = None, *, what: str
) -> httpx.Response:
    try:
        target = await safe_outbound_url(url, policy)
    except UnsafeOutboundUrl as refused:
        raise ChannelError(f"{what}地址被出站策略拒绝：{refused.reason}") from None
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            return await client.post(
                target.url,
                content=content,
                headers={**target.headers, "Content-Type": "application/json; charset=utf-8", **(headers or {})},
                extensions=target.extensions,
            )
    except httpx.HTTPError as error:
        raise ChannelError(f"无法连接{what}（{type(error).__name__}） / cannot reach the {what} endpoint") from None


class SmsGatewayChannel:
    """POST {"request_id", "phone", "text"} with `Authorization: Bearer <token>`; 2xx is accepted. The gateway
    contract (docs/operations.md): a repeated `request_id` is acknowledged and not sent again."""

    channel = ChannelKind.sms

    def __init__(self, url: str, token: str, policy: OutboundPolicy) -> None:
        self.url, self.token, self.policy = url, token, policy

    async def send(self, message: OutgoingMessage, recipient: Recipient) -> str:
        if not recipient.phone:
            raise ChannelError("收件人未填写手机号码 / the recipient has no mobile number")
        body = {"request_id": message.idempotency_key, "phone": recipient.phone, "text": message.text()}
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": message.idempotency_key}
        response = await _post_json(self.url, body, self.policy, headers, what="短信网关")
        if response.status_code in (401, 403):
            raise ChannelError(
                f"短信网关拒绝了令牌（HTTP {response.status_code}），请检查网关令牌 / "
                f"the SMS gateway refused the token (HTTP {response.status_code})"
            )
        if not response.is_success:
            raise ChannelError(f"短信网关返回错误 HTTP {response.status_code} / SMS gateway HTTP error")
        return message.idempotency_key


def _robot_result(response: httpx.Response, what: str) -> None:
    if not response.is_success:
        raise ChannelError(f"{what}返回错误 HTTP {response.status_code} / robot HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        raise ChannelError(f"{what}的应答无法读取 / unreadable robot answer") from None
    if answer.get("errcode", 0) != 0:
        code, text = answer.get("errcode"), answer.get("errmsg", "")
        raise ChannelError(f"{what}拒绝了消息（{code} {text}） / the robot refused ({code} {text})")


class WeComRobotChannel:
    """企业微信群机器人: POST {"msgtype": "markdown", "markdown": {"content": ...}} to the robot's URL."""

    channel = ChannelKind.wecom

    def __init__(self, url: str, policy: OutboundPolicy) -> None:
        self.url, self.policy = url, policy

    async def send(self, message: OutgoingMessage, recipient: Recipient) -> str:
        body = {"msgtype": "markdown", "markdown": {"content": message.markdown()}}
        _robot_result(await _post_json(self.url, body, self.policy, what="企业微信机器人"), "企业微信机器人")
        return message.idempotency_key


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


class DingTalkRobotChannel:
    """钉钉群机器人: POST {"msgtype": "markdown", "markdown": {"title", "text"}}; with a secret, `timestamp` and
    `sign` are appended to the URL."""

    channel = ChannelKind.dingtalk

    def __init__(self, url: str, secret: str | None, policy: OutboundPolicy) -> None:
        self.url, self.secret, self.policy = url, secret, policy

    def signed_url(self, timestamp_ms: int | None = None) -> str:
        if not self.secret:
            return self.url
        timestamp_ms = timestamp_ms or int(time.time() * 1000)
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(self.secret, timestamp_ms)}"

    async def send(self, message: OutgoingMessage, recipient: Recipient) -> str:
        body = {"msgtype": "markdown", "markdown": {"title": message.subject, "text": message.markdown()}}
        _robot_result(await _post_json(self.signed_url(), body, self.policy, what="钉钉机器人"), "钉钉机器人")
        return message.idempotency_key
