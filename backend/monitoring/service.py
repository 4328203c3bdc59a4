"""The instance-wide figures: read from the database when Prometheus scrapes the worker, then published as
the gauges of backend/core/metrics.py (each refresh replaces every series, so a kind whose backlog drained
or a county that was removed disappears instead of keeping its last value)."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.core.clock import utc_now
from backend.core.metrics import (
    CALLBACK_DELIVERIES,
    CASES_OPEN,
    CASES_OVERDUE,
    INSTANCE_GAUGES,
    INTAKE_NOTIFICATIONS,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PENDING,
)
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context, set_tenant
from backend.monitoring.repository import MonitoringRepository


@dataclass
class InstanceFigures:
    """What the gauges show: outbox kind -> (pending, oldest age in seconds); statuses -> counts; county
    code -> (open, overdue)."""

    outbox: dict[str, tuple[int, float]] = field(default_factory=dict)
    notifications: dict[str, int] = field(default_factory=dict)
    callbacks: dict[str, int] = field(default_factory=dict)
    cases: dict[str, tuple[int, int]] = field(default_factory=dict)


async def instance_figures(database: Database) -> InstanceFigures:
    """Read every figure: the platform-wide ones in platform context, the county ones county by county."""
    figures = InstanceFigures()
    now = utc_now()
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        repository = MonitoringRepository(session)
        figures.notifications = await repository.notifications_by_status()
        figures.callbacks = await repository.callbacks_by_status()
        counties = [(county.id, county.code) for county in await repository.counties()]
    for county_id, code in counties:
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county_id)
            repository = MonitoringRepository(session)
            figures.cases[code] = await repository.open_and_overdue_cases(now)
            for kind, (count, oldest) in (await repository.outbox_backlog()).items():
                pending, age = figures.outbox.get(kind, (0, 0.0))
                figures.outbox[kind] = (pending + count, max(age, (now - oldest).total_seconds()))
    return figures


def publish(figures: InstanceFigures) -> None:
    """Replace every instance gauge's series with these figures."""
    for gauge in INSTANCE_GAUGES:
        gauge.clear()
    for kind, (pending, age) in figures.outbox.items():
        OUTBOX_PENDING.labels(kind).set(pending)
        OUTBOX_OLDEST_AGE.labels(kind).set(age)
    for status, count in figures.notifications.items():
        INTAKE_NOTIFICATIONS.labels(status).set(count)
    for status, count in figures.callbacks.items():
        CALLBACK_DELIVERIES.labels(status).set(count)
    for code, (open_cases, overdue) in figures.cases.items():
        CASES_OPEN.labels(code).set(open_cases)
        CASES_OVERDUE.labels(code).set(overdue)


async def refresh_instance_metrics(database: Database) -> None:
    """Read the figures and publish them (the worker's /metrics calls this before answering)."""
    publish(await instance_figures(database))
