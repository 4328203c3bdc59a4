"""The monitoring queries: aggregates only (counts, the oldest timestamp), never a row's content. County rows
are read one county at a time under its row-level policy, filtered on the county here as well."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from backend.db.repository import Repository
from backend.db.tenancy import current_tenant_id
from backend.models import Case, CaseStage, IntakeNotification, OutboxMessage, Tenant, WebhookDelivery


class MonitoringRepository(Repository):
    async def counties(self) -> list[Tenant]:
        """Every county on the instance."""
        return await self.all(select(Tenant).order_by(Tenant.code))

    async def outbox_backlog(self) -> dict[str, tuple[int, datetime]]:
        """The current county's unprocessed outbox messages: kind -> (count, oldest created_at)."""
        rows = await self.session.execute(
            select(OutboxMessage.kind, func.count(), func.min(OutboxMessage.created_at))
            .where(OutboxMessage.tenant_id == current_tenant_id(self.session), OutboxMessage.processed_at.is_(None))
            .group_by(OutboxMessage.kind)
        )
        return {kind: (int(count), oldest) for kind, count, oldest in rows.all()}

    async def open_and_overdue_cases(self, now: datetime) -> tuple[int, int]:
        """The current county's open cases and how many of them are past their deadline."""
        overdue = Case.overdue.is_(True) | (Case.due_at < now)
        row = (
            await self.session.execute(
                select(func.count(), func.count().filter(overdue)).where(
                    Case.tenant_id == current_tenant_id(self.session), Case.stage != CaseStage.closed
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    async def notifications_by_status(self) -> dict[str, int]:
        """Department notifications by status (platform context: they belong to no county yet)."""
        rows = await self.session.execute(
            select(IntakeNotification.status, func.count()).group_by(IntakeNotification.status)
        )
        return {status: int(count) for status, count in rows.all()}

    async def callbacks_by_status(self) -> dict[str, int]:
        """Status callbacks to departments by delivery status (platform context)."""
        rows = await self.session.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status))
        return {status: int(count) for status, count in rows.all()}
