"""The to-do list (我的待办) of each kind: the item reaches exactly the people whose work it is (mirroring the
notification rules), never a sibling township's people or another county's; items are ordered overdue first,
then by due moment; the header's count and the API agree."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, update

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.identity.service import principal_for_user
from backend.models import CaseStage, User
from backend.todo import service
from frontend.i18n import LOCALE_COOKIE
from tests.backend.notifications.conftest import Relay
from tests.backend.todo.conftest import add_case, add_triage, references, send_request, sign, todo
from tests.backend.verification.conftest import TwoCounties
from tests.fixtures.identity import County, SignIn

EVERYONE = ("t1.officer", "t1.sup", "t2.officer", "t2.sup", "v11.coord", "county.sup")


async def _holders(sign_in: SignIn, county: County, reference: str, among: tuple[str, ...] = EVERYONE) -> set[str]:
    """Who among EVERYONE of the county has the item in her to-do list."""
    holding = set()
    for username in among:
        if reference in await references(await sign_in(county, username)):
            holding.add(username)
    return holding


async def test_an_assigned_case_waits_for_its_assignee_only(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    case = await add_case(database, a, "complaint", unit="v11", assignee="v11.coord")
    assert await _holders(sign_in, a, case.number) == {"v11.coord"}
    assert await _holders(sign_in, b, case.number) == set()
    listed = await todo(await sign_in(a, "v11.coord"))
    assert listed["counts"]["case"] == 1
    item = listed["items"][0]
    assert item["kind"] == "case" and item["link"] == f"/cases/{case.id}" and item["title"] == "待办事项"


async def test_a_closed_case_is_no_longer_waiting(people: TwoCounties, sign_in: SignIn, database: Database) -> None:
    a = people.a
    case = await add_case(database, a, "complaint", assignee="t1.officer", stage=CaseStage.closed)
    assert await _holders(sign_in, a, case.number) == set()


async def test_a_request_from_another_county_waits_for_the_receiving_townships_officer_until_answered(
    people: TwoCounties, sign_in: SignIn, relay: Relay
) -> None:
    a, b = people.a, people.b
    sent = await send_request(await sign_in(a, "t1.officer"), a.units["v11"], b.units["t1"])
    reference = str(sent["correlation_id"])
    assert await _holders(sign_in, b, reference) == {"t1.officer"}  # no relay needed: the row is shared
    assert await _holders(sign_in, a, reference) == set()  # the sender's outbox is not her to-do
    officer = await sign_in(b, "t1.officer")
    item = (await todo(officer, "inbox"))["items"][0]
    assert item["link"] == f"/verification/inbox?q={reference}" and item["due_at"]
    answered = await officer.post(f"/api/v1/verification/inbox/{sent['id']}/answer", json={"answer": "属实"})
    assert answered.status_code == 200, answered.text
    assert await _holders(sign_in, b, reference) == set()


async def test_an_unassigned_request_in_a_township_without_officers_waits_for_its_supervisor(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        await session.execute(update(User).where(User.id == b.users["t2.officer"].id).values(active=False))
    sent = await send_request(await sign_in(a, "t1.officer"), a.units["v11"], b.units["t2"])
    present = tuple(name for name in EVERYONE if name != "t2.officer")
    holders = await _holders(sign_in, b, str(sent["correlation_id"]), present)
    assert holders == {"t2.sup"}


async def test_a_department_notification_to_triage_waits_for_its_townships_officer(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    case = await add_triage(database, a, "t1")
    assert await _holders(sign_in, a, case.number) == {"t1.officer"}
    assert await _holders(sign_in, b, case.number) == set()
    item = (await todo(await sign_in(a, "t1.officer"), "triage"))["items"][0]
    assert item["link"] == "/triage"


async def test_a_followup_nobody_took_waits_for_the_townships_officer_and_then_for_its_assignee(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    inspection = await add_case(database, a, "certificate_inspection", unit="v11", title="婚育证明年度查验：甲")
    renewal = await add_case(database, a, "agreement_renewal", unit="t2")
    taken = await add_case(database, a, "follow_up_visit", unit="v11", assignee="v11.coord")
    assert await _holders(sign_in, a, inspection.number) == {"t1.officer"}
    assert await _holders(sign_in, a, renewal.number) == {"t2.officer"}
    assert await _holders(sign_in, a, taken.number) == {"v11.coord"}
    assert await _holders(sign_in, b, inspection.number) == set()
    kinds = {item["reference"]: item["kind"] for item in (await todo(await sign_in(a, "t1.officer")))["items"]}
    assert kinds == {inspection.number: "followup"}


async def test_an_open_case_nobody_took_waits_for_its_townships_officer_until_she_takes_it(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    case = await add_case(database, a, "inflow_registration", unit="v11", title="流入登记：乙")
    assert await _holders(sign_in, a, case.number) == {"t1.officer"}  # not t2's people, not the village
    assert await _holders(sign_in, b, case.number) == set()
    officer = await sign_in(a, "t1.officer")
    kinds = {item["reference"]: item["kind"] for item in (await todo(officer))["items"]}
    assert kinds == {case.number: "unassigned"}
    assert (await officer.post(f"/api/v1/cases/{case.id}/claim")).status_code == 200
    kinds = {item["reference"]: item["kind"] for item in (await todo(officer))["items"]}
    assert kinds == {case.number: "case"}  # hers now, once
    assert await _holders(sign_in, a, case.number) == {"t1.officer"}


async def test_a_review_waits_for_the_supervisors_who_may_give_it_and_never_for_a_signer_of_the_case(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    case = await add_case(database, a, "only_child_reward", unit="v11", stage=CaseStage.audit, assignee="t1.officer")
    await sign(database, a, case, "investigate", "t1.officer", "verification")
    # Review (case.assign over the case's unit): the township's and the county's supervisors; not the sibling's.
    assert await _holders(sign_in, a, case.number) == {"t1.officer", "t1.sup", "county.sup"}
    assert (await todo(await sign_in(a, "t1.sup"), "signoff"))["total"] == 1
    assert (await todo(await sign_in(a, "t1.officer"), "signoff"))["total"] == 0  # hers as the assignee: `case`
    await sign(database, a, case, "review", "t1.sup", "audit")
    # Sign (case.approve): the county supervisor; the reviewer never signs a second step of the case.
    assert await _holders(sign_in, a, case.number) == {"t1.officer", "county.sup"}
    assert await _holders(sign_in, b, case.number) == set()


async def test_items_are_ordered_overdue_first_then_by_due_moment(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a = people.a
    later = await add_case(database, a, "complaint", assignee="t1.officer", due_in=timedelta(days=9))
    overdue = await add_case(database, a, "complaint", assignee="t1.officer", due_in=timedelta(days=-2))
    inspection = await add_case(database, a, "certificate_inspection", due_in=timedelta(days=1))
    triage = await add_triage(database, a, due_in=timedelta(days=-1))
    listed = await todo(await sign_in(a, "t1.officer"))
    assert [item["reference"] for item in listed["items"]] == [
        overdue.number,
        triage.number,
        inspection.number,
        later.number,
    ]
    assert [item["overdue"] for item in listed["items"]] == [True, True, False, False]
    assert listed["counts"] == {
        "case": 2,
        "escalated": 0,
        "inbox": 0,
        "triage": 1,
        "followup": 1,
        "signoff": 0,
        "unassigned": 0,
    }
    assert listed["total"] == 4


async def test_an_unknown_kind_is_refused_in_both_languages(people: TwoCounties, sign_in: SignIn) -> None:
    response = await (await sign_in(people.a, "t1.officer")).get("/api/v1/me/todo", params={"kind": "everything"})
    assert response.status_code == 422
    body = response.json()
    assert body["fields"][0]["loc"][-1] == "kind"
    assert " / " in body["detail"] or " / " in body["fields"][0]["msg"]


async def test_the_page_and_the_header_count_show_the_same_figure(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a = people.a
    await add_case(database, a, "complaint", assignee="t1.officer")
    await add_triage(database, a)
    client = await sign_in(a, "t1.officer")
    page = await client.get("/todo")
    assert page.status_code == 200
    assert 'data-testid="todo-total">2<' in page.text
    assert page.text.count('data-testid="todo-item"') == 2
    assert '<a href="/todo"' in page.text  # in the navigation and the header
    count = await client.get("/todo/count", headers={"HX-Request": "true"})
    assert 'data-testid="todo-count">2<' in count.text
    assert "<script" not in count.text and "style=" not in count.text
    client.cookies.set(LOCALE_COOKIE, "en")
    english = await client.get("/todo")
    assert english.status_code == 200 and "My to-do" in english.text


async def test_every_role_has_the_to_do_page_in_its_navigation(people: TwoCounties, sign_in: SignIn) -> None:
    for username in EVERYONE:
        page = await (await sign_in(people.a, username)).get("/dashboard")
        assert 'href="/todo"' in page.text, username


async def test_a_user_with_nothing_waiting_sees_an_empty_list(people: TwoCounties, sign_in: SignIn) -> None:
    client = await sign_in(people.b, "v11.coord")
    assert await todo(client) == {
        "total": 0,
        "counts": {"case": 0, "escalated": 0, "inbox": 0, "triage": 0, "followup": 0, "signoff": 0, "unassigned": 0},
        "items": [],
        "truncated": False,
    }
    page = await client.get("/todo")
    assert "没有待办事项。" in page.text


async def test_the_header_count_is_one_query(people: TwoCounties, database: Database) -> None:
    a = people.a
    await add_case(database, a, "complaint", unit="t2", assignee="t2.sup")
    await add_triage(database, a, "t2")
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, a.tenant.id)
        principal = await principal_for_user(session, a.users["t2.sup"], None, a.code)
        statements: list[str] = []

        def seen(*args: object) -> None:
            statements.append(str(args[2]))

        connection = await session.connection()
        event.listen(connection.sync_connection, "before_cursor_execute", seen)
        try:
            counts = await service.counts(session, principal)
        finally:
            event.remove(connection.sync_connection, "before_cursor_execute", seen)
    assert len(statements) == 1
    # Her township has an officer: its unassigned triage is the officer's, not the supervisor's.
    assert counts.model_dump() == {
        "case": 1,
        "escalated": 0,
        "inbox": 0,
        "triage": 0,
        "followup": 0,
        "signoff": 0,
        "unassigned": 0,
    }


async def test_an_escalated_case_waits_for_the_supervisor_of_its_rung(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    late = timedelta(days=-6)
    rung2 = await add_case(database, a, "complaint", unit="v11", due_in=late, escalation_level=2, assignee="v11.coord")
    rung3 = await add_case(database, a, "complaint", unit="t2", due_in=late, escalation_level=3)
    assert await _holders(sign_in, a, rung2.number) == {"v11.coord", "t1.sup"}  # hers as assignee, his as rung 2
    # The county supervisor's as rung 3 (not the township supervisor's any more); nobody took it, so it also waits
    # for its township's officer to take it.
    assert await _holders(sign_in, a, rung3.number) == {"county.sup", "t2.officer"}
    assert await _holders(sign_in, b, rung3.number) == set()
    item = (await todo(await sign_in(a, "county.sup"), "escalated"))["items"][0]
    assert item["reference"] == rung3.number and item["overdue"] is True
