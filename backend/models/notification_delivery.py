"""Delivering notifications beyond the bell (issue #19): a person's channel preferences, a county's channel
settings, and one delivery row per (notification, channel).

- `NotificationPreference`: per user, which channels each notification kind goes to (in-app is always on), the
  person's e-mail address and mobile number (the number as ciphertext only), quiet hours.
- `DeliverySettings`: per county, the SMTP server and the SMS gateway and robot webhooks; passwords, tokens and
  the robots' URLs (their key is in the URL) as one AES-GCM ciphertext (`backend/core/crypto.py`).
- `NotificationDelivery`: written in the notification's transaction when the person's preferences ask for the
  channel; its idempotency key (unique) becomes the e-mail's Message-ID and the gateway's request id, so a send
  retried after a crash carries the same identity.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Time, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin


class NotificationPreference(IdMixin, TenantMixin, Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", name="uq_notification_preferences_tenant_id_user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    channels: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)  # kind -> [channel]
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    quiet_start: Mapped[time | None] = mapped_column(Time, nullable=True)
    quiet_end: Mapped[time | None] = mapped_column(Time, nullable=True)
    digest: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # supervisors: daily at 08:30
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class DeliverySettings(IdMixin, TenantMixin, Base):
    __tablename__ = "delivery_settings"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_delivery_settings_tenant_id"),)

    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)  # nothing secret
    secrets_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class NotificationDelivery(IdMixin, TenantMixin, Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_notification_deliveries_idempotency_key"),
        UniqueConstraint(
            "tenant_id", "notification_id", "channel", name="uq_notification_deliveries_tenant_id_notification_channel"
        ),
        Index("ix_notification_deliveries_status", "tenant_id", "status", "created_at"),
    )

    notification_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(80), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # pending | sending | sent | failed
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)  # after quiet hours
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    digest: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # one of a daily digest
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # the admin's retries: 1, 2, ...
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
