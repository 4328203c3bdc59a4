"""Monthly random re-check lists (issue #22 point 5, seeds-spec P25 倒查、随机抽查): a sample of the village's registry
entries changed that month, of the county's size, drawn once and reproducibly (the seed and the population are
kept); findings recorded once each, corrections applied through the registry and audited as corrections; only the
village's township draws and records; nothing of another county."""

from __future__ import annotations

import random
from typing import Any

import httpx

from backend.authz.vocabulary import Role
from backend.core.clock import china_today
from backend.county_settings.schemas import CountySettings
from backend.data_review.rechecks import list_size
from backend.db.engine import Database
from tests.backend.data_review.conftest import require_confirmation
from tests.backend.persons.factories import person_body
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county

THIS_MONTH = f"{china_today():%Y-%m}"


async def _registered(client: httpx.AsyncClient, county: County, unit: str, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        response = await client.post("/api/v1/persons", json=person_body(county, unit, name=name))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def _draw(
    client: httpx.AsyncClient, county: County, unit: str = "v11", month: str = THIS_MONTH
) -> httpx.Response:
    return await client.post("/api/v1/rechecks", json={"org_unit_code": county.units.get(unit, unit), "month": month})


def test_the_size_is_the_countys_share_at_least_its_minimum_at_most_all() -> None:
    defaults = CountySettings()
    assert [list_size(n, defaults) for n in (0, 2, 3, 40, 60, 61)] == [0, 2, 3, 3, 3, 4]
    half = CountySettings(recheck_share_percent=50, recheck_minimum=1)
    assert [list_size(n, half) for n in (1, 5, 6)] == [1, 3, 3]


async def test_a_villages_list_samples_the_entries_changed_that_month_reproducibly(
    county: County, sign_in: SignIn
) -> None:
    officer = await sign_in(county, "t1.officer")
    changed = await _registered(officer, county, "v11", ["抽一", "抽二", "抽三", "抽四", "抽五"])
    await _registered(officer, county, "v12", ["邻村"])
    await require_confirmation(await sign_in(county, "county.admin"))
    await _registered(await sign_in(county, "v11.coord"), county, "v11", ["未确认"])

    drawn = await _draw(officer, county)
    assert drawn.status_code == 201, drawn.text
    recheck = drawn.json()
    assert recheck["population"] == sorted(changed)
    assert recheck["sample_size"] == 3 and len(recheck["items"]) == 3
    again = random.Random(recheck["seed"]).sample(recheck["population"], recheck["sample_size"])
    assert sorted(item["person_id"] for item in recheck["items"]) == sorted(again)
    assert recheck["draw_reproduces"] is True
    assert {item["person_name"] for item in recheck["items"]} <= {"抽一", "抽二", "抽三", "抽四", "抽五"}

    twice = await _draw(officer, county)
    assert twice.status_code == 409 and twice.json()["error"] == "RECHECK_DRAWN"
    listed = (await officer.get("/api/v1/rechecks", params={"month": THIS_MONTH})).json()["items"]
    assert [item["id"] for item in listed] == [recheck["id"]]
    events = (
        await (await sign_in(county, "county.admin")).get(
            "/api/v1/audit/events", params={"entity_type": "recheck_list"}
        )
    ).json()
    assert [(event["action"], event["changes"]["seed"]) for event in events] == [
        ("recheck.draw", [None, recheck["seed"]])
    ]


async def test_findings_are_recorded_once_and_corrections_applied_as_corrections(
    county: County, sign_in: SignIn
) -> None:
    officer = await sign_in(county, "t1.officer")
    await _registered(officer, county, "v11", ["查甲", "查乙", "查丙"])
    recheck = (await _draw(officer, county)).json()
    first, second, third = recheck["items"]
    url = f"/api/v1/rechecks/{recheck['id']}/items"

    correct = await officer.post(f"{url}/{first['id']}", json={"version": 1, "finding": "correct"})
    assert correct.status_code == 200, correct.text
    again = await officer.post(f"{url}/{first['id']}", json={"version": 1, "finding": "correct"})
    assert again.status_code == 409 and again.json()["error"] == "RECHECK_ITEM_DONE"

    missing = await officer.post(f"{url}/{second['id']}", json={"version": 1, "finding": "corrected"})
    assert missing.status_code == 422
    person = (await officer.get(f"/api/v1/persons/{second['person_id']}")).json()
    corrections: dict[str, Any] = {"residence_address": "一村5组2号", "version": person["version"]}
    corrected = await officer.post(
        f"{url}/{second['id']}",
        json={"version": 1, "finding": "corrected", "corrections": corrections, "note": "门牌号录错"},
    )
    assert corrected.status_code == 200, corrected.text
    after = (await officer.get(f"/api/v1/persons/{second['person_id']}")).json()
    assert after["residence_address"] == "一村5组2号"
    unverifiable = await officer.post(
        f"{url}/{third['id']}", json={"version": 1, "finding": "unverifiable", "note": "家中无人，已留联系卡"}
    )
    body = unverifiable.json()
    assert (body["checked"], body["correct"], body["corrected"], body["unverifiable"]) == (3, 1, 1, 1)
    assert [item["corrected_fields"] for item in body["items"] if item["id"] == second["id"]] == [["residence_address"]]

    admin = await sign_in(county, "county.admin")
    history = (
        await admin.get("/api/v1/audit/events", params={"entity_type": "person", "entity_id": second["person_id"]})
    ).json()
    corrections_made = [event for event in history if event["action"] == "person.correct"]
    assert (
        len(corrections_made) == 1 and corrections_made[0]["reason"] == f"抽查更正 / re-check correction ({THIS_MONTH})"
    )
    findings = (await admin.get("/api/v1/audit/events", params={"entity_type": "recheck_item"})).json()
    assert len(findings) == 3


async def test_only_the_villages_township_draws_and_records(
    county: County, sign_in: SignIn, database: Database, tenant_factory: TenantFactory
) -> None:
    officer = await sign_in(county, "t1.officer")
    await _registered(officer, county, "v11", ["范围"])
    coordinator, sibling = await sign_in(county, "v11.coord"), await sign_in(county, "t2.officer")
    assert (await _draw(coordinator, county)).status_code == 403
    assert (await _draw(sibling, county)).status_code == 404
    township = await _draw(officer, county, "t1")
    assert township.status_code == 422 and township.json()["fields"][0]["loc"] == ["body", "org_unit_code"]
    future = await _draw(officer, county, month=f"{china_today().year + 1}-01")
    assert future.status_code == 422 and future.json()["fields"][0]["loc"] == ["body", "month"]

    recheck = (await _draw(officer, county)).json()
    url = f"/api/v1/rechecks/{recheck['id']}"
    item = recheck["items"][0]
    assert (await coordinator.get(url)).status_code == 200
    assert (
        await coordinator.post(f"{url}/items/{item['id']}", json={"version": 1, "finding": "correct"})
    ).status_code == 403
    assert (await sibling.get(url)).status_code == 404
    assert (
        await sibling.post(f"{url}/items/{item['id']}", json={"version": 1, "finding": "correct"})
    ).status_code == 404
    assert (await sibling.get("/api/v1/rechecks")).json()["items"] == []

    other = await build_county(database, tenant_factory, "他县")
    await add_user(database, other, "other.officer", "t1", [(Role.township_officer, "t1")])
    stranger = await sign_in(other, "other.officer")
    assert (await stranger.get(url)).status_code == 404
    assert (await stranger.get("/api/v1/rechecks")).json()["items"] == []
