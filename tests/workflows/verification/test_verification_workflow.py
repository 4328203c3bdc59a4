"""The responder's deadline on the time-skipping server: reminder, overdue, escalation rungs and expiry in the
deadline side's county, each once; a settled request stops the ladder; the requester's own 7-working-day
deadline is the registration stage of its case (CaseWorkflow); expired requests count against the responder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.calendar.service import load_calendar
from backend.core.clock import china_day, clock, end_of_day
from backend.db.tenancy import set_tenant
from backend.models import (
    Case,
    CaseAlert,
    CaseStage,
    CaseStatus,
    Channel,
    QuestionType,
    VerificationKind,
    VerificationRequest,
    VerificationState,
)
from backend.verification import deadlines, rates, service
from backend.verification.schemas import AnswerBody, Reply
from tests.workflows.verification.conftest import Harness
from workflows.cases.types import CaseWorkflowInput, case_workflow_id
from workflows.verification.types import VerificationWorkflowInput, verification_workflow_id
from workflows.verification.workflows import VerificationRequestWorkflow

HISTORIES = Path(__file__).parent / "histories"
RECORD = os.environ.get("RECORD_HISTORIES") == "1"
LADDER = [("reminder", 0), ("overdue", 1), ("escalation", 2), ("escalation", 3)]


@pytest.fixture(autouse=True)
def wall_clock_follows_the_test() -> Iterator[None]:
    """Services read `utc_now()`; tests that act after skipping time move it along, and it is put back."""
    yield
    clock.reset()


async def _follow_workflow_time(harness: Harness) -> datetime:
    now = await harness.now()
    clock.reset()
    clock.advance(now - clock.now())
    return now


async def test_late_answer_escalates_on_the_responders_side_only(harness: Harness) -> None:
    arrived = await harness.now()
    row = await harness.add_request(arrived)
    async with harness.database.sessionmaker() as session, session.begin():
        await set_tenant(session, harness.a.tenant.id)
        calendar = await load_calendar(session)
    county_rung = calendar.add_working_days(china_day(row.answer_due_at), 5).date
    async with harness.worker():
        handle = await harness.start(row)
        # Run to the morning after the county supervisor's rung (5 working days after the due day).
        await harness.env.sleep(end_of_day(county_rung) + timedelta(hours=10) - await harness.now())
        alerts = await harness.alerts(harness.b, row.id)
        assert [(alert.kind, alert.level) for alert in alerts] == LADDER
        assert alerts[1].created_at >= row.answer_due_at
        assert (
            alerts[2].recipient_role == "township_supervisor" and alerts[2].recipient_unit_code == harness.b.units["t1"]
        )
        assert alerts[3].recipient_role == "county_supervisor" and alerts[3].recipient_unit_code == harness.b.code
        assert await harness.alerts(harness.a, row.id) == []  # the requester's county is not chased
        stored = await harness.request(row.id)
        assert stored.responder_overdue is True and stored.responder_escalation_level == 3

        # B answers, late.
        await _follow_workflow_time(harness)
        async with harness.database.sessionmaker() as session, session.begin():
            await set_tenant(session, harness.b.tenant.id)
            loaded = (
                await session.execute(select(VerificationRequest).where(VerificationRequest.id == row.id))
            ).scalar_one()
            await service.answer(session, loaded, AnswerBody(answer="初婚未育"))
        await handle.signal(VerificationRequestWorkflow.settled)
        result = await handle.result()
        assert result.state == "settled"
        history = await handle.fetch_history()

    stored = await harness.request(row.id)
    assert stored.state == "answered" and stored.answered_on_time is False
    assert await harness.audit(harness.b, row.correlation_id) == [
        "verification.reminder",
        "verification.overdue",
        "verification.escalation",
        "verification.escalation",
        "verification.answer",
    ]
    assert await harness.audit(harness.a, row.correlation_id) == []
    if RECORD:
        (HISTORIES / "late_answer.json").write_text(history.to_json(), encoding="utf-8")


async def test_settled_request_raises_nothing_more(harness: Harness) -> None:
    row = await harness.add_request(await harness.now())
    async with harness.worker():
        handle = await harness.start(row)
        await _follow_workflow_time(harness)
        async with harness.database.sessionmaker() as session, session.begin():
            await set_tenant(session, harness.b.tenant.id)
            loaded = (
                await session.execute(select(VerificationRequest).where(VerificationRequest.id == row.id))
            ).scalar_one()
            await service.answer(session, loaded, AnswerBody(answer="已核实"))
        await handle.signal(VerificationRequestWorkflow.settled)
        assert (await handle.result()).state == "settled"
    assert await harness.alerts(harness.b, row.id) == []
    assert (await harness.request(row.id)).answered_on_time is True


async def test_unanswered_request_expires_and_counts_against_the_responder_only(harness: Harness) -> None:
    arrived = await harness.now()
    row = await harness.add_request(arrived)
    async with harness.worker():
        handle = await harness.start(row)
        await harness.env.sleep(row.expires_at + timedelta(hours=1) - await harness.now())
        assert (await handle.result()).state == "expired"
    stored = await harness.request(row.id)
    assert stored.state == "expired" and stored.answered_on_time is False
    assert [(a.kind, a.level) for a in await harness.alerts(harness.b, row.id)] == [*LADDER, ("expired", 4)]
    assert (await harness.audit(harness.b, row.correlation_id))[-1] == "verification.expired"
    assert (await harness.audit(harness.a, row.correlation_id)) == ["verification.expired"]

    start, end = rates.period_bounds(china_day(arrived), china_day(arrived))
    as_of = await harness.now()
    a_total, _ = rates.figures_for(harness.a.code, [stored], start, end, as_of)
    b_total, b_townships = rates.figures_for(harness.b.code, [stored], start, end, as_of)
    # A sent on time: its rate is untouched. B never answered: 0 of 1, on time and at all.
    assert (a_total.requests_sent, a_total.sent_on_time_rate, a_total.requests_received) == (1, 1.0, 0)
    assert (b_total.requests_received, b_total.answered, b_total.feedback_rate, b_total.answered_on_time_rate) == (
        1,
        0,
        0.0,
        0.0,
    )
    assert [t.unit_code for t in b_townships] == [harness.b.units["t1"]]


async def test_off_platform_deadline_alerts_the_requester(harness: Harness) -> None:
    row = await harness.add_request(await harness.now(), off_platform=True)
    async with harness.worker():
        handle = await harness.start(row)
        await harness.env.sleep(row.answer_due_at + timedelta(hours=1) - await harness.now())
        alerts = await harness.alerts(harness.a, row.id)
        assert [(a.kind, a.level) for a in alerts] == LADDER[:2]
        assert alerts[1].recipient_unit_code == harness.a.units["t1"]
        await handle.terminate()
    assert await harness.audit(harness.a, row.correlation_id) == ["verification.reminder", "verification.overdue"]


async def test_request_not_sent_within_7_working_days_escalates_on_the_requesters_case(harness: Harness) -> None:
    """The requester's deadline: the first-child case's registration stage (7 working days to send the
    verification). Nothing sent: the case escalates in A, and a request sent afterwards is late for A."""
    received = await harness.now()
    case = Case(
        id=uuid.uuid4(),
        tenant_id=harness.a.tenant.id,
        number=f"{harness.a.code}-2026-{uuid.uuid4().int % 1_000_000:06d}",
        case_type="first_child_registration",
        title="一孩生育服务登记：王芳",
        org_unit_code=harness.a.units["t1"] + "001",
        stage=CaseStage.registration,
        status=CaseStatus.open,
        received_at=received,
        stage_started_at=received,
        details={},
        created_by="test",
    )
    async with harness.database.sessionmaker() as session, session.begin():
        await set_tenant(session, harness.a.tenant.id)
        session.add(case)
        calendar = await load_calendar(session)
    send_due, _ = deadlines.due_after(calendar, received, deadlines.SEND_WORKING_DAYS)
    county_rung = calendar.add_working_days(china_day(send_due), 5).date
    async with harness.worker():
        handle = await harness.env.client.start_workflow(
            "CaseWorkflow",
            CaseWorkflowInput(
                tenant_id=harness.a.tenant.id, tenant_code=harness.a.code, case_id=case.id, case_number=case.number
            ),
            id=case_workflow_id(harness.a.code, case.id),
            task_queue=harness.task_queue,
        )
        await harness.env.sleep(end_of_day(county_rung) + timedelta(hours=1) - await harness.now())
        async with harness.database.sessionmaker() as session, session.begin():
            await set_tenant(session, harness.a.tenant.id)
            alerts = list(
                (await session.execute(select(CaseAlert).where(CaseAlert.case_id == case.id))).scalars().all()
            )
        await handle.terminate()
    assert sorted((alert.kind, alert.level) for alert in alerts) == sorted(LADDER)
    assert {alert.tenant_id for alert in alerts} == {harness.a.tenant.id}
    escalation = next(alert for alert in alerts if alert.level == 2)
    assert escalation.recipient_unit_code == harness.a.units["t1"]
    assert escalation.recipient_role == "township_supervisor"
    # The request finally sent now is late for A; B's figures are not touched by A's lateness.
    late = await harness.add_request(
        await harness.now(), case_id=case.id, materials_received_at=received, sent_on_time=False
    )
    start, end = rates.period_bounds(china_day(received), china_day(received))
    a_total, _ = rates.figures_for(harness.a.code, [late], start, end, await harness.now())
    assert (a_total.requests_sent, a_total.sent_on_time, a_total.sent_on_time_rate) == (1, 0, 0.0)
    b_total, _ = rates.figures_for(harness.b.code, [late], start, end, await harness.now())
    assert b_total.requests_received == 0


async def test_late_answer_to_an_off_platform_county_escalates_on_our_side_and_counts_late(harness: Harness) -> None:
    """An incoming request from an off-platform county (来函协查), recorded by B: the same workflow, every rung in
    B, the late reply recorded with its channel, and B's figures count it answered but late."""
    arrived = await harness.now()
    b = harness.b
    async with harness.database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        calendar = await load_calendar(session)
        answer_due_at, provisional = deadlines.due_after(calendar, arrived, deadlines.ANSWER_WORKING_DAYS)
        request_id = uuid.uuid4()
        row = VerificationRequest(
            id=request_id,
            tenant_id=b.tenant.id,
            kind=VerificationKind.request,
            correlation_id=f"LH-{b.code}-T-{request_id.hex[:10].upper()}",
            state=VerificationState.pending,
            requester_county_code="650102",
            requester_unit_code="650102001",
            requester_unit_name="天山区某街道",
            requester_off_platform=True,
            responder_tenant_id=b.tenant.id,
            responder_county_code=b.code,
            responder_unit_code=b.units["t1"],
            subject_name="马丽",
            question_type=QuestionType.marital_childbearing,
            question="请核实婚育情况",
            attachment_document_ids=[],
            channel=Channel.registered_mail,
            evidence="挂号信签收单",
            materials_received_at=arrived,
            send_due_at=arrived,
            sent_at=arrived,
            sent_on_time=True,
            arrived_at=arrived,
            answer_due_at=answer_due_at,
            answer_due_provisional=provisional,
            expires_at=deadlines.expiry(calendar, answer_due_at),
            created_by="test",
        )
        session.add(row)
    county_rung = calendar.add_working_days(china_day(answer_due_at), 5).date
    async with harness.worker():
        handle = await harness.env.client.start_workflow(
            VerificationRequestWorkflow.run,
            VerificationWorkflowInput(tenant_id=b.tenant.id, request_id=row.id, correlation_id=row.correlation_id),
            id=verification_workflow_id(row.correlation_id),
            task_queue=harness.task_queue,
        )
        await harness.env.sleep(end_of_day(county_rung) + timedelta(hours=10) - await harness.now())
        alerts = await harness.alerts(b, row.id)
        assert [(alert.kind, alert.level) for alert in alerts] == LADDER
        assert alerts[0].recipient_unit_code == b.units["t1"] and alerts[3].recipient_unit_code == b.code
        now = await _follow_workflow_time(harness)
        async with harness.database.sessionmaker() as session, session.begin():
            await set_tenant(session, b.tenant.id)
            loaded = (
                await session.execute(select(VerificationRequest).where(VerificationRequest.id == row.id))
            ).scalar_one()
            reply = Reply(channel="fax", sent_at=now - timedelta(minutes=5), evidence="传真发送报告")
            await service.answer(session, loaded, AnswerBody(answer="初婚未育", reply=reply))
        await handle.signal(VerificationRequestWorkflow.settled)
        assert (await handle.result()).state == "settled"
    async with harness.database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        stored = (
            await session.execute(select(VerificationRequest).where(VerificationRequest.id == row.id))
        ).scalar_one()
    assert (stored.state, stored.answered_on_time, stored.answer_channel) == ("answered", False, Channel.fax)
    assert stored.responder_escalation_level == 3
    assert (await harness.audit(b, row.correlation_id))[-1] == "verification.answer"
    start, end = rates.period_bounds(china_day(arrived), china_day(arrived))
    b_total, _ = rates.figures_for(b.code, [stored], start, end, await harness.now())
    assert (b_total.requests_received, b_total.answered, b_total.answered_on_time, b_total.requests_sent) == (
        1,
        1,
        0,
        0,
    )
    assert (b_total.feedback_rate, b_total.answered_on_time_rate) == (1.0, 0.0)


async def test_a_recounted_due_moment_replans_the_ladder(harness: Harness) -> None:
    """The responder's county declared a holiday: the stored due moment moved two days later and the workflow
    was signalled `replan`; no overdue notice at the old moment, one at the new."""
    row = await harness.add_request(await harness.now())
    later = row.answer_due_at + timedelta(days=2)
    async with harness.worker():
        handle = await harness.start(row)
        await harness.env.sleep(row.answer_due_at - timedelta(hours=1) - await harness.now())
        assert [(a.kind, a.level) for a in await harness.alerts(harness.b, row.id)] == [("reminder", 0)]
        async with harness.database.sessionmaker() as session, session.begin():
            await set_tenant(session, harness.a.tenant.id)
            stored = (
                await session.execute(select(VerificationRequest).where(VerificationRequest.id == row.id))
            ).scalar_one()
            stored.answer_due_at = later
            stored.expires_at = row.expires_at + timedelta(days=2)
        await handle.signal(VerificationRequestWorkflow.replan)
        await harness.env.sleep(row.answer_due_at + timedelta(hours=2) - await harness.now())
        assert [(a.kind, a.level) for a in await harness.alerts(harness.b, row.id)] == [("reminder", 0)]
        await harness.env.sleep(later + timedelta(hours=1) - await harness.now())
        alerts = await harness.alerts(harness.b, row.id)
        assert [(a.kind, a.level) for a in alerts] == [("reminder", 0), ("overdue", 1)]
        assert alerts[1].created_at >= later
        await handle.signal(VerificationRequestWorkflow.settled)
        assert (await handle.result()).state == "settled"
        history = await handle.fetch_history()
    if RECORD:
        (HISTORIES / "replanned.json").write_text(history.to_json(), encoding="utf-8")
