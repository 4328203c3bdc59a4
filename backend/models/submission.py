"""One-time form tokens (表单令牌): a page form that issues something (a document, a certificate, a case) carries a
random token; the first submit stores it with where it led, so a second submit of the same form (a double click,
the browser's resubmit) leads there again instead of issuing twice (backend/submissions/)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin


class FormSubmission(IdMixin, TenantMixin, Base):
    __tablename__ = "form_submissions"
    __table_args__ = (UniqueConstraint("tenant_id", "token", name="uq_form_submissions_tenant_id_token"),)

    token: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    subject: Mapped[str] = mapped_column(String(80), nullable=False)  # who submitted (`user:<id>`)
    purpose: Mapped[str] = mapped_column(String(120), nullable=False)  # which form, e.g. "issue:<case id>"
    done_url: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
