"""Signatures of a maker-checker chain (签字): who signed which step of a case, when, and what they attested.

Permanent: a signature is never changed nor removed (the application role may only insert and read). One per step
of a case, and one per person of a case: the same person cannot fill two steps of one chain (谁调查、谁负责;
谁审核、谁负责;谁签字、谁负责). The steps themselves are declared by the case type
(backend/case_types/types.py `SignoffStep`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TenantMixin


class CaseSignoff(IdMixin, TenantMixin, Base):
    __tablename__ = "case_signoffs"
    __table_args__ = (UniqueConstraint("case_id", "step"), UniqueConstraint("case_id", "signer_id"))

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    step: Mapped[str] = mapped_column(String(40), nullable=False)
    stage: Mapped[str] = mapped_column(String(20), nullable=False)
    role: Mapped[str] = mapped_column(String(60), nullable=False)  # 调查人 / Investigator ...
    signer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False)
    signer_label: Mapped[str] = mapped_column(String(100), nullable=False)
    # When the signer acted (the action's moment), not when the workflow applied it.
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    attestation: Mapped[str] = mapped_column(Text, nullable=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    request_id: Mapped[str] = mapped_column(String(64), nullable=False)
