"""Department notifications (部门通报): police, civil affairs and health tell family-planning staff that a
floating person arrived, married or gave birth. See docs/adr/0008-intake-notifications.md for where each row
lives under row-level security.

- `intake_notifications` is platform-side: a notification may be for a county that is not on this instance
  (the holding queue) and may come from an instance-wide client. Its policy lets three parties see a row: the
  submitting client (`app.api_client`), the county it was routed to (`app.tenant_id`) and the platform
  context (the router and platform admins).
- `intake_triages` is the county's own copy, one per routed notification, behind the triage case.
- `intake_webhook_subscriptions` / `intake_webhook_deliveries`: status callbacks to the department.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin


class NotificationStatus(StrEnum):
    received = "received"  # stored, waiting for the router
    held = "held"  # the county is not on this instance: holding queue, visible to platform admins
    routed = "routed"  # the county is on this instance (transient: the case opens in the same transaction)
    case_opened = "case_opened"  # a triage case waits for an officer
    verified = "verified"  # an officer checked it against the registry and accepted it
    rejected = "rejected"  # an officer rejected it, with a reason the department can read


class IntakeNotification(IdMixin, Base):
    __tablename__ = "intake_notifications"
    __table_args__ = (
        UniqueConstraint("client_id", "transaction_id"),
        Index("ix_intake_notifications_pending", "available_at", postgresql_where="status = 'received'"),
        Index("ix_intake_notifications_client_received", "client_id", "received_at"),
        Index("ix_intake_notifications_routed_tenant_id", "routed_tenant_id"),
    )

    client_id: Mapped[str] = mapped_column(String(64), nullable=False)  # the API client's public id
    department: Mapped[str] = mapped_column(String(20), nullable=False)
    notification_type: Mapped[str] = mapped_column(String(40), nullable=False)
    schema_version: Mapped[int] = mapped_column(Integer, nullable=False)
    transaction_id: Mapped[str] = mapped_column(String(64), nullable=False)  # the sender's own id
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The validated payload, encrypted (it holds ID numbers and names); the digest detects a transaction id
    # reused for different content.
    payload_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    payload_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    division_code: Mapped[str] = mapped_column(String(12), nullable=False)
    county_code: Mapped[str] = mapped_column(String(6), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    routed_tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=True
    )
    township_code: Mapped[str | None] = mapped_column(String(9), nullable=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    case_number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    routed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    route_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    route_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class IntakeTriage(IdMixin, TenantMixin, Base):
    """The county's copy of a routed notification, behind its triage case (one per notification)."""

    __tablename__ = "intake_triages"
    __table_args__ = (UniqueConstraint("notification_id"),)

    notification_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False)
    notification_type: Mapped[str] = mapped_column(String(40), nullable=False)
    department: Mapped[str] = mapped_column(String(20), nullable=False)
    payload_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # Persons matched by ID number ({"role": person id}); the roles without a match are new-person proposals.
    matches: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class WebhookSubscription(IdMixin, Base):
    """A department client's callback URL and its signing secret (encrypted; shown once at registration)."""

    __tablename__ = "intake_webhook_subscriptions"
    __table_args__ = (UniqueConstraint("client_id"),)

    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # After a rotation the previous secret still signs (beside the new one) until it expires.
    previous_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class DeliveryStatus(StrEnum):
    pending = "pending"
    in_flight = "in_flight"  # claimed by a dispatcher until `leased_until`; due again after it (a sender died)
    delivered = "delivered"
    dead = "dead"  # gave up after the last retry: the dead-letter list, resendable by an admin
    no_subscriber = "no_subscriber"


class WebhookDelivery(IdMixin, Base):
    """One status change to tell a client about; the row is its own outbox entry (keyed by event id)."""

    __tablename__ = "intake_webhook_deliveries"
    __table_args__ = (
        Index("ix_intake_webhook_deliveries_due", "next_attempt_at", postgresql_where="status = 'pending'"),
        Index("ix_intake_webhook_deliveries_leased", "leased_until", postgresql_where="status = 'in_flight'"),
        Index("ix_intake_webhook_deliveries_client_id", "client_id"),
    )

    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    notification_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    # The county whose officer caused the change (None: the platform router); lets it insert the row.
    origin_tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    event: Mapped[str] = mapped_column(String(20), nullable=False)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
