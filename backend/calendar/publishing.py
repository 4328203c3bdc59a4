"""Publishing a State Council holiday notice (国务院办公厅放假通知) to every county: the import, then the recount of
the open deadlines that run through the changed dates in each county. Shared by the platform API
(POST /api/v1/platform/calendar/notices) and the platform page (/platform/calendar), so both do the same."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from backend.calendar import service
from backend.calendar.notice_import import NoticeFormat
from backend.cases.service import recompute_due_dates
from backend.core.clock import CHINA
from backend.db.tenancy import set_tenant
from backend.tenants.service import list_tenants
from backend.verification.deadlines import recompute_answer_dues


async def publish_official_notice(
    session: AsyncSession, text: str, fmt: NoticeFormat, *, replace: bool = False
) -> service.ImportResult:
    """Import the notice (all or nothing, audited in every county's chain; see
    `service.import_official_notice`), then recount every county's open deadlines from the earliest changed
    date (cases, and the verification answers each county owes): they stop being provisional, and their
    workflows re-plan their timers. The caller is the platform
    operator, in the platform context."""
    result = await service.import_official_notice(session, text, fmt, replace=replace)
    affected_from = dt.datetime.combine(result.affected_from, dt.time(), CHINA)
    for tenant in await list_tenants(session):
        await set_tenant(session, tenant.id)
        await recompute_due_dates(session, affected_from)
        await recompute_answer_dues(session, affected_from)
    return result
