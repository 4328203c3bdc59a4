"""Verification requests through the API, across two counties: routing to the registration township, the
one-open rule, the responder's inbox and the requester's outbox, 404 across the boundary, answers and
rejections, audit events on both chains, and off-platform counterparts."""

from __future__ import annotations

import httpx
import pytest

from backend.db.engine import Database
from backend.persons.resident_id import mask_resident_id
from tests.backend.verification.conftest import (
    OFF_PLATFORM_TOWNSHIP,
    TwoCounties,
    add_person,
    audit_actions,
    open_first_child_case,
)
from tests.fixtures.identity import SignIn

RESIDENT_ID = "11010519491231002X"


async def _send(client: httpx.AsyncClient, case_id: object, person_id: object, **body: object) -> httpx.Response:
    return await client.post(
        "/api/v1/verification/requests",
        json={
            "case_id": str(case_id),
            "person_id": str(person_id),
            "question_type": "marital_childbearing",
            "question": "请核实其婚育情况 / please verify marital and childbearing status",
            **body,
        },
    )


@pytest.fixture
async def sent(counties: TwoCounties, sign_in: SignIn, database: Database) -> dict[str, object]:
    """A first-child case in county A whose applicant is registered in B's township t1; the request sent."""
    wife = await add_person(database, counties.a, "王芳", registration=counties.b.units["v11"], resident_id=RESIDENT_ID)
    officer = await sign_in(counties.a, "t1.officer")
    case = await open_first_child_case(officer, counties.a, [wife])
    response = await _send(officer, case["id"], wife.id)
    assert response.status_code == 201, response.text
    return {"case": case, "request": response.json(), "wife": wife, "officer": officer}


async def test_request_goes_to_the_registration_township_with_the_minimum_subject_data(
    counties: TwoCounties, sign_in: SignIn, sent: dict[str, object]
) -> None:
    request = sent["request"]
    assert isinstance(request, dict)
    assert request["responder_county_code"] == counties.b.code
    assert request["responder_unit_code"] == counties.b.units["t1"] and request["responder_unit_name"] == "一镇"
    assert request["on_platform"] is True and request["state"] == "pending"
    assert request["requester_unit_code"] == counties.a.units["t1"]
    assert request["correlation_id"].startswith(f"XC-{counties.a.code}-")
    # Materials arrived Tue 2026-02-10: 7 working days end Thu 2026-02-26 (Spring Festival 15-23 Feb, Sat 14 and
    # 28 Feb worked).
    assert request["send_due_at"] == "2026-02-26T15:59:59Z"
    responder = await sign_in(counties.b, "t1.officer")
    inbox = (await responder.get("/api/v1/verification/inbox")).json()
    assert [item["id"] for item in inbox["items"]] == [request["id"]]
    item = inbox["items"][0]
    assert item["case_id"] is None
    assert item["subject_name"] == "王芳" and item["subject_resident_id"] == mask_resident_id(RESIDENT_ID)
    shown = (await responder.get(f"/api/v1/verification/inbox/{item['id']}")).json()
    assert shown["subject_resident_id"] == RESIDENT_ID
    assert item["question"].startswith("请核实")


async def test_second_open_request_for_the_same_case_and_township_is_refused(
    sent: dict[str, object],
) -> None:
    officer, case, wife = sent["officer"], sent["case"], sent["wife"]
    assert isinstance(officer, httpx.AsyncClient) and isinstance(case, dict)
    again = await _send(officer, case["id"], wife.id)  # type: ignore[attr-defined]
    assert again.status_code == 409, again.text
    body = again.json()
    assert body["error"] == "OPEN_REQUEST_EXISTS" and "请勿重复发送" in body["detail"]
    assert body["correlation_id"] == sent["request"]["correlation_id"]  # type: ignore[index]
    # Once withdrawn, a new request may go.
    request_id = sent["request"]["id"]  # type: ignore[index]
    withdrawn = await officer.post(
        f"/api/v1/verification/outbox/{request_id}/withdraw", json={"reason": "地址有误，重新发送"}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert (await _send(officer, case["id"], wife.id)).status_code == 201  # type: ignore[attr-defined]


async def test_responder_never_reads_the_requesters_case_nor_its_outbox_view(
    counties: TwoCounties, sign_in: SignIn, sent: dict[str, object]
) -> None:
    responder = await sign_in(counties.b, "t1.officer")
    case_id = sent["case"]["id"]  # type: ignore[index]
    request_id = sent["request"]["id"]  # type: ignore[index]
    assert (await responder.get(f"/api/v1/cases/{case_id}")).status_code == 404
    assert (await responder.get(f"/api/v1/verification/outbox/{request_id}")).status_code == 404
    assert (
        await responder.post(f"/api/v1/verification/outbox/{request_id}/withdraw", json={"reason": "试图撤回"})
    ).status_code == 404
    # And the requester cannot answer its own request through the inbox.
    requester = sent["officer"]
    assert isinstance(requester, httpx.AsyncClient)
    assert (await requester.get(f"/api/v1/verification/inbox/{request_id}")).status_code == 404


async def test_only_the_responding_townships_officers_see_the_request(
    counties: TwoCounties, sign_in: SignIn, sent: dict[str, object]
) -> None:
    request_id = sent["request"]["id"]  # type: ignore[index]
    other_township = await sign_in(counties.b, "t2.officer")
    assert (await other_township.get(f"/api/v1/verification/inbox/{request_id}")).status_code == 404
    assert (await other_township.get("/api/v1/verification/inbox")).json()["total"] == 0
    village = await sign_in(counties.b, "v11.coord")
    assert (await village.get(f"/api/v1/verification/inbox/{request_id}")).status_code == 403
    county = await sign_in(counties.b, "county.sup")
    assert (await county.get(f"/api/v1/verification/inbox/{request_id}")).status_code == 200


async def test_answer_reaches_the_requester_and_each_side_audits_under_the_correlation_id(
    counties: TwoCounties, sign_in: SignIn, sent: dict[str, object], database: Database
) -> None:
    request = sent["request"]
    assert isinstance(request, dict)
    responder = await sign_in(counties.b, "t1.officer")
    claimed = await responder.post(f"/api/v1/verification/inbox/{request['id']}/claim")
    assert claimed.status_code == 200 and claimed.json()["responder_assignee_id"] is not None
    mine = (await responder.get("/api/v1/verification/inbox", params={"assignee": "me"})).json()
    assert mine["total"] == 1
    answered = await responder.post(
        f"/api/v1/verification/inbox/{request['id']}/answer",
        json={"answer": "初婚，未生育，已核实 / first marriage, no child"},
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["state"] == "answered" and answered.json()["case_id"] is None
    again = await responder.post(f"/api/v1/verification/inbox/{request['id']}/answer", json={"answer": "再次反馈"})
    assert again.status_code == 409 and again.json()["error"] == "NOT_PENDING"

    requester = sent["officer"]
    assert isinstance(requester, httpx.AsyncClient)
    seen = (await requester.get(f"/api/v1/verification/outbox/{request['id']}")).json()
    assert seen["state"] == "answered" and seen["answer"].startswith("初婚") and seen["answered_on_time"] is True
    assert seen["case_id"] == sent["case"]["id"]  # type: ignore[index]

    correlation_id = request["correlation_id"]
    # The requester's read of the one request shows the subject's number in full: audited under the same id.
    assert await audit_actions(database, counties.a, correlation_id) == [
        "verification.request",
        "verification.view_identifiers",
    ]
    assert await audit_actions(database, counties.b, correlation_id) == ["verification.assign", "verification.answer"]


async def test_rejection_needs_a_reason_and_counts_as_a_reply(
    counties: TwoCounties, sign_in: SignIn, sent: dict[str, object]
) -> None:
    request_id = sent["request"]["id"]  # type: ignore[index]
    responder = await sign_in(counties.b, "t1.officer")
    missing = await responder.post(f"/api/v1/verification/inbox/{request_id}/reject", json={})
    assert missing.status_code == 422 and missing.json()["fields"][0]["loc"][-1] == "reason"
    rejected = await responder.post(
        f"/api/v1/verification/inbox/{request_id}/reject", json={"reason": "查无此人 / no such person registered here"}
    )
    assert rejected.status_code == 200
    assert rejected.json()["state"] == "rejected" and rejected.json()["close_reason"].startswith("查无此人")


async def test_subject_who_is_not_on_the_case_is_refused(
    counties: TwoCounties, sign_in: SignIn, sent: dict[str, object], database: Database
) -> None:
    stranger = await add_person(database, counties.a, "李娜", registration=counties.b.units["v21"])
    response = await _send(sent["officer"], sent["case"]["id"], stranger.id)  # type: ignore[arg-type,index]
    assert response.status_code == 422 and response.json()["fields"][0]["loc"][-1] == "person_id"


async def test_another_countys_officer_cannot_send_for_the_case(
    counties: TwoCounties, sign_in: SignIn, sent: dict[str, object]
) -> None:
    outsider = await sign_in(counties.b, "t1.officer")
    response = await _send(outsider, sent["case"]["id"], sent["wife"].id)  # type: ignore[attr-defined,index]
    assert response.status_code == 404


class TestOffPlatform:
    async def test_registered_mail_starts_the_responders_clock_on_the_signed_for_date(
        self, counties: TwoCounties, sign_in: SignIn, database: Database
    ) -> None:
        wife = await add_person(database, counties.a, "赵敏", registration=OFF_PLATFORM_TOWNSHIP + "001")
        officer = await sign_in(counties.a, "t1.officer")
        case = await open_first_child_case(officer, counties.a, [wife])
        # Posted Wed 2026-02-11, signed for Thu 2026-02-12: 15 working days after the 12th end Wed 2026-03-11.
        response = await _send(
            officer,
            case["id"],
            wife.id,
            dispatch={
                "channel": "registered_mail",
                "sent_at": "2026-02-11T16:00:00+08:00",
                "arrived_at": "2026-02-12T10:00:00+08:00",
                "evidence": "挂号信 XA123456789CN 回执",
            },
        )
        assert response.status_code == 201, response.text
        request = response.json()
        assert request["on_platform"] is False and request["responder_county_code"] == "650102"
        assert request["arrived_at"] == "2026-02-12T02:00:00Z"
        assert request["answer_due_at"] == "2026-03-11T15:59:59Z"
        assert request["sent_on_time"] is True
        # The answer comes back by fax, printed the day after the due day: late.
        recorded = await officer.post(
            f"/api/v1/verification/outbox/{request['id']}/answer",
            json={"answer": "已婚未育", "channel": "fax", "arrived_at": "2026-03-12T09:00:00+08:00"},
        )
        assert recorded.status_code == 200, recorded.text
        assert recorded.json()["state"] == "answered" and recorded.json()["answered_on_time"] is False
        assert recorded.json()["answer_channel"] == "fax"

    @pytest.mark.parametrize(
        ("dispatch", "field"),
        [
            ({"channel": "registered_mail", "evidence": "回执"}, "arrived_at"),
            ({"channel": "fax", "arrived_at": "2026-02-12T10:00:00+08:00"}, "evidence"),
            ({"channel": "phone", "arrived_at": "2026-02-12T10:00:00", "evidence": "通话记录"}, "arrived_at"),
            ({"channel": "platform", "arrived_at": "2026-02-12T10:00:00+08:00"}, "arrived_at"),
        ],
    )
    async def test_evidenced_channels_need_their_moment_and_evidence(
        self, counties: TwoCounties, sign_in: SignIn, database: Database, dispatch: dict[str, str], field: str
    ) -> None:
        wife = await add_person(database, counties.a, "赵敏", registration=OFF_PLATFORM_TOWNSHIP)
        officer = await sign_in(counties.a, "t1.officer")
        case = await open_first_child_case(officer, counties.a, [wife])
        response = await _send(officer, case["id"], wife.id, dispatch=dispatch)
        assert response.status_code == 422, response.text
        assert response.json()["fields"][0]["loc"][-1] == field

    async def test_on_platform_answers_are_not_recorded_by_the_requester(self, sent: dict[str, object]) -> None:
        officer = sent["officer"]
        assert isinstance(officer, httpx.AsyncClient)
        response = await officer.post(
            f"/api/v1/verification/outbox/{sent['request']['id']}/answer",  # type: ignore[index]
            json={"answer": "代为录入", "channel": "phone", "arrived_at": "2026-02-20T09:00:00+08:00"},
        )
        assert response.status_code == 422
