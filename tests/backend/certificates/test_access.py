"""Who sees and changes which certificates: subtrees, other counties (404, never 403 for objects), read-only roles;
and the register's filters."""

from __future__ import annotations

import pytest

from backend.calendar.service import china_today
from backend.models import ContraceptionMeasure
from tests.backend.certificates.conftest import AddPerson, issue, issued_to_expire_in
from tests.fixtures.identity import County, SignIn


class TestReach:
    async def test_a_certificate_of_another_county_is_404_for_every_route(
        self, county: County, other: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        certificate = (await issue(officer, county, person, issue_date=issued_to_expire_in(10))).json()
        stranger = await sign_in(other, "county_officer")
        path = f"/api/v1/certificates/{certificate['id']}"
        today = china_today().isoformat()
        responses = [
            await stranger.get(path),
            await stranger.get(f"{path}/inspections"),
            await stranger.post(f"{path}/inspections", json={"inspected_on": today, "result": "valid"}),
            await stranger.post(
                f"{path}/renew",
                json={"number": "X-1", "issue_date": today, "issuing_unit_code": other.units["t1"], "version": 1},
            ),
            await stranger.post(f"{path}/revoke", json={"reason": "试图注销", "version": 1}),
            await stranger.get(f"/api/v1/persons/{person.id}/certificates"),
            await issue(stranger, other, person),
        ]
        assert [response.status_code for response in responses] == [404] * len(responses)
        assert (await stranger.get("/api/v1/certificates")).json()["total"] == 0
        # Nothing happened to it.
        assert (await officer.get(path)).json()["status"] == "valid"

    async def test_a_village_coordinator_of_v12_cannot_see_or_touch_v11s_certificates(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        in_v11 = await add_person(county, "甲", "v11")
        in_v12 = await add_person(county, "乙", "v12")
        v11_certificate = (await issue(officer, county, in_v11)).json()
        v12_certificate = (await issue(officer, county, in_v12)).json()

        coordinator = await sign_in(county, "coord12")
        listed = (await coordinator.get("/api/v1/certificates")).json()
        assert [item["id"] for item in listed["items"]] == [v12_certificate["id"]]
        assert listed["total"] == 1
        path = f"/api/v1/certificates/{v11_certificate['id']}"
        assert (await coordinator.get(path)).status_code == 404
        inspected = await coordinator.post(
            f"{path}/inspections", json={"inspected_on": china_today().isoformat(), "result": "valid"}
        )
        assert inspected.status_code == 404
        assert (await coordinator.get(f"/api/v1/persons/{in_v11.id}/certificates")).status_code == 404
        assert (await issue(coordinator, county, in_v11)).status_code == 404
        # Her own village works, and the township officer sees both.
        assert (await coordinator.get(f"/api/v1/certificates/{v12_certificate['id']}")).status_code == 200
        township = (await officer.get("/api/v1/certificates")).json()
        assert {item["id"] for item in township["items"]} == {v11_certificate["id"], v12_certificate["id"]}

    async def test_the_auditor_reads_but_cannot_write(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        certificate = (await issue(officer, county, person)).json()
        auditor = await sign_in(county, "auditor")
        assert (await auditor.get(f"/api/v1/certificates/{certificate['id']}")).status_code == 200
        assert (await issue(auditor, county, person)).status_code == 403
        revoke = await auditor.post(
            f"/api/v1/certificates/{certificate['id']}/revoke", json={"reason": "审计员不能注销", "version": 1}
        )
        assert revoke.status_code == 403


class TestRegister:
    async def test_the_register_filters_by_status_expiry_unit_and_person_and_pages(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        expired = (
            await issue(officer, county, await add_person(county, "甲"), issue_date=issued_to_expire_in(-3))
        ).json()
        expiring = (
            await issue(officer, county, await add_person(county, "乙"), issue_date=issued_to_expire_in(20))
        ).json()
        fresh_person = await add_person(county, "丙", "v12")
        fresh = (await issue(officer, county, fresh_person)).json()
        sterilised = await add_person(county, "丁", contraception=ContraceptionMeasure.sterilisation)
        permanent = (await issue(officer, county, sterilised, permanent=True)).json()

        async def ids(**params: object) -> list[str]:
            response = await officer.get("/api/v1/certificates", params=params)
            assert response.status_code == 200, response.text
            return sorted(item["id"] for item in response.json()["items"])

        assert await ids(status="expired") == [expired["id"]]
        assert await ids(status="valid") == sorted([expiring["id"], fresh["id"], permanent["id"]])
        assert await ids(expiring_within_days=30) == [expiring["id"]]
        assert await ids(org_unit_code=county.units["v12"]) == [fresh["id"]]
        assert await ids(person_id=str(fresh_person.id)) == [fresh["id"]]
        assert await ids(number=permanent["number"]) == [permanent["id"]]
        page = (await officer.get("/api/v1/certificates", params={"size": 3, "page": 2})).json()
        assert (page["total"], len(page["items"]), page["page"]) == (4, 1, 2)
        person_list = (await officer.get(f"/api/v1/persons/{fresh_person.id}/certificates")).json()
        assert [item["id"] for item in person_list["items"]] == [fresh["id"]]

    @pytest.mark.parametrize(
        "params",
        [{"status": "lost"}, {"org_unit_code": "12"}, {"expiring_within_days": -1}, {"inspection_due": "maybe"}],
    )
    async def test_bad_filters_are_422_not_500(
        self, county: County, sign_in: SignIn, params: dict[str, object]
    ) -> None:
        officer = await sign_in(county, "officer")
        response = await officer.get("/api/v1/certificates", params=params)
        assert response.status_code == 422, response.text
        assert response.json()["fields"][0]["loc"][-1] == next(iter(params))
