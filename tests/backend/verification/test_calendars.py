"""Whose calendar a deadline runs on: the responder's 15 working days on the responder county's calendar (the
official schedule plus its own county holidays), the requester's 7 working days on the requester's."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import timedelta

from sqlalchemy import select

from backend.authz.vocabulary import Role
from backend.calendar.service import official_calendar
from backend.core.clock import china_day, end_of_day, utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent, CountyHoliday, OutboxMessage
from backend.verification import deadlines
from tests.backend.verification.conftest import TwoCounties, add_person, open_first_child_case
from tests.fixtures.identity import County, SignIn, add_user


async def _declare(database: Database, county: County, day: dt.date) -> None:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(CountyHoliday(id=uuid.uuid4(), tenant_id=county.tenant.id, date=day, name="县庆", source="县政府"))


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_each_side_counts_on_its_own_county_holidays(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = counties.a, counties.b
    async with database.sessionmaker() as session, session.begin():
        official = await official_calendar(session)
    now = utc_now()
    today = china_day(now)
    # The case arrived five minutes ago: just after midnight in China that is still yesterday, and the sending
    # deadline counts from the day the case arrived, the answer's from the day the request is made.
    received_at = now - timedelta(minutes=5)
    received_day = china_day(received_at)
    # B (the responder) takes two days off, on the 9th and 11th working days from today (after A's sending
    # deadline); A (the requester) one, on the 5th from the day the case arrived.
    for n in (9, 11):
        await _declare(database, b, official.add_working_days(today, n).date)
    await _declare(database, a, official.add_working_days(received_day, 5).date)

    wife = await add_person(database, a, "王芳", registration=b.units["v11"], resident_id="11010519491231002X")
    officer = await sign_in(a, "t1.officer")
    case = await open_first_child_case(officer, a, [wife], received_at=received_at.isoformat())
    response = await officer.post(
        "/api/v1/verification/requests",
        json={"case_id": case["id"], "person_id": str(wife.id), "question": "请核实婚育情况 / verify"},
    )
    assert response.status_code == 201, response.text
    request = response.json()
    # The answer: 15 working days on B's calendar, two more than the official count for B's holidays; A's
    # holiday does not move it (on A's calendar it would be one more).
    answer_due = official.add_working_days(today, deadlines.ANSWER_WORKING_DAYS + 2).date
    assert request["answer_due_at"] == _iso(end_of_day(answer_due))
    # The sending: 7 working days on A's calendar, one more for A's holiday; B's holidays do not move it.
    send_due = official.add_working_days(received_day, deadlines.SEND_WORKING_DAYS + 1).date
    assert request["send_due_at"] == _iso(end_of_day(send_due))

    # An incoming request B records from an off-platform county runs on B's calendar too.
    officer_b = await sign_in(b, "t1.officer")
    incoming = await officer_b.post(
        "/api/v1/verification/incoming",
        json={
            "responder_unit_code": b.units["t1"],
            "requester_unit_name": "天山区某街道",
            "subject_name": "马丽",
            "question": "请核实婚育情况 / verify",
            "channel": "phone",
            "arrived_at": now.isoformat(),
            "evidence": "电话记录簿第1页",
        },
    )
    assert incoming.status_code == 201, incoming.text
    assert incoming.json()["answer_due_at"] == _iso(end_of_day(answer_due))


async def test_declaring_and_withdrawing_a_county_holiday_recounts_the_answers_we_owe(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = counties.a, counties.b
    await add_user(database, b, "b.admin", "county", [(Role.county_admin, "county")])
    async with database.sessionmaker() as session, session.begin():
        official = await official_calendar(session)
    now = utc_now()
    today = china_day(now)
    wife = await add_person(database, a, "王芳", registration=b.units["v11"])
    officer = await sign_in(a, "t1.officer")
    case = await open_first_child_case(officer, a, [wife], received_at=(now - timedelta(minutes=5)).isoformat())
    sent = await officer.post(
        "/api/v1/verification/requests",
        json={"case_id": case["id"], "person_id": str(wife.id), "question": "请核实婚育情况 / verify"},
    )
    assert sent.status_code == 201, sent.text
    request_id = sent.json()["id"]
    due = _iso(end_of_day(official.add_working_days(today, deadlines.ANSWER_WORKING_DAYS).date))
    assert sent.json()["answer_due_at"] == due

    holiday = official.add_working_days(today, 3).date
    admin = await sign_in(b, "b.admin")
    added = await admin.post(
        "/api/v1/calendar/county-holidays", json={"date": holiday.isoformat(), "name": "县庆", "source": "县政府令"}
    )
    assert added.status_code == 201, added.text
    officer_b = await sign_in(b, "t1.officer")
    moved = (await officer_b.get(f"/api/v1/verification/inbox/{request_id}")).json()
    later = _iso(end_of_day(official.add_working_days(today, deadlines.ANSWER_WORKING_DAYS + 1).date))
    assert moved["answer_due_at"] == later
    # A's own deadlines are not B's holiday's business: A's case keeps its due date.
    assert (await officer.get(f"/api/v1/cases/{case['id']}")).json()["due_at"] == case["due_at"]

    assert (await admin.delete(f"/api/v1/calendar/county-holidays/{holiday.isoformat()}")).status_code == 204
    assert (await officer_b.get(f"/api/v1/verification/inbox/{request_id}")).json()["answer_due_at"] == due
    # The re-plan goes through B's outbox (B's transaction recounted it); the relay signals the workflow by id.
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        replans = await session.execute(
            select(OutboxMessage.payload).where(OutboxMessage.kind == deadlines.REPLAN_VERIFICATION)
        )
        assert [payload["request_id"] for payload in replans.scalars()] == [request_id, request_id]
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        actions = await session.execute(
            select(AuditEvent.action).where(
                AuditEvent.tenant_id == b.tenant.id, AuditEvent.action == "verification.deadline_recomputed"
            )
        )
        assert len(actions.scalars().all()) == 2
