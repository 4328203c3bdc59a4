"""Every query on form submissions of the transaction's county."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert

from backend.core.clock import utc_now
from backend.db.repository import TenantScopedRepository
from backend.models import FormSubmission


class SubmissionRepository(TenantScopedRepository[FormSubmission]):
    model = FormSubmission
    unit_column = None
    entity_type = "form_submission"

    async def claim(self, token: uuid.UUID, subject: str, purpose: str) -> bool:
        """Record the token as used; False when it was used already. A concurrent first use of the same token waits
        for that transaction: its commit makes this one False, its rollback lets this one claim the token."""
        statement = (
            insert(FormSubmission)
            .values(
                id=uuid.uuid4(),
                tenant_id=self.tenant_id,
                token=token,
                subject=subject,
                purpose=purpose,
                created_at=utc_now(),
            )
            .on_conflict_do_nothing(constraint="uq_form_submissions_tenant_id_token")
            .returning(FormSubmission.id)
        )
        return (await self.session.execute(statement)).scalar() is not None

    async def by_token(self, token: uuid.UUID) -> FormSubmission | None:
        """The county's submission of this token, or None."""
        return await self.one_or_none(self.base().where(FormSubmission.token == token))
