"""What the delivery routes read and write: a person's preferences, the county's channel settings (secrets are
write-only), a delivery row as the county admin sees it."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated

from pydantic import Field, model_validator

from backend.core.input import Code, Text
from backend.core.outbound import OutboundUrl
from backend.core.schemas import InputSchema, OutputSchema
from backend.notifications.delivery.channels import ChannelKind
from backend.notifications.schemas import NotificationKind

Email = Annotated[str, Code(r"^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,185}\.[A-Za-z]{2,24}$", 254)]
Mobile = Annotated[str, Code(r"^1[3-9][0-9]{9}$", 11)]
Host = Annotated[str, Code(r"^[A-Za-z0-9.\-:\[\]]{1,253}$", 253)]
Secret = Annotated[str, Text(500, 1, verbatim=True)]


class PreferencesUpdate(InputSchema):
    """Per kind the channels besides in-app (always on); the addresses they need; quiet hours (both or none)."""

    channels: dict[NotificationKind, Annotated[list[ChannelKind], Field(max_length=len(ChannelKind))]] = Field(
        default_factory=dict
    )
    email: Email | None = None
    phone: Mobile | None = Field(default=None, description="mobile number, 11 digits; null keeps the saved one")
    quiet_start: time | None = Field(default=None, description="China time, e.g. 22:00")
    quiet_end: time | None = Field(default=None, description="China time, e.g. 07:00")
    digest: bool = Field(default=False, description="supervisors: one daily digest at 08:30 on working days")

    @model_validator(mode="after")
    def _consistent(self) -> PreferencesUpdate:
        chosen = {channel for channels in self.channels.values() for channel in channels}
        if ChannelKind.email in chosen and not self.email:
            raise ValueError("选择了电子邮件通知，请填写电子邮件地址 / e-mail chosen: give an e-mail address")
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("免打扰时段须同时填写开始和结束 / quiet hours need both a start and an end")
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValueError("免打扰时段的开始和结束不能相同 / quiet hours cannot start and end at the same time")
        return self


class PreferencesRead(OutputSchema):
    channels: dict[str, list[str]]
    email: str | None
    phone: str | None = Field(description="masked: 138****5678")
    quiet_start: time | None
    quiet_end: time | None
    digest: bool = False


class DeliverySettingsUpdate(InputSchema):
    """The county's channels. A secret left out (null) keeps the stored one; "" clears it."""

    smtp_host: Host | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: Annotated[str, Text(200)] | None = None
    smtp_password: Annotated[str, Text(500, verbatim=True)] | None = None
    smtp_sender: Email | None = None
    sms_url: OutboundUrl | None = None
    sms_token: Annotated[str, Text(500, verbatim=True)] | None = None
    wecom_url: OutboundUrl | None = None
    dingtalk_url: OutboundUrl | None = None
    dingtalk_secret: Annotated[str, Text(500, verbatim=True)] | None = None

    @model_validator(mode="after")
    def _sender(self) -> DeliverySettingsUpdate:
        if self.smtp_host and not self.smtp_sender:
            raise ValueError("请填写发件人地址 / give the sender address")
        return self


class DeliverySettingsRead(OutputSchema):
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_sender: str | None = None
    sms_url: str | None = None
    smtp_password_set: bool = False
    sms_token_set: bool = False
    wecom_url_set: bool = False
    dingtalk_url_set: bool = False
    dingtalk_secret_set: bool = False


class TestSend(InputSchema):
    channel: ChannelKind
    email: Email | None = None
    phone: Mobile | None = None


class TestSendResult(OutputSchema):
    ok: bool
    detail: str


class ChannelDeliveryRead(OutputSchema):
    id: uuid.UUID
    notification_id: uuid.UUID
    user_id: uuid.UUID
    channel: str
    idempotency_key: str
    status: str
    attempts: int
    last_error: str | None
    due_at: datetime
    created_at: datetime
    sent_at: datetime | None
