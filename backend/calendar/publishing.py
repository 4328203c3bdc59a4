"""Publishing a State Council holiday notice (国务院办公厅放假通知) to every county: the import, then the recount of
the open deadlines that run through the changed dates in each county. Shared by the platform API
(POST /api/v1/platform/calendar/notices) and the platform page (/platform/calendar), so both do the same."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend.calendar import service
from backend.calendar.notice_import import NoticeFormat
from backend.db.tenancy import set_tenant
from backend.tenants.service import list_tenants

OFFICIAL_IMPORT_REASON = "official calendar imported"


async def publish_official_notice(
    session: AsyncSession, text: str, fmt: NoticeFormat, *, replace: bool = False
) -> service.ImportResult:
    """Import the notice (all or nothing, audited in every county's chain; see
    `service.import_official_notice`), then tell every county that its working days changed from the earliest
    changed date (`service.working_days_changed`): its open deadlines (cases, and the verification answers it
    owes) are recounted, stop being provisional, and their workflows re-plan their timers. The caller is the
    platform operator, in the platform context."""
    result = await service.import_official_notice(session, text, fmt, replace=replace)
    for tenant in await list_tenants(session):
        await set_tenant(session, tenant.id)
        await service.working_days_changed(session, result.affected_from, OFFICIAL_IMPORT_REASON)
    return result
