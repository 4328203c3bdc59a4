"""The case opening's two hand-written statements (docs/adr/0012-lean-case-opening.md, "Second cut"): the number
with the chain head, then the case, its subjects, its audit event and its outbox message. They commit or roll back
with the rest of the request's transaction, and mix with the ordinary audit appends of the same transaction."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from backend.audit import service as audit
from backend.authz.vocabulary import Role
from backend.cases import service, views
from backend.cases.schemas import CaseCreate, CaseSubjectIn
from backend.core import outbox
from backend.core.context import actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.identity.service import principal_for_user, user_actor
from backend.models import Case, OutboxMessage
from tests.backend.cases.conftest import AddPerson
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    return county


async def _counts(database: Database, county: County) -> dict[str, int]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        return {
            table: (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in ("cases", "case_subjects", "audit_events", "outbox_messages", "case_counters")
        }


async def _verified(database: Database, county: County) -> audit.ChainVerification:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        return await audit.verify_chain(session)


def _create(county: County, person_id: uuid.UUID | None = None) -> CaseCreate:
    subjects = [CaseSubjectIn(person_id=person_id, part="applicant")] if person_id else []
    return CaseCreate(case_type="inflow_registration", org_unit_code=county.units["v11"], subjects=subjects)


async def test_the_case_its_subjects_audit_event_and_outbox_message_are_written_together(
    database: Database, county: County, sign_in: SignIn, add_person: AddPerson
) -> None:
    officer = await sign_in(county, "t1.officer")
    person = await add_person(county, "王芳")
    response = await officer.post(
        "/api/v1/cases",
        json={
            "case_type": "inflow_registration",
            "org_unit_code": county.units["v11"],
            "subjects": [{"person_id": str(person.id), "part": "applicant"}],
        },
    )
    assert response.status_code == 201, response.text
    opened = response.json()
    assert opened["subjects"] == [{"person_id": str(person.id), "part": "applicant"}]
    assert opened["version"] == 1
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        events = await audit.AuditRepository(session).list_for_entity("case", opened["id"])
        (message,) = (await session.execute(text("SELECT id FROM outbox_messages"))).scalars().all()
        stored = await outbox.get_message(session, message)
        case = await session.get(Case, uuid.UUID(opened["id"]))
    assert case is not None and case.number == opened["number"] and case.primary_person_id == person.id
    (event,) = events
    assert (event.action, event.correlation_id, event.org_unit_code) == ("case.open", case.number, county.units["v11"])
    assert event.changes["title"] == [None, opened["title"]] and event.changes["version"] == [None, 1]
    assert isinstance(stored, OutboxMessage)
    payload = outbox.payload_of(stored)
    assert isinstance(payload, outbox.StartCase) and payload.plan is not None
    assert (payload.tenant_id, payload.tenant_code, payload.case_id, payload.case_number) == (
        county.tenant.id,
        county.code,
        case.id,
        case.number,
    )
    # The first plan is built from the case as stored (its defaults included), as the workflow would read it.
    assert (payload.plan["stage"], payload.plan["escalation_level"], payload.plan["extension_used"]) == (
        case.stage.value,
        0,
        False,
    )
    assert (await _verified(database, county)).ok


async def test_a_failure_after_the_insert_leaves_nothing_behind(
    database: Database, county: County, add_person: AddPerson
) -> None:
    person = await add_person(county, "李娜")
    before = await _counts(database, county)
    actor_var.set(user_actor(county.users["t1.officer"]))
    async with database.sessionmaker() as session:
        with pytest.raises(RuntimeError, match="after the insert"):
            async with session.begin():
                await set_tenant(session, county.tenant.id)
                principal = await principal_for_user(session, county.users["t1.officer"], None, county.code)
                case = await service.open_case(session, principal, _create(county, person.id))
                assert case.number.endswith("-000001")
                raise RuntimeError("after the insert")
    assert await _counts(database, county) == before
    assert (await _verified(database, county)).ok


async def test_a_request_failing_after_the_insert_answers_500_and_stores_nothing(
    database: Database, county: County, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    officer = await sign_in(county, "t1.officer")
    before = await _counts(database, county)

    async def broken(*_args: object, **_kwargs: object) -> views.CaseView:
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(views, "opened_case_view", broken)
    response = await officer.post(
        "/api/v1/cases", json={"case_type": "inflow_registration", "org_unit_code": county.units["v11"]}
    )
    assert response.status_code == 500
    assert await _counts(database, county) == before
    monkeypatch.undo()
    again = await officer.post(
        "/api/v1/cases", json={"case_type": "inflow_registration", "org_unit_code": county.units["v11"]}
    )
    assert again.status_code == 201 and again.json()["number"].endswith("-000001")


async def test_ordinary_appends_before_and_after_the_opening_in_one_transaction_make_one_chain(
    database: Database, county: County
) -> None:
    actor_var.set(user_actor(county.users["t1.officer"]))
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        principal = await principal_for_user(session, county.users["t1.officer"], None, county.code)
        first = await audit.record(session, action="test.before", entity_type="test", entity_id="1")
        case = await service.open_case(session, principal, _create(county))
        last = await audit.record(session, action="test.after", entity_type="test", entity_id="2")
        # The opened case belongs to the session as stored: a change to it is an ordinary versioned UPDATE.
        case.title = "改过的标题"
        await session.flush()
        assert case.version == 2
    assert last.seq == first.seq + 2
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        events = await audit.AuditRepository(session).list_recent(3)
        stored = await session.get(Case, case.id)
    assert [event.action for event in reversed(events)] == ["test.before", "case.open", "test.after"]
    assert stored is not None and stored.title == "改过的标题"
    assert (await _verified(database, county)).ok
