"""Cases through the API: opening with due dates, queues and search, assignment, optimistic locking, stages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from backend.authz.vocabulary import Role
from backend.cases import deadlines
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from tests.backend.cases.conftest import AddPerson
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county
from workflows.cases.types import AlertKind, RaiseAlertInput

RESIDENT_ID = "11010519491231002X"


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "v11.coord", "v11", [(Role.village_coordinator, "v11")])
    await add_user(database, county, "v12.coord", "v12", [(Role.village_coordinator, "v12")])
    await add_user(database, county, "t1.officer", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t1.officer2", "t1", [(Role.township_officer, "t1")])
    await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
    await add_user(database, county, "t2.officer", "t2", [(Role.township_officer, "t2")])
    return county


async def _open(client: httpx.AsyncClient, county: County, unit: str = "v11", **body: object) -> httpx.Response:
    return await client.post(
        "/api/v1/cases", json={"case_type": "inflow_registration", "org_unit_code": county.units[unit], **body}
    )


class TestOpening:
    async def test_case_is_numbered_and_gets_its_first_due_date(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        person = await add_person(county, "王芳")
        response = await _open(
            officer,
            county,
            case_type="first_child_registration",
            subjects=[{"person_id": str(person.id), "part": "applicant"}],
            received_at="2026-02-12T10:00:00+08:00",
        )
        assert response.status_code == 201, response.text
        case = response.json()
        assert case["number"] == f"{county.code}-2026-000001"
        assert case["stage"] == "registration" and case["subject_name"] == "王芳"
        # 7 working days from 2026-02-12 (the day itself not counted) end on the make-up Saturday 2026-02-28.
        assert case["due_at"] == "2026-02-28T15:59:59Z" and case["due_provisional"] is False
        second = (await _open(officer, county)).json()
        assert second["number"] == f"{county.code}-2026-000002" or second["number"].endswith("-000001")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"case_type": "social_maintenance_fee"}, "case_type"),
            ({"case_type": "no_such_type"}, "case_type"),
            ({"org_unit_code": "110101001"}, "org_unit_code"),
            ({"received_at": "2026-02-12T10:00:00"}, "received_at"),
        ],
    )
    async def test_bad_cases_are_refused_naming_the_field(
        self, county: County, sign_in: SignIn, body: dict[str, str], field: str
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        response = await officer.post(
            "/api/v1/cases", json={"case_type": "inflow_registration", "org_unit_code": county.units["v11"], **body}
        )
        assert response.status_code == 422, response.text
        assert response.json()["fields"][0]["loc"][-1] == field

    async def test_subject_outside_reach_is_refused(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "t2.officer")
        person = await add_person(county, "李娜", "v11")
        response = await _open(officer, county, "t2", subjects=[{"person_id": str(person.id)}])
        assert response.json()["fields"][0]["loc"] == ["body", "subjects.0.person_id"]

    async def test_subjects_are_found_by_id_number_within_reach(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        """A subject may be named by its ID number instead of its id (as typed: lower-case x); a number of nobody in
        reach, or the same person twice, is refused at that subject."""
        officer = await sign_in(county, "t1.officer")
        person = await add_person(county, "张三丰", resident_id=RESIDENT_ID)
        opened = await _open(officer, county, subjects=[{"resident_id": "11010519491231002x", "part": "applicant"}])
        assert opened.status_code == 201, opened.text
        assert opened.json()["subjects"] == [{"person_id": str(person.id), "part": "applicant"}]
        outsider = await sign_in(county, "t2.officer")
        refused = await _open(outsider, county, "t2", subjects=[{"resident_id": RESIDENT_ID}])
        assert refused.status_code == 422
        assert refused.json()["fields"][0]["loc"] == ["body", "subjects.0.resident_id"]
        twice = [{"person_id": str(person.id)}, {"resident_id": RESIDENT_ID, "part": "spouse"}]
        repeated = await _open(officer, county, subjects=twice)
        assert repeated.status_code == 422
        assert repeated.json()["fields"][0]["loc"] == ["body", "subjects.1.resident_id"]


class TestQueues:
    async def test_subtrees_and_counties_never_mix(
        self, county: County, sign_in: SignIn, database: Database, tenant_factory: TenantFactory
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        in_v11 = (await _open(officer, county, "v11")).json()
        in_v12 = (await _open(officer, county, "v12")).json()
        coordinator = await sign_in(county, "v11.coord")
        listed = (await coordinator.get("/api/v1/cases")).json()
        assert [item["id"] for item in listed["items"]] == [in_v11["id"]] and listed["total"] == 1
        assert (await coordinator.get(f"/api/v1/cases/{in_v12['id']}")).status_code == 404
        other = await build_county(database, tenant_factory)
        await add_user(database, other, "officer", "t1", [(Role.township_officer, "t1")])
        foreign = await sign_in(other, "officer")
        assert (await foreign.get(f"/api/v1/cases/{in_v11['id']}")).status_code == 404
        assert (await foreign.get("/api/v1/cases")).json()["total"] == 0

    async def test_search_by_chinese_name_pinyin_and_exact_id(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        zhang = await add_person(county, "张三丰", resident_id=RESIDENT_ID)
        li = await add_person(county, "李四")
        for person in (zhang, li):
            await _open(officer, county, subjects=[{"person_id": str(person.id)}])

        async def names(**params: str) -> list[str]:
            return [
                item["subject_name"] for item in (await officer.get("/api/v1/cases", params=params)).json()["items"]
            ]

        assert await names(q="张三") == ["张三丰"]
        assert await names(q="Zhang San") == ["张三丰"]
        assert await names(q="lisi") == ["李四"]
        assert await names(resident_id="11010519491231002x") == ["张三丰"]
        assert await names(resident_id="110105194912310039") == []

    async def test_filters_and_sort(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "t1.officer")
        first = (await _open(officer, county, case_type="complaint", priority="urgent")).json()
        await _open(officer, county, case_type="inflow_registration")
        await officer.post(f"/api/v1/cases/{first['id']}/claim")
        mine = (await officer.get("/api/v1/cases", params={"assignee": "me"})).json()
        assert [item["id"] for item in mine["items"]] == [first["id"]]
        unassigned = (await officer.get("/api/v1/cases", params={"assignee": "none"})).json()
        assert first["id"] not in {item["id"] for item in unassigned["items"]}
        by_type = (await officer.get("/api/v1/cases", params={"case_type": "complaint"})).json()
        assert by_type["total"] == 1
        by_priority = (await officer.get("/api/v1/cases", params={"sort": "-priority"})).json()
        assert by_priority["items"][0]["id"] == first["id"]
        bad = await officer.get("/api/v1/cases", params={"sort": "drop table"})
        assert bad.status_code == 422


class TestAssignment:
    async def test_supervisor_assigns_and_bulk_reassigns(self, county: County, sign_in: SignIn) -> None:
        officer, supervisor = await sign_in(county, "t1.officer"), await sign_in(county, "t1.sup")
        cases = [(await _open(officer, county)).json() for _ in range(3)]
        target = county.users["t1.officer2"].id
        response = await supervisor.post(
            "/api/v1/cases/bulk-reassign", json={"case_ids": [c["id"] for c in cases], "assignee_id": str(target)}
        )
        assert response.json() == {"reassigned": 3}
        second = await sign_in(county, "t1.officer2")
        assert (await second.get("/api/v1/cases", params={"assignee": "me"})).json()["total"] == 3
        workload = (await supervisor.get("/api/v1/cases/workload")).json()
        assert {"assignee_id": str(target), "open_cases": 3, "overdue_cases": 0, "due_within_3_days": 0} in workload

    async def test_bulk_reassign_is_all_or_nothing(self, county: County, sign_in: SignIn) -> None:
        officer, other_officer = await sign_in(county, "t1.officer"), await sign_in(county, "t2.officer")
        mine = (await _open(officer, county)).json()
        outside = (await _open(other_officer, county, "t2")).json()
        supervisor = await sign_in(county, "t1.sup")
        response = await supervisor.post(
            "/api/v1/cases/bulk-reassign",
            json={"case_ids": [mine["id"], outside["id"]], "assignee_id": str(county.users["t1.officer2"].id)},
        )
        assert response.status_code == 422
        assert response.json()["fields"][0]["loc"] == ["body", "case_ids.1"]
        assert (await supervisor.get(f"/api/v1/cases/{mine['id']}")).json()["assignee_id"] is None

    async def test_assignee_must_be_able_to_work_the_case(self, county: County, sign_in: SignIn) -> None:
        officer, supervisor = await sign_in(county, "t1.officer"), await sign_in(county, "t1.sup")
        case = (await _open(officer, county, "v11")).json()
        response = await supervisor.post(
            f"/api/v1/cases/{case['id']}/assign", json={"assignee_id": str(county.users["v12.coord"].id)}
        )
        assert response.json()["fields"][0]["loc"] == ["body", "assignee_id"]
        coordinator = await sign_in(county, "v11.coord")
        assert (
            await coordinator.post(f"/api/v1/cases/{case['id']}/assign", json={"assignee_id": None})
        ).status_code == 403


class TestOptimisticLock:
    async def test_second_editor_gets_409_with_what_changed_and_nothing_is_lost(
        self, county: County, sign_in: SignIn
    ) -> None:
        first, second = await sign_in(county, "t1.officer"), await sign_in(county, "t1.officer2")
        case = (await _open(first, county)).json()
        saved = await first.patch(
            f"/api/v1/cases/{case['id']}", json={"version": case["version"], "priority": "high", "title": "补登：王芳"}
        )
        assert saved.status_code == 200
        stale = await second.patch(f"/api/v1/cases/{case['id']}", json={"version": case["version"], "priority": "low"})
        assert stale.status_code == 409
        body = stale.json()
        assert body["error"] == "STALE_VERSION"
        assert body["changed"]["priority"] == ["normal", "high"]
        assert body["changed"]["title"][1] == "补登：王芳"
        assert body["changed_by"] == ["t1.officer (t1.officer)"]
        assert (body["current"]["priority"], body["current"]["title"]) == ("high", "补登：王芳")
        current = (await second.get(f"/api/v1/cases/{case['id']}")).json()
        assert (current["priority"], current["title"]) == ("high", "补登：王芳")


class TestStages:
    async def test_actions_are_checked_then_handed_to_the_workflow(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "t1.officer")
        case = (await _open(officer, county)).json()
        url = f"/api/v1/cases/{case['id']}/actions"
        no_outcome = await officer.post(url, json={"version": case["version"], "action": "close"})
        assert (no_outcome.status_code, no_outcome.json()["fields"][0]["loc"]) == (422, ["body", "outcome"])
        no_reason = await officer.post(url, json={"version": case["version"], "action": "refuse"})
        assert no_reason.json()["fields"][0]["loc"] == ["body", "reason"]
        stale = await officer.post(url, json={"version": case["version"] - 1, "action": "advance"})
        assert stale.status_code == 409
        accepted = await officer.post(url, json={"version": case["version"], "action": "advance"})
        assert accepted.status_code == 202
        request_id = accepted.json()["request_id"]
        status = await officer.get(f"{url}/{request_id}")
        assert status.json() == {"request_id": request_id, "status": "pending", "result": None}
        # The stage moves only when the workflow applies the action: the API never moves it on the row.
        assert (await officer.get(f"/api/v1/cases/{case['id']}")).json()["stage"] == case["stage"]

    async def test_the_direct_stage_move_is_gone(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "t1.officer")
        case = (await _open(officer, county)).json()
        moved = await officer.post(
            f"/api/v1/cases/{case['id']}/transition", json={"version": case["version"], "to_stage": "verification"}
        )
        assert moved.status_code in (404, 405)

    async def test_links(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "t1.officer")
        first, second = (await _open(officer, county)).json(), (await _open(officer, county)).json()
        linked = await officer.post(
            f"/api/v1/cases/{first['id']}/links", json={"linked_case_id": second["id"], "kind": "follow_up"}
        )
        assert linked.json()["links"] == [{"linked_case_id": second["id"], "kind": "follow_up"}]
        again = await officer.post(f"/api/v1/cases/{first['id']}/links", json={"linked_case_id": second["id"]})
        assert again.status_code == 422


class TestArrival:
    async def test_registered_mail_starts_the_clock_on_the_signed_for_date(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        response = await _open(
            officer,
            county,
            "t1",
            case_type="first_child_registration",
            arrival={
                "channel": "registered_mail",
                "at": "2026-02-12T00:00:00+08:00",
                "evidence": "挂号信 XA123456789CN",
            },
        )
        assert response.status_code == 201, response.text
        case = response.json()
        assert case["received_at"] == "2026-02-11T16:00:00Z"
        assert case["due_at"] == "2026-02-28T15:59:59Z"  # 7 working days from the signed-for date
        assert case["details"]["arrival"]["channel"] == "registered_mail"

    @pytest.mark.parametrize(
        ("arrival", "field"),
        [
            ({"channel": "fax", "evidence": "传真页眉"}, "arrival.at"),
            ({"channel": "phone", "at": "2026-02-12T10:00:00+08:00"}, "arrival.evidence"),
            # A future arrival is refused at its own field by the input policy (past-only moments).
            ({"channel": "registered_mail", "at": "2099-01-01T00:00:00+08:00", "evidence": "挂号信"}, "arrival.at"),
        ],
    )
    async def test_letter_fax_and_phone_need_their_time_and_evidence(
        self, county: County, sign_in: SignIn, arrival: dict[str, str], field: str
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        response = await _open(officer, county, "t1", arrival=arrival)
        assert response.status_code == 422
        assert ".".join(response.json()["fields"][0]["loc"][1:]) == field


class TestAlerts:
    async def test_the_case_shows_the_alerts_its_deadline_raised(
        self, county: County, sign_in: SignIn, database: Database
    ) -> None:
        officer = await sign_in(county, "t1.officer")
        case = (
            await _open(
                officer,
                county,
                "t1",
                case_type="first_child_registration",
                received_at="2026-02-12T10:00:00+08:00",
            )
        ).json()
        assert case["alerts"] == []
        actor_var.set(SYSTEM_ACTOR)
        now = datetime.now(UTC)
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, county.tenant.id)
            plan = await deadlines.load_plan(session, uuid.UUID(case["id"]), now)
            assert plan.deadline_key is not None and plan.due_at is not None
            overdue = next(alert for alert in plan.alerts if alert.kind == AlertKind.overdue)
            await deadlines.raise_alert(
                session,
                RaiseAlertInput(
                    tenant_id=county.tenant.id,
                    case_id=uuid.UUID(case["id"]),
                    deadline_key=plan.deadline_key,
                    due_at=plan.due_at,
                    alert=overdue,
                    now=now,
                ),
            )
        shown = (await officer.get(f"/api/v1/cases/{case['id']}")).json()
        assert shown["overdue"] is True
        assert [(alert["kind"], alert["level"], alert["deadline_key"]) for alert in shown["alerts"]] == [
            ("overdue", 1, plan.deadline_key)
        ]
        assert shown["alerts"][0]["recipient_unit_code"].startswith(county.units["t1"])
