"""Free technical services (免费技术服务) through the API: the six national items and the county's own, each
service recorded with who bears its cost, bad input refused at its field with nothing written, the free-service
rate, the register, and reach."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend.core.clock import china_today
from backend.models import FreeService, MaritalStatus, Sex
from tests.fixtures.identity import County, SignIn
from tests.fixtures.village import Village, resident_id

TODAY = china_today()


async def test_the_national_items_and_the_countys_own(service_county: County, sign_in: SignIn) -> None:
    admin = await sign_in(service_county, "admin")
    coordinator = await sign_in(service_county, "coord11")
    added = await admin.post(
        "/api/v1/free-services/items", json={"code": "prepregnancy_check", "name": "免费孕前优生健康检查"}
    )
    assert added.status_code == 201, added.text
    taken = await admin.post("/api/v1/free-services/items", json={"code": "abortion", "name": "重名"})
    assert taken.status_code == 409 and taken.json()["fields"][0]["loc"] == ["body", "code"]
    assert (
        await coordinator.post("/api/v1/free-services/items", json={"code": "x_y", "name": "无权"})
    ).status_code == 403

    items = (await coordinator.get("/api/v1/free-services/items")).json()
    assert [(item["code"], item["national"]) for item in items] == [
        ("contraceptive_supplies", True),
        ("pregnancy_iud_check", True),
        ("iud_procedure", True),
        ("abortion", True),
        ("sterilisation", True),
        ("complication_treatment", True),
        ("prepregnancy_check", False),
    ]
    off = await admin.patch(
        "/api/v1/free-services/items/prepregnancy_check", json={"version": added.json()["version"], "active": False}
    )
    assert off.status_code == 200 and off.json()["active"] is False


async def test_a_service_is_recorded_with_who_bears_its_cost_and_bad_input_is_refused_at_its_field(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    woman = await village.person(service_county, "王芳", number=resident_id(41))
    coordinator = await sign_in(service_county, "coord11")
    recorded = await coordinator.post(
        "/api/v1/free-services",
        json={
            "resident_id": resident_id(41),
            "item_code": "iud_procedure",
            "provider_name": "一镇计生服务站",
            "served_on": TODAY.isoformat(),
            "cost_bearer": "provincial_settlement",
            "amount": "120.00",
        },
    )
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert (body["person_id"], body["person_name"], body["cost_bearer"], body["amount"]) == (
        str(woman.id),
        "王芳",
        "provincial_settlement",
        "120.00",
    )

    bad = {"person_id": str(woman.id), "item_code": "no_such_item", "provider_name": "一镇计生服务站"}
    # A service date in the future is refused by the input policy (past-only), before the item is looked up.
    future = await coordinator.post(
        "/api/v1/free-services", json=bad | {"served_on": (TODAY + timedelta(days=1)).isoformat()}
    )
    assert future.status_code == 422
    assert {tuple(problem["loc"]) for problem in future.json()["fields"]} == {("body", "served_on")}
    unknown = await coordinator.post("/api/v1/free-services", json=bad | {"served_on": TODAY.isoformat()})
    assert unknown.status_code == 422
    assert {tuple(problem["loc"]) for problem in unknown.json()["fields"]} == {("body", "item_code")}
    assert len(await village.rows(service_county, select(FreeService))) == 1

    (row,) = (await coordinator.get("/api/v1/registers/free-services")).json()["items"]
    assert (row["name"], row["item"], row["cost_bearer"], row["amount"]) == (
        "王芳",
        "放置、取出宫内节育器及相关医学检查",
        "省内结算",
        "120.00",
    )


async def test_the_free_service_rate_counts_married_women_of_reproductive_age_served(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    served = await village.person(service_county, "甲")
    await village.person(service_county, "乙")
    await village.person(service_county, "丙", unit="v12")
    await village.person(service_county, "未婚", marital=MaritalStatus.unmarried)  # not counted
    await village.person(service_county, "男", sex=Sex.male)  # not counted
    coordinator = await sign_in(service_county, "coord11")
    for served_on in (TODAY, TODAY - timedelta(days=1)):  # two services, one woman
        response = await coordinator.post(
            "/api/v1/free-services",
            json={
                "person_id": str(served.id),
                "item_code": "pregnancy_iud_check",
                "provider_name": "一镇计生服务站",
                "served_on": served_on.isoformat(),
            },
        )
        assert response.status_code == 201, response.text

    officer = await sign_in(service_county, "officer")
    rates = {rate["org_unit_code"]: rate for rate in (await officer.get("/api/v1/free-services/rates")).json()}
    units = service_county.units
    assert [(code, rates[code]["eligible"], rates[code]["served"]) for code in rates] == [
        (units["t1"], 3, 1),
        (units["v11"], 2, 1),
        (units["v12"], 1, 0),
    ]
    assert rates[units["v11"]]["rate"] == 0.5
    before = (
        await officer.get("/api/v1/free-services/rates", params={"period_to": (TODAY - timedelta(days=2)).isoformat()})
    ).json()
    assert [rate["served"] for rate in before] == [0, 0, 0]


async def test_coordinators_record_only_for_their_village(
    village: Village, service_county: County, other_county: County, sign_in: SignIn
) -> None:
    sibling = await village.person(service_county, "陈红", unit="v12")
    coordinator = await sign_in(service_county, "coord11")
    stranger = await sign_in(other_county, "county_officer")
    refused = await coordinator.post(
        "/api/v1/free-services",
        json={
            "person_id": str(sibling.id),
            "item_code": "contraceptive_supplies",
            "provider_name": "站",
            "served_on": TODAY.isoformat(),
        },
    )
    assert refused.status_code == 422 and refused.json()["fields"][0]["loc"] == ["body", "person_id"]
    assert (await stranger.get("/api/v1/free-services")).json()["total"] == 0
