"""Inspection (查验): first on arrival, then at least yearly; recorded with the inspector; changes written down."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.calendar.service import china_today
from backend.models import FlowDirection
from tests.backend.certificates.conftest import AddPerson, field_names, issue, issued_to_expire_in
from tests.fixtures.identity import County, SignIn


async def _inspect(client, certificate_id: str, **body):  # type: ignore[no-untyped-def]
    payload = {"inspected_on": china_today().isoformat(), "result": "valid", **body}
    return await client.post(f"/api/v1/certificates/{certificate_id}/inspections", json=payload)


class TestInspection:
    async def test_an_inspection_records_the_signed_in_inspector_and_clears_the_due_flag(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        certificate = (await issue(officer, county, await add_person(county))).json()
        assert (certificate["inspection_due"], certificate["last_inspected_on"]) == (True, None)

        coordinator = await sign_in(county, "coord11")
        response = await _inspect(coordinator, certificate["id"])
        assert response.status_code == 201, response.text
        inspection = response.json()
        assert inspection["inspector_id"] == str(county.users["coord11"].id)
        assert inspection["inspector_name"].startswith("coord11")
        assert inspection["org_unit_code"] == county.units["v11"]

        detail = (await officer.get(f"/api/v1/certificates/{certificate['id']}")).json()
        today = china_today()
        assert detail["inspection_due"] is False
        assert detail["last_inspected_on"] == today.isoformat()
        assert detail["next_inspection_on"] == (today + timedelta(days=365)).isoformat()
        assert [item["id"] for item in detail["inspections"]] == [inspection["id"]]
        listed = (await officer.get(f"/api/v1/certificates/{certificate['id']}/inspections")).json()
        assert [item["result"] for item in listed] == ["valid"]

    @pytest.mark.parametrize(("days_ago", "due"), [(364, False), (365, True), (500, True)])
    async def test_an_inspection_is_due_again_when_none_happened_in_the_last_365_days(
        self, county: County, sign_in: SignIn, add_person: AddPerson, days_ago: int, due: bool
    ) -> None:
        officer = await sign_in(county, "officer")
        issued_on = china_today() - timedelta(days=600)
        certificate = (await issue(officer, county, await add_person(county), issue_date=issued_on)).json()
        inspected_on = china_today() - timedelta(days=days_ago)
        assert (await _inspect(officer, certificate["id"], inspected_on=inspected_on.isoformat())).status_code == 201
        detail = (await officer.get(f"/api/v1/certificates/{certificate['id']}")).json()
        assert detail["inspection_due"] is due
        due_list = (await officer.get("/api/v1/certificates", params={"inspection_due": "true"})).json()
        assert (certificate["id"] in [item["id"] for item in due_list["items"]]) is due

    async def test_the_register_lists_certificates_due_for_inspection(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        never = (await issue(officer, county, await add_person(county, "甲"))).json()
        inspected = (await issue(officer, county, await add_person(county, "乙"))).json()
        await _inspect(officer, inspected["id"])
        due = (await officer.get("/api/v1/certificates", params={"inspection_due": "true"})).json()
        not_due = (await officer.get("/api/v1/certificates", params={"inspection_due": "false"})).json()
        assert [item["id"] for item in due["items"]] == [never["id"]]
        assert [item["id"] for item in not_due["items"]] == [inspected["id"]]

    async def test_an_outflow_persons_certificate_is_inspected_elsewhere_so_never_due_here(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county, flow=FlowDirection.outflow)
        certificate = (await issue(officer, county, person)).json()
        assert certificate["inspection_due"] is False

    async def test_a_status_change_must_be_written_down(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        certificate = (await issue(officer, county, await add_person(county))).json()
        bare = await _inspect(officer, certificate["id"], result="status_changed")
        assert (bare.status_code, field_names(bare)) == (422, ["notes"])
        noted = await _inspect(officer, certificate["id"], result="status_changed", notes="2026年10月生育二孩，已盖章")
        assert noted.status_code == 201, noted.text
        assert noted.json()["notes"] == "2026年10月生育二孩，已盖章"

    @pytest.mark.parametrize(
        ("expires_in", "result", "inspected_days_ago", "field"),
        [
            (-10, "valid", 0, "result"),  # expired on the day: cannot pass as valid
            (100, "expired", 0, "result"),  # still valid on the day
            (100, "valid", -1, "inspected_on"),  # tomorrow
            (100, "valid", 2000, "inspected_on"),  # before the issue date
            (100, "approved", 0, "result"),  # not a result
        ],
    )
    async def test_an_inconsistent_inspection_is_refused_naming_the_field(
        self,
        county: County,
        sign_in: SignIn,
        add_person: AddPerson,
        expires_in: int,
        result: str,
        inspected_days_ago: int,
        field: str,
    ) -> None:
        officer = await sign_in(county, "officer")
        issued_on = issued_to_expire_in(expires_in)
        certificate = (await issue(officer, county, await add_person(county), issue_date=issued_on)).json()
        inspected_on = china_today() - timedelta(days=inspected_days_ago)
        response = await _inspect(officer, certificate["id"], result=result, inspected_on=inspected_on.isoformat())
        assert (response.status_code, field_names(response)) == (422, [field]), response.text
        assert (await officer.get(f"/api/v1/certificates/{certificate['id']}/inspections")).json() == []

    async def test_an_expired_certificate_is_inspected_as_expired_and_is_not_due(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        issued_on = issued_to_expire_in(-1)
        certificate = (await issue(officer, county, await add_person(county), issue_date=issued_on)).json()
        assert (certificate["status"], certificate["expires_in_days"], certificate["inspection_due"]) == (
            "expired",
            -1,
            False,
        )
        assert (await _inspect(officer, certificate["id"], result="expired")).status_code == 201

    async def test_an_inspection_is_audited(self, county: County, sign_in: SignIn, add_person: AddPerson) -> None:
        officer = await sign_in(county, "officer")
        certificate = (await issue(officer, county, await add_person(county))).json()
        await _inspect(officer, certificate["id"], result="missing", notes="未携带，限期15日内办理")
        auditor = await sign_in(county, "auditor")
        events = (await auditor.get("/api/v1/audit/events", params={"entity_id": certificate["id"]})).json()
        assert [event["action"] for event in events] == ["certificate.inspect", "certificate.issue"]
        assert events[0]["changes"]["result"] == [None, "missing"]
        assert events[0]["changes"]["notes"] == [None, "未携带，限期15日内办理"]
