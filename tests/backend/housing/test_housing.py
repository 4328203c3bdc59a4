"""Rental housing and employers (以房管人) through the API: a house and its tenants (人来登记、人走注销), a tenant
already living in another house refused at her field with nothing written, moving out closing her tenancy, the
landlord's agreement linked from the agreements, employers and employees, the two registers, and reach."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from backend.core.clock import china_today
from backend.models import Occupancy
from tests.fixtures.identity import County, SignIn
from tests.fixtures.village import Village, resident_id

TODAY = china_today()


async def house(client: httpx.AsyncClient, county: County, **fields: Any) -> dict[str, Any]:
    body = {
        "org_unit_code": county.units["v11"],
        "address": "一村东街12号",
        "door_plate": "CZ-001",
        "owner_name": "张房东",
        "business_type": "residential",
    } | fields
    response = await client.post("/api/v1/housing/houses", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def move_in(client: httpx.AsyncClient, house_id: str, **fields: Any) -> httpx.Response:
    return await client.post(
        f"/api/v1/housing/houses/{house_id}/tenants",
        json={"moved_in_on": (TODAY - timedelta(days=30)).isoformat()} | fields,
    )


async def test_a_tenant_moving_out_closes_her_tenancy_and_the_house_keeps_its_history(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    tenant = await village.person(service_county, "王芳", number=resident_id(21))
    other = await village.person(service_county, "李娜")
    coordinator = await sign_in(service_county, "coord11")
    first = await house(coordinator, service_county)

    moved = await move_in(coordinator, first["id"], resident_id=resident_id(21))
    assert moved.status_code == 201, moved.text
    assert (moved.json()["person_id"], moved.json()["kind"]) == (str(tenant.id), "tenant")
    assert (await move_in(coordinator, first["id"], person_id=str(other.id))).status_code == 201
    detail = (await coordinator.get(f"/api/v1/housing/houses/{first['id']}")).json()
    assert sorted(item["person_name"] for item in detail["current"]) == ["李娜", "王芳"] and detail["tenants"] == 2

    ended = await coordinator.post(
        f"/api/v1/housing/occupancies/{moved.json()['id']}/end", json={"moved_out_on": TODAY.isoformat()}
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["moved_out_on"] == TODAY.isoformat()
    detail = (await coordinator.get(f"/api/v1/housing/houses/{first['id']}")).json()
    assert [item["person_name"] for item in detail["current"]] == ["李娜"]
    assert [(item["person_name"], item["moved_out_on"]) for item in detail["history"]] == [("王芳", TODAY.isoformat())]
    # Her tenancy is closed, so she may move into another house now.
    second = await house(coordinator, service_county, address="一村西街3号", door_plate="CZ-002")
    assert (
        await move_in(coordinator, second["id"], person_id=str(tenant.id), moved_in_on=TODAY.isoformat())
    ).status_code == 201
    twice = await coordinator.post(
        f"/api/v1/housing/occupancies/{moved.json()['id']}/end", json={"moved_out_on": TODAY.isoformat()}
    )
    assert twice.status_code == 422 and twice.json()["fields"][0]["loc"] == ["body", "moved_out_on"]


async def test_a_tenant_already_living_in_another_house_is_refused_at_her_field_and_nothing_is_written(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    tenant = await village.person(service_county, "王芳", number=resident_id(22))
    coordinator = await sign_in(service_county, "coord11")
    first = await house(coordinator, service_county)
    second = await house(coordinator, service_county, address="一村西街3号", door_plate="CZ-002")
    assert (await move_in(coordinator, first["id"], person_id=str(tenant.id))).status_code == 201

    refused = await move_in(coordinator, second["id"], resident_id=resident_id(22))

    assert refused.status_code == 422
    assert refused.json()["fields"] == [
        {
            "loc": ["body", "resident_id"],
            "msg": "王芳已登记住在一村东街12号（CZ-001），请先在该处登记迁出 / 王芳 is registered as living at "
            "一村东街12号（CZ-001）: record her move-out there first",
        }
    ]
    rows = await village.rows(service_county, select(Occupancy).where(Occupancy.person_id == tenant.id))
    assert [(row.house_id, row.moved_out_on) for row in rows] == [(uuid.UUID(first["id"]), None)]
    future = await move_in(
        coordinator, second["id"], person_id=str(tenant.id), moved_in_on=(TODAY + timedelta(days=1)).isoformat()
    )
    # A move-in date in the future is refused by the input policy (past-only), before her tenancy is looked up.
    assert {tuple(problem["loc"]) for problem in future.json()["fields"]} == {("body", "moved_in_on")}
    taken = await move_in(coordinator, second["id"], person_id=str(tenant.id))
    assert {tuple(problem["loc"]) for problem in taken.json()["fields"]} == {("body", "person_id")}
    rows = await village.rows(service_county, select(Occupancy).where(Occupancy.person_id == tenant.id))
    assert [(row.house_id, row.moved_out_on) for row in rows] == [(uuid.UUID(first["id"]), None)]


async def test_the_landlords_agreement_is_linked_from_the_agreements_and_door_plates_are_unique(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    officer = await sign_in(service_county, "officer")
    agreement = await officer.post(
        "/api/v1/agreements",
        json={
            "kind": "responsibility_letter",
            "title": "出租房屋计划生育管理责任书",
            "parties": [{"role": "township", "name": "一镇"}, {"role": "landlord", "name": "张房东"}],
            "signed_on": TODAY.isoformat(),
            "valid_from": TODAY.isoformat(),
            "org_unit_code": service_county.units["t1"],
        },
    )
    assert agreement.status_code == 201, agreement.text
    created = await house(officer, service_county)
    linked = await officer.patch(
        f"/api/v1/housing/houses/{created['id']}",
        json={"version": created["version"], "agreement_id": agreement.json()["id"]},
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["agreement_id"] == agreement.json()["id"]

    # The coordinator cannot read the township's agreement: she cannot link it.
    coordinator = await sign_in(service_county, "coord11")
    refused = await coordinator.patch(
        f"/api/v1/housing/houses/{created['id']}",
        json={"version": linked.json()["version"], "agreement_id": agreement.json()["id"]},
    )
    assert refused.status_code == 422 and refused.json()["fields"][0]["loc"] == ["body", "agreement_id"]
    taken = await coordinator.post(
        "/api/v1/housing/houses",
        json={
            "org_unit_code": service_county.units["v11"],
            "address": "别处",
            "door_plate": "CZ-001",
            "owner_name": "李",
        },
    )
    assert taken.status_code == 409 and taken.json()["fields"][0]["loc"] == ["body", "door_plate"]


async def test_employers_keep_their_employees_and_the_registers_list_houses_and_tenancies(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    worker = await village.person(service_county, "王芳", number=resident_id(23))
    coordinator = await sign_in(service_county, "coord11")
    employer = await coordinator.post(
        "/api/v1/housing/employers",
        json={
            "org_unit_code": service_county.units["v11"],
            "name": "一村服装厂",
            "address": "一村工业园1号",
            "legal_representative": "赵厂长",
        },
    )
    assert employer.status_code == 201, employer.text
    hired = await coordinator.post(
        f"/api/v1/housing/employers/{employer.json()['id']}/employees",
        json={"person_id": str(worker.id), "moved_in_on": TODAY.isoformat()},
    )
    assert hired.status_code == 201 and hired.json()["kind"] == "employee"
    created = await house(coordinator, service_county)
    assert (await move_in(coordinator, created["id"], person_id=str(worker.id))).status_code == 201
    assert (await coordinator.get(f"/api/v1/housing/employers/{employer.json()['id']}")).json()["employees"] == 1

    (row,) = (await coordinator.get("/api/v1/registers/rental-houses")).json()["items"]
    assert (row["door_plate"], row["owner"], row["business_type"], row["tenants"], row["agreement"]) == (
        "CZ-001",
        "张房东",
        "住宅出租",
        1,
        "未签订",
    )
    rows = (await coordinator.get("/api/v1/registers/tenancies")).json()["items"]
    assert sorted((item["kind"], item["place"], item["status"]) for item in rows) == [
        ("务工", "一村服装厂", "在住"),
        ("租住", "一村东街12号（CZ-001）", "在住"),
    ]
    assert all(item["resident_id"].count("*") == 8 for item in rows)


async def test_coordinators_see_and_record_only_their_village_and_another_county_nothing(
    village: Village, service_county: County, other_county: County, sign_in: SignIn
) -> None:
    sibling_person = await village.person(service_county, "陈红", unit="v12")
    coordinator = await sign_in(service_county, "coord11")
    created = await house(coordinator, service_county)
    sibling = await sign_in(service_county, "coord12")
    auditor = await sign_in(service_county, "auditor")
    stranger = await sign_in(other_county, "county_officer")

    assert (await sibling.get(f"/api/v1/housing/houses/{created['id']}")).status_code == 404
    assert (await move_in(sibling, created["id"], person_id=str(sibling_person.id))).status_code == 404
    assert (await sibling.get("/api/v1/housing/houses")).json()["total"] == 0
    assert (await auditor.get(f"/api/v1/housing/houses/{created['id']}")).status_code == 200
    assert (await move_in(auditor, created["id"], person_id=str(sibling_person.id))).status_code == 403
    assert (await stranger.get(f"/api/v1/housing/houses/{created['id']}")).status_code == 404
    # Her own house, someone of another village: not in her reach, refused at the field.
    other_village = await move_in(coordinator, created["id"], person_id=str(sibling_person.id))
    assert other_village.status_code == 422 and other_village.json()["fields"][0]["loc"] == ["body", "person_id"]
