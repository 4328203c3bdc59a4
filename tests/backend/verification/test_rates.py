"""The two-way assessment's figures for a scripted March 2026 between counties A and B (and one off-platform
county), through the API, against numbers computed by hand."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from backend.core.clock import CHINA as CHINA_STANDARD_TIME
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import Channel, QuestionType, VerificationKind, VerificationRequest, VerificationState
from tests.backend.verification.conftest import TwoCounties
from tests.fixtures.identity import County, SignIn

S = VerificationState
AS_OF = "2026-04-10T12:00:00+08:00"


def march(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=CHINA_STANDARD_TIME)


async def _row(
    database: Database,
    requester: County,
    responder: County | None,
    *,
    requester_unit: str = "t1",
    responder_unit: str = "t1",
    kind: VerificationKind = VerificationKind.request,
    materials: datetime,
    arrived: datetime,
    sent_on_time: bool = True,
    state: VerificationState = S.pending,
    on_time: bool | None = None,
    answer_due: datetime | None = None,
) -> None:
    request_id = uuid.uuid4()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, requester.tenant.id)
        session.add(
            VerificationRequest(
                id=request_id,
                tenant_id=requester.tenant.id,
                kind=kind,
                correlation_id=f"XC-R-{request_id.hex[:16]}",
                state=state,
                requester_county_code=requester.code,
                requester_unit_code=requester.units[requester_unit],
                requester_unit_name="镇",
                responder_tenant_id=responder.tenant.id if responder else None,
                responder_county_code=responder.code if responder else "650102",
                responder_unit_code=responder.units[responder_unit] if responder else "650102001",
                subject_name="某",
                question_type=QuestionType.marital_childbearing,
                question="核实",
                attachment_document_ids=[],
                channel=Channel.platform if responder else Channel.fax,
                materials_received_at=materials,
                send_due_at=materials + timedelta(days=9),
                sent_at=arrived,
                sent_on_time=sent_on_time,
                arrived_at=arrived,
                answer_due_at=answer_due or arrived + timedelta(days=21),
                expires_at=(answer_due or arrived + timedelta(days=21)) + timedelta(days=14),
                answered_at=arrived + timedelta(days=3) if state in (S.answered, S.rejected) else None,
                answered_on_time=on_time,
                created_by="test",
            )
        )


@pytest.fixture
async def scripted_march(counties: TwoCounties, database: Database) -> TwoCounties:
    a, b = counties.a, counties.b
    # A asks B (materials date, arrival, outcome).
    await _row(database, a, b, materials=march(2), arrived=march(3), state=S.answered, on_time=True)  # r1
    await _row(
        database, a, b, materials=march(5), arrived=march(16), sent_on_time=False, state=S.answered, on_time=False
    )  # r2
    await _row(
        database, a, b, requester_unit="t2", materials=march(10), arrived=march(11), state=S.expired, on_time=False
    )  # r3
    await _row(database, a, b, materials=march(20), arrived=march(21), state=S.rejected, on_time=True)  # r4
    await _row(database, a, b, materials=march(25), arrived=march(26), state=S.withdrawn)  # r5
    await _row(database, a, b, materials=march(20, 2), arrived=march(2), state=S.answered, on_time=True)  # r6
    # B asks A.
    await _row(database, b, a, materials=march(3), arrived=march(4), state=S.answered, on_time=True)  # r7
    await _row(
        database, b, a, responder_unit="t2", materials=march(30), arrived=march(31), answer_due=march(22, 4)
    )  # r8
    # Notices.
    notice = VerificationKind.notice
    await _row(
        database, a, b, kind=notice, materials=march(12), arrived=march(12), state=S.answered, on_time=True
    )  # n1
    await _row(
        database, a, b, kind=notice, materials=march(13), arrived=march(13), state=S.rejected, on_time=True
    )  # n2
    await _row(
        database, b, a, kind=notice, materials=march(14), arrived=march(14), state=S.answered, on_time=True
    )  # n3
    # A asks an off-platform county.
    await _row(database, a, None, materials=march(6), arrived=march(9), state=S.answered, on_time=False)  # r9
    return counties


PERIOD = {"period_start": "2026-03-01", "period_end": "2026-03-31", "as_of": AS_OF}


async def test_rates_between_two_counties_match_the_hand_count(scripted_march: TwoCounties, sign_in: SignIn) -> None:
    a, b = scripted_march.a, scripted_march.b
    supervisor = await sign_in(a, "county.sup")
    response = await supervisor.get("/api/v1/verification/rates", params={**PERIOD, "counterpart": b.code})
    assert response.status_code == 200, response.text
    report = response.json()
    county = report["county"]
    # A as requester: r1-r5 (r6's materials came in February, r9 is not with B); on time r1, r3, r4, r5.
    assert (county["requests_sent"], county["sent_on_time"], county["sent_on_time_rate"]) == (5, 4, 0.8)
    # A as responder: r7 answered on time; r8 is pending and not due by 10 April: left out.
    assert (county["requests_received"], county["answered"], county["answered_on_time"]) == (1, 1, 1)
    assert (county["feedback_rate"], county["answered_on_time_rate"]) == (1.0, 1.0)
    assert (county["notices_received"], county["notices_accepted"], county["acceptance_rate"]) == (1, 1, 1.0)
    townships = {t["unit_code"]: t for t in report["townships"]}
    assert set(townships) == {a.units["t1"], a.units["t2"]}
    assert (townships[a.units["t1"]]["requests_sent"], townships[a.units["t1"]]["sent_on_time_rate"]) == (4, 0.75)
    assert (townships[a.units["t2"]]["requests_sent"], townships[a.units["t2"]]["sent_on_time_rate"]) == (1, 1.0)
    assert townships[a.units["t2"]]["requests_received"] == 0 and townships[a.units["t2"]]["feedback_rate"] is None
    # B from the same rows: received r1, r2, r3, r4, r6 (r5 withdrawn); replied r1, r2, r4, r6; on time r1, r4, r6;
    # the expired r3 counts against B. Notices n1 acknowledged, n2 sent back.
    other = report["counterpart"]
    assert (other["requests_sent"], other["sent_on_time_rate"]) == (2, 1.0)
    assert (other["requests_received"], other["answered"], other["answered_on_time"]) == (5, 4, 3)
    assert (other["feedback_rate"], other["answered_on_time_rate"]) == (0.8, 0.6)
    assert (other["notices_received"], other["notices_accepted"], other["acceptance_rate"]) == (2, 1, 0.5)


async def test_rates_over_every_counterpart_include_the_off_platform_county(
    scripted_march: TwoCounties, sign_in: SignIn
) -> None:
    supervisor = await sign_in(scripted_march.a, "county.sup")
    report = (await supervisor.get("/api/v1/verification/rates", params=PERIOD)).json()
    assert (report["county"]["requests_sent"], report["county"]["sent_on_time_rate"]) == (6, 0.8333)
    assert report["counterpart"] is None


async def test_a_township_sees_only_its_own_figures(scripted_march: TwoCounties, sign_in: SignIn) -> None:
    a = scripted_march.a
    officer = await sign_in(a, "t2.officer")
    report = (await officer.get("/api/v1/verification/rates", params=PERIOD)).json()
    assert [t["unit_code"] for t in report["townships"]] == [a.units["t2"]]
    assert report["county"]["requests_sent"] == 0
