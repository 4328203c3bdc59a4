"""Who reaches which person: subtrees within a county, counties never; 404 outside reach, lists filtered in SQL."""

from __future__ import annotations

from typing import Any

import httpx

from tests.backend.persons.factories import make_id, person_body
from tests.fixtures.identity import County, SignIn


async def register(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/persons", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def listed_ids(client: httpx.AsyncClient, **params: Any) -> set[str]:
    response = await client.get("/api/v1/persons", params={"size": 200, "sort": "-registered", **params})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


class TestObjectAccess:
    async def test_a_village_coordinator_cannot_reach_a_sibling_villages_person(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        coordinator = await sign_in(county, "coord11")
        sibling = await register(officer, person_body(county, "v12"))
        own = await register(officer, person_body(county, "v11"))
        url = f"/api/v1/persons/{sibling['id']}"
        assert (await coordinator.get(f"/api/v1/persons/{own['id']}")).status_code == 200
        assert (await coordinator.get(url)).status_code == 404
        assert (await coordinator.get(f"{url}/history")).status_code == 404
        assert (await coordinator.get(f"{url}/duplicates")).status_code == 404
        assert (await coordinator.patch(url, json={"notes": "x", "version": 1})).status_code == 404
        depart = await coordinator.post(f"{url}/depart", json={"departed_on": "2026-01-01", "reason": "测试一下"})
        assert depart.status_code == 404
        merge = await coordinator.post(f"{url}/merge", json={"into_id": own["id"], "reason": "测试一下"})
        assert merge.status_code == 404
        into_sibling = await coordinator.post(
            f"/api/v1/persons/{own['id']}/merge", json={"into_id": sibling["id"], "reason": "测试一下"}
        )
        assert into_sibling.status_code == 422
        assert (await officer.get(url)).json()["version"] == 1  # nothing changed

    async def test_another_countys_person_answers_404_everywhere(
        self, county: County, other: County, sign_in: SignIn
    ) -> None:
        foreign_officer = await sign_in(other, "county_officer")
        foreign = await register(foreign_officer, person_body(other, "v11"))
        for username in ("coord11", "officer", "county_officer"):
            client = await sign_in(county, username)
            url = f"/api/v1/persons/{foreign['id']}"
            assert (await client.get(url)).status_code == 404
            assert (await client.get(f"{url}/history")).status_code == 404
            assert (await client.patch(url, json={"notes": "x", "version": 1})).status_code == 404
        assert (await foreign_officer.get(f"/api/v1/persons/{foreign['id']}")).status_code == 200

    async def test_an_auditor_reads_but_cannot_write_and_a_county_admin_cannot_read(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await register(officer, person_body(county))
        auditor = await sign_in(county, "auditor")
        detail = await auditor.get(f"/api/v1/persons/{person['id']}")
        assert (detail.status_code, detail.json()["identifiers_masked"]) == (200, True)
        assert (await auditor.post("/api/v1/persons", json=person_body(county))).status_code == 403
        admin = await sign_in(county, "admin")
        assert (await admin.get(f"/api/v1/persons/{person['id']}")).status_code == 403
        assert (await admin.get("/api/v1/persons")).status_code == 403

    async def test_break_glass_reads_are_masked_read_only_and_audited(self, county: County, sign_in: SignIn) -> None:
        officer2 = await sign_in(county, "officer2")
        number = make_id()
        person = await register(officer2, person_body(county, "v21", resident_id=number))
        supervisor = await sign_in(county, "supervisor")
        url = f"/api/v1/persons/{person['id']}"
        assert (await supervisor.get(url)).status_code == 404
        grant = await supervisor.post(
            "/api/v1/break-glass",
            json={"org_unit_code": county.units["v21"], "reason": "核查重复登记的流入人员", "minutes": 5},
        )
        assert grant.status_code == 201, grant.text
        try:
            detail = await supervisor.get(url)
            assert detail.status_code == 200, detail.text
            # Break-glass lends reading, not the full numbers and not writing.
            assert detail.json()["identifiers_masked"] is True and number not in detail.text
            assert person["id"] in await listed_ids(supervisor, org_unit=county.units["v21"])
            assert (await supervisor.patch(url, json={"notes": "x", "version": 1})).status_code == 403
        finally:
            await supervisor.post(f"/api/v1/break-glass/{grant.json()['id']}/revoke")
        auditor = await sign_in(county, "auditor")
        reads = (await auditor.get("/api/v1/audit/events", params={"entity_id": person["id"]})).json()
        assert any(e["action"] == "break_glass.read" and e["reason"] == "核查重复登记的流入人员" for e in reads)
        listings = (await auditor.get("/api/v1/audit/events", params={"entity_id": county.units["v21"]})).json()
        assert any(e["action"] == "break_glass.list" and e["entity_type"] == "person" for e in listings)
        assert (await supervisor.get(url)).status_code == 404

    async def test_unauthenticated_callers_get_401(self, api: httpx.AsyncClient) -> None:
        assert (await api.get("/api/v1/persons")).status_code == 401


class TestListScope:
    async def test_the_list_never_shows_another_countys_or_a_sibling_subtrees_people(
        self, county: County, other: County, sign_in: SignIn
    ) -> None:
        county_officer = await sign_in(county, "county_officer")
        in_v11 = await register(county_officer, person_body(county, "v11", name="甲一"))
        in_v12 = await register(county_officer, person_body(county, "v12", name="甲二"))
        in_v21 = await register(county_officer, person_body(county, "v21", name="甲三"))
        number = make_id()
        foreign = await register(await sign_in(other, "county_officer"), person_body(other, "v11", resident_id=number))

        coordinator = await sign_in(county, "coord11")
        seen = await listed_ids(coordinator)
        assert in_v11["id"] in seen and not seen & {in_v12["id"], in_v21["id"], foreign["id"]}
        # Filters cannot widen the scope: not a sibling's unit, not another county's ID number.
        assert await listed_ids(coordinator, org_unit=county.units["v12"]) == set()
        assert await listed_ids(coordinator, org_unit=other.units["v11"]) == set()

        township = await sign_in(county, "officer")
        seen = await listed_ids(township)
        assert {in_v11["id"], in_v12["id"]} <= seen and not seen & {in_v21["id"], foreign["id"]}

        seen = await listed_ids(county_officer)
        assert {in_v11["id"], in_v12["id"], in_v21["id"]} <= seen and foreign["id"] not in seen
        assert await listed_ids(county_officer, resident_id=number) == set()
