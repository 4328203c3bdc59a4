"""Incoming requests from counties NOT on the platform (来函协查): B's township records a request that came by
registered mail, letter, fax or phone from county 650102 (off-platform), with the arrival under the norm's rule
for its channel and the evidence; it is in B's inbox with 15 working days on B's calendar, B answers it and
records how the answer went back, and it counts in B's rates. The row is B's alone."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import VerificationRequest
from tests.backend.documents.conftest import local_store, pdf_bytes, upload  # noqa: F401 - fixture
from tests.backend.verification.conftest import OFF_PLATFORM_TOWNSHIP, TwoCounties, audit_actions
from tests.fixtures.identity import County, SignIn

pytestmark = pytest.mark.usefixtures("local_store")


async def _scan(officer: httpx.AsyncClient, county: County, request_id: uuid.UUID) -> str:
    response = await upload(
        officer,
        "verification_request",
        request_id,
        pdf_bytes(),
        kind="contact_evidence",
        org_unit_code=county.units["t1"],
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _incoming(county: County, **body: Any) -> dict[str, Any]:
    return {
        "responder_unit_code": county.units["t1"],
        "requester_unit_name": "天山区某街道计生办",
        "requester_division_code": OFF_PLATFORM_TOWNSHIP,
        "requester_reference": "天计生函〔2026〕12号",
        "subject_name": "马丽",
        "subject_resident_id": "11010519491231002X",
        "question_type": "marital_childbearing",
        "question": "请核实马丽的婚育情况 / verify her marital and childbearing status",
        **body,
    }


async def test_registered_mail_starts_our_clock_on_the_signed_for_date_and_counts_in_our_rates(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    b = counties.b
    officer = await sign_in(b, "t1.officer")
    request_id = uuid.uuid4()
    scan = await _scan(officer, b, request_id)
    # Posted Wed 2026-02-11, signed for Thu 2026-02-12 (any time that day): 15 working days after the 12th end
    # Wed 2026-03-11 on B's calendar.
    response = await officer.post(
        "/api/v1/verification/incoming",
        json=_incoming(
            b,
            id=str(request_id),
            channel="registered_mail",
            sent_at="2026-02-11T16:00:00+08:00",
            arrived_at="2026-02-12T17:30:00+08:00",
            evidence="挂号信 XA123456789CN 签收单",
            evidence_document_id=scan,
        ),
    )
    assert response.status_code == 201, response.text
    row = response.json()
    assert row["id"] == str(request_id) and row["correlation_id"].startswith(f"LH-{b.code}-")
    assert row["requester_off_platform"] is True and row["case_id"] is None
    assert (row["requester_county_code"], row["requester_unit_code"]) == ("650102", OFF_PLATFORM_TOWNSHIP)
    assert row["responder_unit_code"] == b.units["t1"] and row["channel"] == "registered_mail"
    assert row["answer_due_at"] == "2026-03-11T15:59:59Z"
    assert row["subject_resident_id"] == "110105********002X"  # masked in the answer to a change

    # In B's inbox, like any incoming request; never in B's outbox (B did not send it).
    inbox = (await officer.get("/api/v1/verification/inbox", params={"state": "pending"})).json()
    assert [item["id"] for item in inbox["items"]] == [str(request_id)]
    supervisor = await sign_in(b, "county.sup")
    assert (await supervisor.get("/api/v1/verification/outbox")).json()["total"] == 0
    assert (await supervisor.get(f"/api/v1/verification/outbox/{request_id}")).status_code == 404

    # The answer must say how it went back.
    refused = await officer.post(f"/api/v1/verification/inbox/{request_id}/answer", json={"answer": "初婚未育"})
    assert refused.status_code == 422 and refused.json()["fields"][0]["loc"][-1] == "reply"
    answered = await officer.post(
        f"/api/v1/verification/inbox/{request_id}/answer",
        json={
            "answer": "初婚，未生育 / first marriage, no child",
            "reply": {"channel": "registered_mail", "sent_at": "2026-03-10T10:00:00+08:00", "evidence": "XB9876CN"},
        },
    )
    assert answered.status_code == 200, answered.text
    done = answered.json()
    assert (done["state"], done["answered_on_time"], done["answer_channel"]) == ("answered", True, "registered_mail")
    assert done["answered_at"] == "2026-03-10T02:00:00Z" and done["answer_evidence"] == "XB9876CN"

    # B's figures count it like the others: received 1, answered on time 1.
    report = (
        await supervisor.get(
            "/api/v1/verification/rates", params={"period_start": "2026-02-01", "period_end": "2026-02-28"}
        )
    ).json()
    assert (report["county"]["requests_received"], report["county"]["answered_on_time"]) == (1, 1)
    assert report["county"]["feedback_rate"] == 1.0 and report["county"]["requests_sent"] == 0
    assert await audit_actions(database, b, row["correlation_id"]) == [
        "verification.incoming_recorded",
        "verification.answer",
    ]


async def test_the_row_is_the_responders_alone(counties: TwoCounties, sign_in: SignIn, database: Database) -> None:
    a, b = counties.a, counties.b
    officer = await sign_in(b, "t1.officer")
    response = await officer.post(
        "/api/v1/verification/incoming",
        json=_incoming(b, channel="phone", arrived_at="2026-02-12T10:05:00+08:00", evidence="电话记录簿第3页"),
    )
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]
    for username in ("t1.officer", "county.sup"):
        a_user = await sign_in(a, username)
        assert (await a_user.get(f"/api/v1/verification/inbox/{request_id}")).status_code == 404
        assert (await a_user.get(f"/api/v1/verification/outbox/{request_id}")).status_code == 404
    # Row-level security: under A's tenant setting the row does not exist.
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, a.tenant.id)
        seen = await session.execute(select(VerificationRequest.id).where(VerificationRequest.id == request_id))
        assert seen.scalar_one_or_none() is None
    # Another township of B does not see it either.
    t2 = await sign_in(b, "t2.officer")
    assert (await t2.get(f"/api/v1/verification/inbox/{request_id}")).status_code == 404


async def test_rejection_of_an_incoming_request_records_the_reply(counties: TwoCounties, sign_in: SignIn) -> None:
    b = counties.b
    officer = await sign_in(b, "t1.officer")
    created = await officer.post(
        "/api/v1/verification/incoming",
        json=_incoming(b, channel="phone", arrived_at="2026-02-12T10:05:00+08:00", evidence="电话记录簿第3页"),
    )
    request_id = created.json()["id"]
    rejected = await officer.post(
        f"/api/v1/verification/inbox/{request_id}/reject",
        json={
            "reason": "本乡镇无此人户籍 / not registered here",
            "reply": {"channel": "phone", "sent_at": "2026-02-13T09:00:00+08:00", "evidence": "电话记录簿第4页"},
        },
    )
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["state"], rejected.json()["answer_channel"]) == ("rejected", "phone")
    assert rejected.json()["answered_on_time"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"channel": "letter", "arrived_at": "2026-02-12T10:00:00+08:00", "evidence": "收文登记第5号"},
            "evidence_document_id",
        ),
        ({"channel": "fax", "arrived_at": "2026-02-12T10:00:00+08:00", "evidence": "传真"}, "evidence_document_id"),
        ({"channel": "phone", "arrived_at": "2026-02-12T10:00:00+08:00"}, "evidence"),
        ({"channel": "phone", "arrived_at": "2099-02-12T10:00:00+08:00", "evidence": "通话记录"}, "arrived_at"),
        ({"channel": "platform", "arrived_at": "2026-02-12T10:00:00+08:00", "evidence": "通话记录"}, "channel"),
    ],
)
async def test_each_channel_needs_its_moment_and_evidence(
    counties: TwoCounties, sign_in: SignIn, body: dict[str, str], field: str
) -> None:
    officer = await sign_in(counties.b, "t1.officer")
    response = await officer.post("/api/v1/verification/incoming", json=_incoming(counties.b, **body))
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"][-1] == field


async def test_a_county_on_the_platform_sends_through_the_platform(counties: TwoCounties, sign_in: SignIn) -> None:
    officer = await sign_in(counties.b, "t1.officer")
    body = _incoming(
        counties.b,
        requester_division_code=counties.a.units["t1"],
        channel="phone",
        arrived_at="2026-02-12T10:00:00+08:00",
        evidence="通话记录",
    )
    response = await officer.post("/api/v1/verification/incoming", json=body)
    assert response.status_code == 422 and response.json()["fields"][0]["loc"][-1] == "requester_division_code"


async def test_only_the_receiving_townships_officers_record_it(counties: TwoCounties, sign_in: SignIn) -> None:
    officer = await sign_in(counties.b, "t2.officer")
    body = _incoming(counties.b, channel="phone", arrived_at="2026-02-12T10:00:00+08:00", evidence="通话记录")
    assert (await officer.post("/api/v1/verification/incoming", json=body)).status_code == 404


async def test_a_scan_uploaded_for_another_request_is_refused(counties: TwoCounties, sign_in: SignIn) -> None:
    b = counties.b
    officer = await sign_in(b, "t1.officer")
    scan = await _scan(officer, b, uuid.uuid4())
    body = _incoming(
        b, id=str(uuid.uuid4()), channel="fax", arrived_at="2026-02-12T10:00:00+08:00", evidence_document_id=scan
    )
    response = await officer.post("/api/v1/verification/incoming", json=body)
    assert response.status_code == 422 and response.json()["fields"][0]["loc"][-1] == "evidence_document_id"


async def test_the_off_platform_senders_timeliness_is_not_scored(counties: TwoCounties, sign_in: SignIn) -> None:
    b = counties.b
    officer = await sign_in(b, "t1.officer")
    created = await officer.post(
        "/api/v1/verification/incoming",
        json=_incoming(b, channel="phone", arrived_at="2026-02-12T10:05:00+08:00", evidence="电话记录簿第3页"),
    )
    assert created.status_code == 201, created.text
    supervisor = await sign_in(b, "county.sup")
    report = (
        await supervisor.get(
            "/api/v1/verification/rates",
            params={"period_start": "2026-02-01", "period_end": "2026-02-28", "counterpart": "650102"},
        )
    ).json()
    assert report["counterpart"]["requests_sent"] == 0 and report["counterpart"]["sent_on_time_rate"] is None
