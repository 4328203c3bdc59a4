"""The nightly follow-up schedule, on the Temporal dev server (the time-skipping test server has no schedules)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta, timezone

import pytest
from temporalio.client import (
    Client,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    ScheduleRange,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from workflows.followups import FOLLOWUP_SCHEDULE_ID, ensure_followup_schedules
from workflows.followups.schedules import followup_schedule
from workflows.followups.types import FollowUpSweepInput

CHINA = timezone(timedelta(hours=8))
TASK_QUEUE = "liuguan-platform"


@pytest.fixture
async def schedule(temporal_address: str) -> AsyncIterator[tuple[Client, ScheduleHandle]]:
    client = await Client.connect(temporal_address, data_converter=pydantic_data_converter)
    handle = client.get_schedule_handle(FOLLOWUP_SCHEDULE_ID)
    await _delete(handle)  # start and end without it, whoever else used the dev server
    yield client, handle
    await _delete(handle)


async def _delete(handle: ScheduleHandle) -> None:
    try:
        await handle.delete()
    except RPCError:
        pass  # not there


async def test_ensure_creates_the_nightly_sweep_at_0130_china_time(schedule: tuple[Client, ScheduleHandle]) -> None:
    client, handle = schedule
    await ensure_followup_schedules(client, TASK_QUEUE)
    await ensure_followup_schedules(client, TASK_QUEUE)  # every worker start calls it: harmless

    description = await handle.describe()
    (calendar,) = description.schedule.spec.calendars
    assert (list(calendar.hour), list(calendar.minute), list(calendar.second)) == (
        [ScheduleRange(1)],
        [ScheduleRange(30)],
        [ScheduleRange(0)],
    )
    assert description.schedule.spec.time_zone_name == "Asia/Shanghai"
    next_run = description.info.next_action_times[0].astimezone(CHINA)
    assert (next_run.hour, next_run.minute) == (1, 30)
    action = description.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert (action.workflow, action.task_queue, action.id) == ("FollowUpSweep", TASK_QUEUE, "followup-sweep")
    assert action.execution_timeout is not None and action.execution_timeout < timedelta(days=1)
    (sweep_input,) = await client.data_converter.decode(action.args, [FollowUpSweepInput])
    assert sweep_input == FollowUpSweepInput()  # today, every county
    assert description.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP


async def test_ensure_brings_an_older_definition_up_to_date(schedule: tuple[Client, ScheduleHandle]) -> None:
    client, handle = schedule
    older = followup_schedule("old-queue")
    older.spec.calendars = [ScheduleCalendarSpec(hour=[ScheduleRange(5)], minute=[ScheduleRange(0)])]
    await client.create_schedule(FOLLOWUP_SCHEDULE_ID, older)

    await ensure_followup_schedules(client, TASK_QUEUE)

    description = await handle.describe()
    assert list(description.schedule.spec.calendars[0].hour) == [ScheduleRange(1)]
    assert isinstance(description.schedule.action, ScheduleActionStartWorkflow)
    assert description.schedule.action.task_queue == TASK_QUEUE
