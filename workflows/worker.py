"""The Temporal worker process: `python -m workflows.worker`. SIGINT/SIGTERM finish running tasks, then exit."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleRange,
    ScheduleSpec,
)
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from backend.config import Settings, get_settings
from backend.core.logging import configure_logging
from backend.core.outbound import OutboundPolicy
from backend.core.temporal import connect
from backend.db.engine import Database
from backend.notifications.retention import NotificationRetention
from backend.reports.overview import KpiRefresher
from workflows.cases.activities import CaseActivities
from workflows.cases.workflows import CaseWorkflow
from workflows.checks import CHECK_WORKFLOWS, check_activities
from workflows.followups import FOLLOWUP_WORKFLOWS, ensure_followup_schedules, followup_activities
from workflows.intake import run_intake
from workflows.notifications.activities import DeliveryActivities
from workflows.notifications.workflows import NotificationDeliveryWorkflow
from workflows.observability import WorkerHealth, sdk_runtime, serve_worker_http
from workflows.platform.activities import PlatformActivities
from workflows.platform.workflows import AuditChainCheckWorkflow
from workflows.relay import run_relay
from workflows.task_queues import CASES_TASK_QUEUE, PLATFORM_TASK_QUEUE
from workflows.verification.activities import VerificationActivities
from workflows.verification.workflows import VerificationRequestWorkflow

log = logging.getLogger("liuguan.worker")

# Our workflow modules are imported once, outside the sandbox, instead of again for every workflow run: the
# re-import was about half of the worker's CPU per case started (a CaseWorkflow run re-executed the four workflow
# modules each time; docs/adr/0014-cases-per-second.md). The price: the sandbox no longer intercepts a wall-clock
# or I/O call made from these modules' code at run time, so the strict sandbox checks them elsewhere — every
# committed history replays under the default restrictions (tests/workflows/*/test_replay.py), and a deliberate
# `datetime.now()` in workflow code fails there.
OUR_WORKFLOW_MODULES = "workflows"
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(OUR_WORKFLOW_MODULES)
)

WORKFLOWS = [AuditChainCheckWorkflow, *FOLLOWUP_WORKFLOWS]
CASE_WORKFLOWS = [CaseWorkflow, VerificationRequestWorkflow, *CHECK_WORKFLOWS, NotificationDeliveryWorkflow]
AUDIT_CHAIN_SCHEDULE_ID = "audit-chain-check-daily"


def build_worker(client: Client, database: Database, *, task_queue: str = PLATFORM_TASK_QUEUE) -> Worker:
    platform = PlatformActivities(database)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[platform.list_tenant_codes, platform.verify_tenant_chain, *followup_activities(database)],
        graceful_shutdown_timeout=timedelta(seconds=30),
        workflow_runner=WORKFLOW_RUNNER,
    )


def build_case_worker(
    client: Client,
    database: Database,
    *,
    task_queue: str = CASES_TASK_QUEUE,
    activities: CaseActivities | None = None,
    delivery_policy: OutboundPolicy | None = None,
    **options: Any,
) -> Worker:
    """The worker of the case workflows and their activities. `options` go to the Worker (tests pass
    `max_cached_workflows=0` to replay every task from the start)."""
    case_activities = activities or CaseActivities(database)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=CASE_WORKFLOWS,
        activities=[
            *case_activities.all,
            *VerificationActivities(database).all,
            *check_activities(database),
            *DeliveryActivities(database, delivery_policy).all,
        ],
        graceful_shutdown_timeout=timedelta(seconds=30),
        **({"workflow_runner": WORKFLOW_RUNNER} | options),
    )


async def ensure_schedules(client: Client, *, task_queue: str = PLATFORM_TASK_QUEUE) -> None:
    """The daily audit-chain check at 02:00 Beijing time; creating it twice is harmless."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(AuditChainCheckWorkflow.run, id="audit-chain-check", task_queue=task_queue),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(hour=[ScheduleRange(2)], minute=[ScheduleRange(0)], second=[ScheduleRange(0)])
            ],
            time_zone_name="Asia/Shanghai",
        ),
    )
    try:
        await client.create_schedule(AUDIT_CHAIN_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        pass


async def run_worker(settings: Settings) -> None:
    client = await connect(settings, sdk_runtime(settings.worker_sdk_metrics_port))
    database = Database.from_settings(settings)
    await ensure_schedules(client, task_queue=settings.temporal_task_queue)
    await ensure_followup_schedules(client, settings.temporal_task_queue)
    worker = build_worker(client, database, task_queue=settings.temporal_task_queue)
    case_worker = build_case_worker(client, database, delivery_policy=OutboundPolicy.from_settings(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with worker, case_worker:
        log.info("worker started", extra={"task_queues": [settings.temporal_task_queue, CASES_TASK_QUEUE]})
        # The outbox relay runs beside the workers, on the case worker's client: side effects recorded by the API
        # reach Temporal from here, and a case's first workflow task comes straight back (eager start).
        relay = asyncio.create_task(run_relay(settings, database, stop, client))
        intake = asyncio.create_task(run_intake(database, stop, OutboundPolicy.from_settings(settings)))
        # The platform operator's county KPI counts, kept at most a few hours old.
        kpi_refresher = asyncio.create_task(KpiRefresher(database).run(stop))
        # Notifications are kept 180 days.
        retention = asyncio.create_task(NotificationRetention(database).run(stop))
        health = WorkerHealth()
        health.watch("platform worker", lambda: worker.is_running)
        health.watch("case worker", lambda: case_worker.is_running)
        health.watch_task("outbox relay", relay)
        health.watch_task("intake", intake)
        http = await serve_worker_http(database, health, settings.worker_metrics_port)
        await stop.wait()
        log.info("worker stopping: finishing running tasks")
        if http is not None:
            http.close()
        await relay
        await intake
        await kpi_refresher
        await retention
    await database.dispose()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
