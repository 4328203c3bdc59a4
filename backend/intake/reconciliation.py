"""The monthly reconciliation of department notifications (对账): per department (client) and month, how many
were received, routed, accepted, rejected, are pending or held. A client reads its own; the platform operator
reads every department's."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.clock import CHINA
from backend.intake.repository import NotificationRepository
from backend.intake.schemas import ReconciliationRow
from backend.models import NotificationStatus


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a month in China time, as UTC instants; `month` is YYYY-MM."""
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=CHINA)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=CHINA)
    return start.astimezone(UTC), end.astimezone(UTC)


async def reconciliation(session: AsyncSession, month: str, client_id: str | None) -> list[ReconciliationRow]:
    """Per department (client) and month: received, routed, accepted, rejected, pending, held."""
    start, end = month_bounds(month)
    table: dict[tuple[str, str], dict[str, int]] = {}
    for department, client, status, count in await NotificationRepository(session).monthly_counts(
        start, end, client_id
    ):
        counts = table.setdefault((department, client), {})
        counts[status] = counts.get(status, 0) + count
    rows = []
    for (department, client), counts in sorted(table.items()):
        accepted = counts.get(NotificationStatus.verified, 0)
        rejected = counts.get(NotificationStatus.rejected, 0)
        opened = counts.get(NotificationStatus.case_opened, 0) + counts.get(NotificationStatus.routed, 0)
        held = counts.get(NotificationStatus.held, 0)
        waiting = counts.get(NotificationStatus.received, 0)
        rows.append(
            ReconciliationRow(
                department=department,
                client_id=client,
                month=month,
                received=sum(counts.values()),
                routed=opened + accepted + rejected,
                accepted=accepted,
                rejected=rejected,
                pending=opened + waiting,
                held=held,
            )
        )
    return rows
