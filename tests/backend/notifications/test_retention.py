"""Notifications are kept 180 days: the retention sweep deletes the older rows of a county, in that county only,
audited as one batch event; the worker's pass covers every county."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent, Notification
from backend.notifications.retention import RETENTION_ACTION, NotificationRetention, delete_expired
from tests.backend.verification.conftest import TwoCounties
from tests.fixtures.identity import County


async def _written(database: Database, county: County, now: datetime, *ages: int) -> None:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        for age in ages:
            session.add(
                Notification(
                    id=uuid.uuid4(),
                    tenant_id=county.tenant.id,
                    user_id=county.users["t1.officer"].id,
                    kind="case.assigned",
                    dedup_key=f"test:{age}:{uuid.uuid4()}",
                    title=f"{age} days old",
                    link="/cases",
                    org_unit_code=county.units["t1"],
                    created_at=now - timedelta(days=age),
                )
            )


async def _left(database: Database, county: County) -> tuple[list[str], list[AuditEvent]]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        titles = (await session.scalars(select(Notification.title).order_by(Notification.created_at.desc()))).all()
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == RETENTION_ACTION))).all()
        return list(titles), list(events)


async def test_rows_older_than_180_days_are_deleted_as_one_audited_batch(
    counties: TwoCounties, database: Database
) -> None:
    a, b = counties.a, counties.b
    now = datetime.now(UTC)
    await _written(database, a, now, 1, 179, 181, 400)
    await _written(database, b, now, 181)
    actor_var.set(SYSTEM_ACTOR)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, a.tenant.id)
        assert await delete_expired(session, now) == 2
    titles, events = await _left(database, a)
    assert titles == ["1 days old", "179 days old"]
    assert len(events) == 1
    assert events[0].changes["deleted"] == 2 and events[0].changes["retention_days"] == 180
    assert (await _left(database, b))[0] == ["181 days old"]  # another county's rows are its own sweep's

    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, a.tenant.id)
        assert await delete_expired(session, now) == 0  # nothing expired: nothing written
    assert len((await _left(database, a))[1]) == 1


async def test_the_workers_pass_sweeps_every_county(counties: TwoCounties, database: Database) -> None:
    a, b = counties.a, counties.b
    now = datetime.now(UTC)
    await _written(database, a, now, 179, 181)
    await _written(database, b, now, 181, 200)
    assert await NotificationRetention(database).poll() == 0
    assert (await _left(database, a))[0] == ["179 days old"]
    left, events = await _left(database, b)
    assert left == [] and events[0].changes["deleted"] == 2
