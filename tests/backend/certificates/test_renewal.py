"""Renewal (换领, free) from 90 days before expiry, as a chain of records; revocation (注销) with a reason."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend.calendar.service import china_today
from backend.models import ContraceptionMeasure
from tests.backend.certificates.conftest import AddPerson, field_names, issue, issued_to_expire_in
from tests.fixtures.identity import County, SignIn


async def _renew(client: httpx.AsyncClient, county: County, certificate: dict[str, Any], **overrides: Any):  # type: ignore[no-untyped-def]
    body = {
        "number": f"{certificate['number']}-R",
        "issue_date": china_today().isoformat(),
        "issuing_unit_code": county.units["t1"],
        "version": certificate["version"],
        **overrides,
    }
    return await client.post(f"/api/v1/certificates/{certificate['id']}/renew", json=body)


class TestRenewal:
    async def test_renewal_links_the_new_certificate_to_the_old_one_which_becomes_renewed(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        old = (await issue(officer, county, await add_person(county), issue_date=issued_to_expire_in(30))).json()
        assert old["expires_in_days"] == 30
        response = await _renew(officer, county, old)
        assert response.status_code == 201, response.text
        new = response.json()
        assert (new["renews_id"], new["status"], new["number"]) == (old["id"], "valid", f"{old['number']}-R")
        today = china_today()
        assert new["valid_until"] == today.replace(year=today.year + 3).isoformat()
        old_now = (await officer.get(f"/api/v1/certificates/{old['id']}")).json()
        assert (old_now["status"], old_now["renewed_by_id"], old_now["expires_in_days"]) == ("renewed", new["id"], None)
        assert old_now["version"] == old["version"] + 1
        # Free of charge: no fee anywhere in what is recorded.
        assert not any("fee" in key for key in new)

        auditor = await sign_in(county, "auditor")
        for certificate_id in (old["id"], new["id"]):
            events = (await auditor.get("/api/v1/audit/events", params={"entity_id": certificate_id})).json()
            assert events[0]["action"] == "certificate.renew"
        old_events = (await auditor.get("/api/v1/audit/events", params={"entity_id": old["id"]})).json()
        assert old_events[0]["changes"]["status"] == ["valid", "renewed"]

    @pytest.mark.parametrize(("days_left", "status_code"), [(90, 201), (91, 409), (1095, 409)])
    async def test_renewal_opens_90_days_before_expiry(
        self, county: County, sign_in: SignIn, add_person: AddPerson, days_left: int, status_code: int
    ) -> None:
        officer = await sign_in(county, "officer")
        old = (await issue(officer, county, await add_person(county), issue_date=issued_to_expire_in(days_left))).json()
        response = await _renew(officer, county, old)
        assert response.status_code == status_code, response.text
        if status_code == 409:
            assert response.json()["error"] == "RENEWAL_TOO_EARLY"
            assert f"还有{days_left}天" in response.json()["detail"]
            old_now = (await officer.get(f"/api/v1/certificates/{old['id']}")).json()
            assert (old_now["status"], old_now["renewed_by_id"]) == ("valid", None)

    async def test_an_expired_certificate_is_renewed(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        old = (await issue(officer, county, await add_person(county), issue_date=issued_to_expire_in(-200))).json()
        assert old["status"] == "expired"
        response = await _renew(officer, county, old)
        assert response.status_code == 201, response.text
        expired = (await officer.get("/api/v1/certificates", params={"status": "expired"})).json()
        assert expired["total"] == 0  # the old one now reads renewed

    async def test_a_permanent_certificate_needs_no_renewal(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county, contraception=ContraceptionMeasure.sterilisation)
        old = (await issue(officer, county, person, permanent=True)).json()
        response = await _renew(officer, county, old)
        assert (response.status_code, response.json()["error"]) == (409, "RENEWAL_NOT_NEEDED")

    async def test_a_renewed_certificate_is_neither_renewed_again_nor_inspected(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        old = (await issue(officer, county, await add_person(county), issue_date=issued_to_expire_in(10))).json()
        assert (await _renew(officer, county, old)).status_code == 201
        current = (await officer.get(f"/api/v1/certificates/{old['id']}")).json()
        again = await _renew(officer, county, current, number="ANOTHER-1")
        assert (again.status_code, again.json()["error"]) == (409, "CERTIFICATE_NOT_IN_FORCE")
        inspected = await officer.post(
            f"/api/v1/certificates/{old['id']}/inspections",
            json={"inspected_on": china_today().isoformat(), "result": "valid"},
        )
        assert (inspected.status_code, inspected.json()["error"]) == (409, "CERTIFICATE_NOT_IN_FORCE")

    async def test_a_stale_version_is_409_with_the_current_values(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        old = (await issue(officer, county, await add_person(county), issue_date=issued_to_expire_in(10))).json()
        response = await _renew(officer, county, old, version=old["version"] + 7)
        assert (response.status_code, response.json()["error"]) == (409, "STALE_VERSION")
        assert response.json()["current"]["version"] == old["version"]
        assert (await officer.get(f"/api/v1/certificates/{old['id']}")).json()["status"] == "valid"

    async def test_the_renewal_follows_the_issue_rules(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        old = (await issue(officer, county, await add_person(county), issue_date=issued_to_expire_in(10))).json()
        taken = await _renew(officer, county, old, number=old["number"])
        assert (taken.status_code, taken.json()["error"]) == (409, "CERTIFICATE_NUMBER_TAKEN")
        shorter = await _renew(officer, county, old, valid_until=china_today().isoformat())
        assert (shorter.status_code, field_names(shorter)) == (422, ["valid_until"])
        assert (await officer.get(f"/api/v1/certificates/{old['id']}")).json()["status"] == "valid"


class TestRevocation:
    async def test_revocation_keeps_the_reason_and_is_audited(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        certificate = (await issue(officer, county, await add_person(county))).json()
        response = await officer.post(
            f"/api/v1/certificates/{certificate['id']}/revoke",
            json={"reason": "证件信息不实，经核查作废", "version": certificate["version"]},
        )
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["revocation_reason"]) == (
            "revoked",
            "证件信息不实，经核查作废",
        )
        again = await officer.post(
            f"/api/v1/certificates/{certificate['id']}/revoke",
            json={"reason": "重复注销", "version": response.json()["version"]},
        )
        assert (again.status_code, again.json()["error"]) == (409, "CERTIFICATE_NOT_IN_FORCE")
        auditor = await sign_in(county, "auditor")
        events = (await auditor.get("/api/v1/audit/events", params={"entity_id": certificate["id"]})).json()
        assert (events[0]["action"], events[0]["reason"]) == ("certificate.revoke", "证件信息不实，经核查作废")
        assert events[0]["changes"]["status"] == ["valid", "revoked"]
        # With the revoked one gone, the person may be issued a new certificate.
        assert (await issue(officer, county, certificate["person_id"])).status_code == 201

    @pytest.mark.parametrize(
        ("body", "field"), [({}, "reason"), ({"reason": "x"}, "reason"), ({"reason": "作废"}, "version")]
    )
    async def test_revocation_needs_a_reason_and_the_version(
        self, county: County, sign_in: SignIn, add_person: AddPerson, body: dict[str, Any], field: str
    ) -> None:
        officer = await sign_in(county, "officer")
        certificate = (await issue(officer, county, await add_person(county))).json()
        if field != "version":
            body = {**body, "version": certificate["version"]}
        response = await officer.post(f"/api/v1/certificates/{certificate['id']}/revoke", json=body)
        assert (response.status_code, field_names(response)) == (422, [field])
