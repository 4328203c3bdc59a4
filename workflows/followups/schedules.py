"""The Temporal schedule that runs the follow-up sweep every night (one schedule per instance)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from workflows.followups.types import FollowUpSweepInput
from workflows.followups.workflows import FollowUpSweepWorkflow

FOLLOWUP_SCHEDULE_ID = "followup-sweep-daily"
FOLLOWUP_WORKFLOW_ID = "followup-sweep"
SWEEP_HOUR, SWEEP_MINUTE = 1, 30  # 01:30 Beijing time: after midnight (the new day) and before office hours
SWEEP_TIMEOUT = timedelta(hours=20)


def followup_schedule(task_queue: str) -> Schedule:
    """The nightly sweep. A run still going the next night makes that night's start skip; after an outage
    the missed start is made up once if within a day."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            FollowUpSweepWorkflow.run,
            FollowUpSweepInput(),
            id=FOLLOWUP_WORKFLOW_ID,
            task_queue=task_queue,
            # With overlaps skipped, a hung run would stop every later night: it is ended well before then.
            execution_timeout=SWEEP_TIMEOUT,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(SWEEP_HOUR)], minute=[ScheduleRange(SWEEP_MINUTE)], second=[ScheduleRange(0)]
                )
            ],
            time_zone_name="Asia/Shanghai",
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def ensure_followup_schedules(client: Client, task_queue: str) -> None:
    """Create the nightly follow-up schedule, or bring an existing one to this definition; safe to repeat."""
    schedule = followup_schedule(task_queue)
    try:
        await client.create_schedule(FOLLOWUP_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(FOLLOWUP_SCHEDULE_ID).update(replace)
