"""Clean-up campaigns (清理清查) through the API: planning draws each village's work list from the registry; a
finding "left" deregisters the person and sends the departure notice to her registration county; a move within
the county, a new arrival and a walked house change the registry through its own services; bad input is refused
at its field with nothing written; progress per village and the report; reach."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from backend.core.clock import china_today
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import (
    Certificate,
    CertificateStatus,
    FlowDirection,
    Occupancy,
    Person,
    PersonStatus,
    RentalHouse,
    Sex,
    VerificationKind,
    VerificationRequest,
)
from tests.fixtures.identity import County, SignIn
from tests.fixtures.village import Village, resident_id

TODAY = china_today()
LONG_AGO = datetime.now(UTC) - timedelta(days=400)


async def plan(client: httpx.AsyncClient, county: County, **fields: Any) -> httpx.Response:
    body = {
        "name": "2026年第四季度联合大清查",
        "kind": "quarterly",
        "period_start": (TODAY - timedelta(days=5)).isoformat(),
        "period_end": (TODAY + timedelta(days=20)).isoformat(),
        "org_unit_code": county.units["t1"],
    } | fields
    return await client.post("/api/v1/campaigns", json=body)


async def finding(client: httpx.AsyncClient, item_id: str, **fields: Any) -> httpx.Response:
    return await client.post(
        f"/api/v1/campaigns/items/{item_id}/finding", json={"found_on": TODAY.isoformat()} | fields
    )


async def _old(village: Village, county: County, name: str, **fields: Any) -> Person:
    return await village.person(county, name, registered_at=LONG_AGO, flow_date=LONG_AGO.date(), **fields)


async def _house(village: Village, county: County, address: str, unit: str = "v11") -> RentalHouse:
    house = RentalHouse(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        org_unit_code=county.units[unit],
        address=address,
        owner_name="房东",
        business_type="residential",
        active=True,
    )
    await village.add(county, house)
    return house


async def _items(client: httpx.AsyncClient, campaign_id: str, **params: str) -> dict[str, dict[str, Any]]:
    listed = (await client.get(f"/api/v1/campaigns/{campaign_id}/items", params=params)).json()
    return {item["person_name"] or item["house_address"]: item for item in listed}


async def test_planning_draws_each_villages_work_list_from_the_registry(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    await _old(village, service_county, "久未见")  # v11, not seen for over a year
    uninspected = await village.person(service_county, "未查验")  # v11, seen now, never inspected
    expired_holder = await village.person(service_county, "证过期", unit="v12", sex=Sex.male)
    await village.add(
        service_county,
        Certificate(
            id=uuid.uuid4(),
            tenant_id=service_county.tenant.id,
            person_id=expired_holder.id,
            number="HY-EXPIRED-1",
            issue_date=TODAY - timedelta(days=1200),
            issuing_unit_code="110101001",
            issuing_unit_name="东华门街道",
            permanent=False,
            valid_until=TODAY - timedelta(days=100),
            status=CertificateStatus.valid,
            org_unit_code=expired_holder.org_unit_code,
        ),
    )
    await village.person(service_county, "新登记", sex=Sex.male)  # seen now, nothing to check: not listed
    await _old(village, service_county, "别的乡镇", unit="v21")  # outside the planning township
    await _old(village, service_county, "外出", flow=FlowDirection.outflow)  # lives elsewhere
    await _house(village, service_county, "一村东街1号")
    officer = await sign_in(service_county, "officer")

    planned = await plan(officer, service_county)

    assert planned.status_code == 201, planned.text
    campaign = planned.json()
    assert [village["org_unit_code"] for village in campaign["villages"]] == [
        service_county.units["v11"],
        service_county.units["v12"],
    ]
    assert [(village["items"], village["recorded"]) for village in campaign["villages"]] == [(3, 0), (1, 0)]
    items = await _items(officer, campaign["id"])
    assert {name: sorted(item["reasons"]) for name, item in items.items()} == {
        "久未见": ["not_seen", "uninspected_certificate"],
        "未查验": ["uninspected_certificate"],
        "证过期": ["expired_certificate"],
        "一村东街1号": ["house_not_visited"],
    }
    assert items["未查验"]["person_id"] == str(uninspected.id)

    coordinator = await sign_in(service_county, "coord11")
    assert (await plan(coordinator, service_county, org_unit_code=service_county.units["v11"])).status_code == 403
    county_wide = await plan(officer, service_county, org_unit_code=service_county.code)
    assert county_wide.status_code == 422 and county_wide.json()["fields"][0]["loc"] == ["body", "org_unit_code"]
    backwards = await plan(officer, service_county, period_end=(TODAY - timedelta(days=30)).isoformat())
    assert backwards.status_code == 422 and backwards.json()["fields"][0]["loc"] == ["body", "period_end"]


async def test_a_finding_left_departs_the_person_and_tells_her_registration_county(
    village: Village, service_county: County, other_county: County, sign_in: SignIn, database: Database
) -> None:
    leaver = await _old(
        village,
        service_county,
        "王芳",
        number=resident_id(31),
        registration=other_county.units["v11"],
    )
    house = await _house(village, service_county, "一村东街1号")
    await village.add(
        service_county,
        Occupancy(
            id=uuid.uuid4(),
            tenant_id=service_county.tenant.id,
            kind="tenant",
            house_id=house.id,
            person_id=leaver.id,
            org_unit_code=house.org_unit_code,
            moved_in_on=TODAY - timedelta(days=200),
        ),
    )
    officer = await sign_in(service_county, "officer")
    campaign = (await plan(officer, service_county)).json()
    coordinator = await sign_in(service_county, "coord11")
    item = (await _items(coordinator, campaign["id"]))["王芳"]

    recorded = await finding(coordinator, item["id"], finding="left", notes="已回户籍地")

    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["finding"] == "left" and recorded.json()["notice_correlation_id"]
    (person,) = await village.rows(service_county, select(Person).where(Person.id == leaver.id))
    assert person.status is PersonStatus.departed
    (tenancy,) = await village.rows(service_county, select(Occupancy).where(Occupancy.person_id == leaver.id))
    assert tenancy.moved_out_on == TODAY
    # The registration county has the departure notice in its inbox, addressed to its township.
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, other_county.tenant.id)
        notices = (
            (
                await session.execute(
                    select(VerificationRequest).where(
                        VerificationRequest.kind == VerificationKind.notice,
                        VerificationRequest.correlation_id == recorded.json()["notice_correlation_id"],
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [(notice.question_type.value, notice.subject_name, notice.responder_unit_code) for notice in notices] == [
        ("inflow_left", "王芳", other_county.units["t1"])
    ]
    report = (await officer.get(f"/api/v1/campaigns/{campaign['id']}/report")).json()
    assert (report["departures"], report["notices_sent"], report["recorded"]) == (1, 1, 1)
    again = await finding(coordinator, item["id"], finding="present")
    assert again.status_code == 409


async def test_the_findings_register_lists_each_visit_recorded_in_reach(
    village: Village, service_county: County, other_county: County, sign_in: SignIn
) -> None:
    await _old(village, service_county, "王芳", number=resident_id(32))
    await _old(village, service_county, "赵敏", unit="v12")
    await _house(village, service_county, "一村东街2号")
    officer = await sign_in(service_county, "officer")
    campaign = (await plan(officer, service_county, unit_codes=[service_county.units["v11"]])).json()
    coordinator = await sign_in(service_county, "coord11")
    items = await _items(coordinator, campaign["id"])
    assert (await finding(coordinator, items["王芳"]["id"], finding="unknown", notes="邻居说已搬走")).status_code == 200
    assert (await finding(coordinator, items["一村东街2号"]["id"], finding="present")).status_code == 200

    rows = (await officer.get("/api/v1/registers/campaign-findings")).json()["items"]
    assert sorted((row["subject"], row["finding"], row["notes"], row["campaign"]) for row in rows) == [
        ("一村东街2号", "已走访", None, "2026年第四季度联合大清查"),
        ("王芳", "去向不明", "邻居说已搬走", "2026年第四季度联合大清查"),
    ]
    assert "长期未见面" in next(row for row in rows if row["subject"] == "王芳")["reasons"]
    sibling = await sign_in(service_county, "coord12")
    stranger = await sign_in(other_county, "county_officer")
    assert (await sibling.get("/api/v1/registers/campaign-findings")).json()["items"] == []
    assert (await stranger.get("/api/v1/registers/campaign-findings")).json()["items"] == []


async def test_moves_new_arrivals_and_houses_go_through_the_registry(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    mover = await _old(village, service_county, "李娜")
    house = await _house(village, service_county, "一村西街8号")
    officer = await sign_in(service_county, "officer")
    campaign = (await plan(officer, service_county)).json()
    coordinator = await sign_in(service_county, "coord11")
    items = await _items(coordinator, campaign["id"])

    # The coordinator cannot move a record into another village; the township officer can.
    out_of_reach = await finding(
        coordinator, items["李娜"]["id"], finding="moved_within_county", moved_to_unit_code=service_county.units["v12"]
    )
    assert out_of_reach.status_code == 422
    assert out_of_reach.json()["fields"][0]["loc"] == ["body", "moved_to_unit_code"]
    moved = await finding(
        officer, items["李娜"]["id"], finding="moved_within_county", moved_to_unit_code=service_county.units["v12"]
    )
    assert moved.status_code == 200, moved.text
    (person,) = await village.rows(service_county, select(Person).where(Person.id == mover.id))
    assert person.org_unit_code == service_county.units["v12"] and person.status is PersonStatus.active

    wrong = await finding(coordinator, items["一村西街8号"]["id"], finding="left")
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["loc"] == ["body", "finding"]
    walked = await finding(coordinator, items["一村西街8号"]["id"], finding="present")
    assert walked.status_code == 200
    (walked_house,) = await village.rows(service_county, select(RentalHouse).where(RentalHouse.id == house.id))
    assert walked_house.last_visited_on == TODAY

    arrival = await coordinator.post(
        f"/api/v1/campaigns/{campaign['id']}/arrivals",
        json={
            "org_unit_code": service_county.units["v11"],
            "name": "新来的",
            "sex": "female",
            "found_on": TODAY.isoformat(),
            "house_id": str(house.id),
        },
    )
    assert arrival.status_code == 201, arrival.text
    assert arrival.json()["finding"] == "new_arrival" and arrival.json()["person_name"] == "新来的"
    (newcomer,) = await village.rows(service_county, select(Person).where(Person.name == "新来的"))
    assert newcomer.flow_direction is FlowDirection.inflow and newcomer.flow_date == TODAY
    (tenancy,) = await village.rows(service_county, select(Occupancy).where(Occupancy.person_id == newcomer.id))
    assert tenancy.house_id == house.id
    refused = await coordinator.post(
        f"/api/v1/campaigns/{campaign['id']}/arrivals",
        json={"org_unit_code": service_county.units["v11"], "name": "", "found_on": TODAY.isoformat()},
    )
    assert refused.status_code == 422

    # Progress counts each village's list as drawn: the move stays on the list of the village she left.
    progress = (await officer.get(f"/api/v1/campaigns/{campaign['id']}")).json()["villages"]
    assert [(v["items"], v["recorded"], v["findings"]) for v in progress] == [
        (3, 3, {"moved_within_county": 1, "new_arrival": 1, "present": 1}),
        (0, 0, {}),
    ]


async def test_a_visit_date_in_the_future_is_refused_at_its_field_and_nothing_is_written(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    leaver = await _old(village, service_county, "王芳")
    officer = await sign_in(service_county, "officer")
    campaign = (await plan(officer, service_county)).json()
    coordinator = await sign_in(service_county, "coord11")
    item = (await _items(coordinator, campaign["id"]))["王芳"]

    refused = await finding(coordinator, item["id"], finding="left", found_on=(TODAY + timedelta(days=1)).isoformat())

    assert refused.status_code == 422
    assert refused.json()["fields"] == [
        {"loc": ["body", "found_on"], "msg": "日期不能在将来 / the date cannot be in the future"}
    ]
    (person,) = await village.rows(service_county, select(Person).where(Person.id == leaver.id))
    assert person.status is PersonStatus.active
    assert (await _items(coordinator, campaign["id"]))["王芳"]["finding"] is None


async def test_coordinators_walk_only_their_village_and_another_county_sees_nothing(
    village: Village, service_county: County, other_county: County, sign_in: SignIn
) -> None:
    await _old(village, service_county, "一村人")
    await _old(village, service_county, "二村人", unit="v12")
    officer = await sign_in(service_county, "officer")
    campaign = (await plan(officer, service_county)).json()
    coordinator = await sign_in(service_county, "coord11")
    sibling = await sign_in(service_county, "coord12")
    stranger = await sign_in(other_county, "county_officer")

    assert list(await _items(coordinator, campaign["id"])) == ["一村人"]
    their = (await _items(sibling, campaign["id"]))["二村人"]
    assert (await finding(coordinator, their["id"], finding="present")).status_code == 404
    detail = (await coordinator.get(f"/api/v1/campaigns/{campaign['id']}")).json()
    assert [v["org_unit_code"] for v in detail["villages"]] == [service_county.units["v11"]]
    assert (await stranger.get(f"/api/v1/campaigns/{campaign['id']}")).status_code == 404
    assert (await stranger.get("/api/v1/campaigns")).json() == []
    assert (await finding(stranger, their["id"], finding="present")).status_code == 404
