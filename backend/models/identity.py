"""People and systems that act on the platform: users, their role grants, browser sessions, department API
clients and break-glass grants. Every table is tenant-owned and under row-level security."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, Boolean, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin, TimestampMixin, VersionedMixin


class User(IdMixin, TimestampMixin, VersionedMixin, TenantMixin, Base):
    """A person who signs in: belongs to one county (tenant) and one org unit (their workplace)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "username"),)

    username: Mapped[str] = mapped_column(String(64), nullable=False)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Set when an administrator resets the password: the next sign-in leads to the password page first.
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="false")


class RoleGrant(IdMixin, TenantMixin, Base):
    """A role held over an org unit's subtree. `subject` is `user:<id>` or `client:<id>`."""

    __tablename__ = "role_grants"
    __table_args__ = (
        Index("ix_role_grants_subject", "tenant_id", "subject"),
        Index(
            "uq_role_grants_active",
            "tenant_id",
            "subject",
            "role",
            "org_unit_code",
            unique=True,
            postgresql_where="revoked_at IS NULL",
        ),
    )

    subject: Mapped[str] = mapped_column(String(80), nullable=False)
    role: Mapped[str] = mapped_column(String(40), nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    granted_by: Mapped[str] = mapped_column(String(80), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RoleGrantRequest(IdMixin, TenantMixin, Base):
    """A role grant waiting for a second administrator (职责分离 separation of duties): a role that reads personal
    data for a user who administers the county, or administration for a user who reads personal data. Another
    county administrator or the platform operator approves it (then `grant_id` is the grant made) or refuses it;
    either way the row stays as the record of who asked and who decided."""

    __tablename__ = "role_grant_requests"
    __table_args__ = (
        Index(
            "uq_role_grant_requests_pending",
            "tenant_id",
            "subject",
            "role",
            "org_unit_code",
            unique=True,
            postgresql_where="decided_at IS NULL",
        ),
    )

    subject: Mapped[str] = mapped_column(String(80), nullable=False)
    role: Mapped[str] = mapped_column(String(40), nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(80), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)  # approved | refused
    decided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    grant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("role_grants.id"), nullable=True)


class UserSession(IdMixin, TenantMixin, Base):
    """A browser session. Only the SHA-256 of the cookie's secret is stored."""

    __tablename__ = "user_sessions"
    __table_args__ = (UniqueConstraint("token_hash"),)

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    client_addr: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ApiClient(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A department system using OAuth2 client credentials.

    `tenant_id` is the county that registered it, or NULL for an instance-wide client (e.g. a provincial
    police system reporting for every county), which only the platform operator manages. The secret is
    stored as an argon2 hash and shown once; `secret_version` invalidates tokens issued before a rotation.
    """

    __tablename__ = "api_clients"
    __table_args__ = (UniqueConstraint("client_id"),)

    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    department: Mapped[str] = mapped_column(String(20), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    secret_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)


class BreakGlassGrant(IdMixin, TenantMixin, Base):
    """Time-boxed read access outside one's scope, with a written reason (紧急授权)."""

    __tablename__ = "break_glass_grants"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    org_unit_code: Mapped[str] = mapped_column(String(12), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
