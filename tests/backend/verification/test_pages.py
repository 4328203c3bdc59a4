"""The inbox and outbox pages page by 50 and keep their filters in the page links."""

from __future__ import annotations

import uuid
from datetime import timedelta

from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import Channel, QuestionType, VerificationKind, VerificationRequest, VerificationState
from tests.backend.verification.conftest import TwoCounties
from tests.fixtures.identity import SignIn


async def _requests(database: Database, counties: TwoCounties, count: int) -> None:
    """`count` pending requests from A's township t1 to B's township t1."""
    a, b = counties.a, counties.b
    now = utc_now()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, a.tenant.id)
        for n in range(count):
            request_id = uuid.uuid4()
            session.add(
                VerificationRequest(
                    id=request_id,
                    tenant_id=a.tenant.id,
                    kind=VerificationKind.request,
                    correlation_id=f"XC-{a.code}-P-{n:03d}-{request_id.hex[:6]}",
                    state=VerificationState.pending,
                    requester_county_code=a.code,
                    requester_unit_code=a.units["t1"],
                    requester_unit_name="一镇",
                    responder_tenant_id=b.tenant.id,
                    responder_county_code=b.code,
                    responder_unit_code=b.units["t1"],
                    subject_name=f"对象{n:03d}",
                    question_type=QuestionType.marital_childbearing,
                    question="请核实",
                    attachment_document_ids=[],
                    channel=Channel.platform,
                    materials_received_at=now,
                    send_due_at=now,
                    sent_at=now,
                    sent_on_time=True,
                    arrived_at=now,
                    answer_due_at=now + timedelta(days=20, minutes=n),
                    expires_at=now + timedelta(days=40),
                    created_by="test",
                )
            )


async def test_inbox_and_outbox_page_beyond_50_rows_keeping_the_filters(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    await _requests(database, counties, 53)
    officer_b = await sign_in(counties.b, "t1.officer")
    first = await officer_b.get("/verification/inbox", params={"state": "pending"})
    assert first.status_code == 200
    assert first.text.count('data-testid="inbox-item"') == 50 and "1 / 2" in first.text
    assert 'href="?state=pending&amp;page=2"' in first.text
    second = await officer_b.get("/verification/inbox", params={"state": "pending", "page": "2"})
    assert second.text.count('data-testid="inbox-item"') == 3 and "2 / 2" in second.text
    assert "对象052" in second.text and "对象000" not in second.text
    assert 'href="?state=pending&amp;page=1"' in second.text

    officer_a = await sign_in(counties.a, "t1.officer")
    outbox = await officer_a.get("/verification/outbox", params={"state": "pending", "page": "2"})
    assert outbox.status_code == 200
    assert outbox.text.count('data-testid="outbox-item"') == 3 and "2 / 2" in outbox.text
    assert 'href="?state=pending&amp;page=1"' in outbox.text
    # A page past the end is empty, not an error.
    assert (await officer_a.get("/verification/outbox", params={"page": "9"})).status_code == 200


async def test_a_supervisor_assigns_an_incoming_request_to_an_officer_of_the_township(
    counties: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    await _requests(database, counties, 1)
    b = counties.b
    officer_id, other_township_officer_id = str(b.users["t1.officer"].id), str(b.users["t2.officer"].id)
    supervisor = await sign_in(b, "t1.sup")
    page = await supervisor.get("/verification/inbox")
    assert page.text.count('data-testid="assign-form"') == 1
    request_id = page.text.split('action="/verification/inbox/')[1].split("/")[0]

    # Someone who cannot answer for this township is refused next to the form, and nothing changes.
    refused = await supervisor.post(
        f"/verification/inbox/{request_id}/assign", data={"assignee_id": other_township_officer_id}
    )
    assert refused.status_code == 422 and "无权反馈此协查" in refused.text
    assigned = await supervisor.post(
        f"/verification/inbox/{request_id}/assign", data={"assignee_id": officer_id}, follow_redirects=False
    )
    # Back to the list at the row just assigned (the page keeps its place).
    assert assigned.status_code == 303
    assert assigned.headers["location"].endswith(f"done=assigned#row-{request_id}")
    shown = await supervisor.get("/verification/inbox")
    assert "（t1.officer）" in _assignee_cell(shown.text, request_id)

    officer = await sign_in(b, "t1.officer")
    mine = await officer.get("/verification/inbox")
    assert 'data-testid="assign-form"' not in mine.text  # officers claim; supervisors assign
    assert (await officer.post(f"/verification/inbox/{request_id}/assign", data={"assignee_id": ""})).status_code == 403
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        row = await session.get(VerificationRequest, uuid.UUID(request_id))
        assert row is not None and str(row.responder_assignee_id) == officer_id

    # Back to the queue.
    back = await supervisor.post(
        f"/verification/inbox/{request_id}/assign", data={"assignee_id": ""}, follow_redirects=True
    )
    assert back.status_code == 200 and "未认领" in _assignee_cell(back.text, request_id)


def _assignee_cell(page: str, request_id: str) -> str:
    """The 经办人 cell of one request's row in the inbox table."""
    return page.split(f'id="row-{request_id}"')[1].split('data-label="经办人">')[1].split("</td>")[0]


async def test_a_hand_edited_page_number_shows_a_page_not_an_error(counties: TwoCounties, sign_in: SignIn) -> None:
    """Every paged list reads `page` the same way (frontend/pages/common.py): garbage is page 1, and a number
    past any real list stays an empty page instead of overflowing the database's OFFSET."""
    officer = await sign_in(counties.b, "t1.officer")
    for path in ("/verification/inbox", "/verification/outbox", "/cases", "/triage"):
        for page in ("99999999999999999999", "abc", "-3", "0"):
            response = await officer.get(path, params={"page": page})
            assert response.status_code == 200, (path, page, response.status_code)
