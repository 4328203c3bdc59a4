"""Notifications (通知): one row per person who should act, in that person's county.

A row is written by a recipient rule (backend/notifications/rules.py) when an event asks someone to act: a case
assigned, a verification request arrived, its answer came back, a deadline reminder or escalation, a department
notification awaiting triage. It carries only the item's number and a link, never a personal ID number. The
unique key (user, dedup key) makes each event notify each person once, even when the event is replayed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin


class Notification(IdMixin, TenantMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "dedup_key", name="uq_notifications_tenant_id_user_id_dedup_key"),
        Index("ix_notifications_user_unread", "tenant_id", "user_id", "read_at", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    dedup_key: Mapped[str] = mapped_column(String(160), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    link: Mapped[str] = mapped_column(String(300), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(40), nullable=True)  # case number or correlation id
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
