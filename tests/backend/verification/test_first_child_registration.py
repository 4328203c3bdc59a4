"""P04 first-child birth service registration end to end over two counties (the issue's acceptance test).

The couple lives in county A (township t1). The wife's household registration is in county B (township t1),
the husband's in county A itself (township t2). A's officer receives the materials and opens the case, sends
a verification request to each spouse's registration township, B's and A-t2's officers answer from their
inboxes, A registers and notifies both registration townships, which acknowledge. Both counties' audit logs
carry the correlation ids; B never reads A's case, A never reads B's person records.
"""

from __future__ import annotations

from datetime import timedelta

from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.models import Sex
from tests.backend.verification.conftest import CaseWork, TwoCounties, add_person, audit_actions, open_first_child_case
from tests.fixtures.identity import SignIn

WIFE_ID, HUSBAND_ID = "11010519491231002X", "110105194912310037"


async def test_first_child_registration_across_two_counties(
    counties: TwoCounties, sign_in: SignIn, database: Database, casework: CaseWork
) -> None:
    a, b = counties.a, counties.b
    wife = await add_person(database, a, "王芳", registration=b.units["v11"], resident_id=WIFE_ID)
    husband = await add_person(database, a, "李强", registration=a.units["v21"], resident_id=HUSBAND_ID, sex=Sex.male)
    # B keeps the wife in its own outflow register: A may never read that record.
    wife_in_b = await add_person(database, b, "王芳", unit="v11", resident_id=WIFE_ID)

    officer_a = await sign_in(a, "t1.officer")
    received_at = utc_now() - timedelta(hours=1)
    case = await open_first_child_case(officer_a, a, [wife, husband], received_at=received_at.isoformat())
    case_id = str(case["id"])
    assert case["stage"] == "registration"

    # 1. Verification to both spouses' registration townships, within the 7 working days.
    requests = {}
    for person in (wife, husband):
        response = await officer_a.post(
            "/api/v1/verification/requests",
            json={
                "case_id": case_id,
                "person_id": str(person.id),
                "question_type": "marital_childbearing",
                "question": "一孩生育服务登记，请核实婚育情况 / verify marital and childbearing status",
            },
        )
        assert response.status_code == 201, response.text
        requests[person.name] = response.json()
    assert requests["王芳"]["responder_county_code"] == b.code and requests["王芳"]["sent_on_time"] is True
    assert requests["李强"]["responder_unit_code"] == a.units["t2"]
    moved = await casework.act(officer_a, a, case_id, "advance")
    assert moved["stage"] == "verification"

    # 2. The registration townships answer from their inboxes.
    officer_b = await sign_in(b, "t1.officer")
    inbox_b = (await officer_b.get("/api/v1/verification/inbox", params={"state": "pending"})).json()
    assert [item["correlation_id"] for item in inbox_b["items"]] == [requests["王芳"]["correlation_id"]]
    assert inbox_b["items"][0]["case_id"] is None
    answered = await officer_b.post(
        f"/api/v1/verification/inbox/{requests['王芳']['id']}/answer",
        json={"answer": "初婚，未生育，未办理生育服务登记 / first marriage, no child"},
    )
    assert answered.status_code == 200, answered.text
    officer_a_t2 = await sign_in(a, "t2.officer")
    answered = await officer_a_t2.post(
        f"/api/v1/verification/inbox/{requests['李强']['id']}/answer", json={"answer": "初婚，未生育 / no child"}
    )
    assert answered.status_code == 200, answered.text

    outbox = (await officer_a.get("/api/v1/verification/outbox", params={"case_id": case_id})).json()
    assert {item["state"] for item in outbox["items"]} == {"answered"} and outbox["total"] == 2
    assert all(item["answered_on_time"] for item in outbox["items"])

    # 3. A registers (materials complete) and 4. notifies both registration townships.
    await casework.act(officer_a, a, case_id, "advance")  # registered: the service is delivered
    registered = await casework.act(officer_a, a, case_id, "advance")
    assert registered["stage"] == "follow_up" and registered["due_at"] is not None  # notify within 15 WD
    notices = {}
    for person in (wife, husband):
        response = await officer_a.post(
            "/api/v1/verification/notices",
            json={
                "case_id": case_id,
                "person_id": str(person.id),
                "question_type": "first_child_registration",
                "question": "已办理一孩生育服务登记 / first-child birth service registration done",
            },
        )
        assert response.status_code == 201, response.text
        notices[person.name] = response.json()
    assert notices["王芳"]["correlation_id"].startswith(f"TB-{a.code}-")
    acknowledged = await officer_b.post(
        f"/api/v1/verification/inbox/{notices['王芳']['id']}/answer", json={"answer": "已接收归档 / filed"}
    )
    assert acknowledged.status_code == 200 and acknowledged.json()["state"] == "answered"
    await casework.act(officer_a, a, case_id, "advance")  # follow-up done: to the audit stage
    closed = await casework.act(officer_a, a, case_id, "close", outcome="registered")
    assert (closed["stage"], closed["outcome"]) == ("closed", "registered")

    # Both audit logs carry the correlation ids, each side its own actions.
    for name, action_a in (("王芳", "verification.request"),):
        correlation_id = requests[name]["correlation_id"]
        assert await audit_actions(database, a, correlation_id) == [action_a]
        assert await audit_actions(database, b, correlation_id) == ["verification.answer"]
    assert await audit_actions(database, a, notices["王芳"]["correlation_id"]) == ["verification.notice"]
    assert await audit_actions(database, b, notices["王芳"]["correlation_id"]) == ["verification.answer"]
    # Within county A both sides' events are in A's chain.
    assert await audit_actions(database, a, requests["李强"]["correlation_id"]) == [
        "verification.request",
        "verification.answer",
    ]

    # B's users never read A's case; A's users never read B's person records.
    for username in ("t1.officer", "county.sup"):
        b_user = await sign_in(b, username)
        assert (await b_user.get(f"/api/v1/cases/{case_id}")).status_code == 404
        assert (await b_user.get(f"/api/v1/persons/{wife.id}")).status_code == 404
    for username in ("t1.officer", "county.sup"):
        a_user = await sign_in(a, username)
        assert (await a_user.get(f"/api/v1/persons/{wife_in_b.id}")).status_code == 404

    # The period's figures as B sees them: A sent its 1 request to B on time (the one within A is not B's
    # business); B answered it on time and acknowledged A's notice.
    supervisor_b = await sign_in(b, "county.sup")
    report = (
        await supervisor_b.get(
            "/api/v1/verification/rates",
            params={
                "period_start": (received_at - timedelta(days=2)).date().isoformat(),
                "period_end": (utc_now() + timedelta(days=2)).date().isoformat(),
                "counterpart": a.code,
            },
        )
    ).json()
    assert (report["county"]["requests_received"], report["county"]["answered_on_time_rate"]) == (1, 1.0)
    assert (report["county"]["notices_received"], report["county"]["acceptance_rate"]) == (1, 1.0)
    assert (report["counterpart"]["requests_sent"], report["counterpart"]["sent_on_time_rate"]) == (1, 1.0)
