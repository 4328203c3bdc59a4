"""Issuing a certificate (婚育证明), or recording one issued elsewhere: validity, permanence, proxy, numbers."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from backend.calendar.service import china_today
from backend.models import ContraceptionMeasure
from tests.backend.certificates.conftest import AddPerson, field_names, issue
from tests.fixtures.identity import County, SignIn


class TestValidity:
    async def test_a_certificate_is_valid_exactly_three_years_from_its_issue_date(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        issued_on = china_today() - timedelta(days=10)
        response = await issue(officer, county, person, issue_date=issued_on)
        assert response.status_code == 201, response.text
        certificate = response.json()
        expected = issued_on.replace(year=issued_on.year + 3)
        assert certificate["valid_until"] == expected.isoformat()
        assert certificate["status"] == "valid"
        assert certificate["permanent"] is False
        assert certificate["expires_in_days"] == (expected - china_today()).days
        # The issuing township's name comes from the org tree; the record is kept by the holder's village.
        assert certificate["issuing_unit_name"] == "一镇"
        assert certificate["issued_elsewhere"] is False
        assert certificate["org_unit_code"] == county.units["v11"]

    @pytest.mark.parametrize(
        ("issued_on", "valid_until"),
        [
            # Civil Code art. 202: a period in years without a corresponding day ends on the month's last day.
            (date(2024, 2, 29), date(2027, 2, 28)),
            (date(2024, 3, 1), date(2027, 3, 1)),
            (date(2023, 2, 28), date(2026, 2, 28)),
            (date(2025, 2, 28), date(2028, 2, 28)),
        ],
    )
    async def test_three_years_on_a_29_february_ends_on_28_february(
        self, county: County, sign_in: SignIn, add_person: AddPerson, issued_on: date, valid_until: date
    ) -> None:
        officer = await sign_in(county, "officer")
        response = await issue(officer, county, await add_person(county), issue_date=issued_on)
        assert response.status_code == 201, response.text
        assert response.json()["valid_until"] == valid_until.isoformat()

    @pytest.mark.parametrize("days", [-1, -365])
    async def test_a_shorter_validity_is_refused_quoting_the_rule(
        self, county: County, sign_in: SignIn, add_person: AddPerson, days: int
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        issued_on = china_today()
        shorter = issued_on.replace(year=issued_on.year + 3) + timedelta(days=days)
        response = await issue(officer, county, person, issue_date=issued_on, valid_until=shorter)
        assert response.status_code == 422, response.text
        assert field_names(response) == ["valid_until"]
        assert "不得以任何理由缩短期限" in response.json()["fields"][0]["msg"]
        assert "不得以任何理由缩短期限" in response.json()["detail"]
        listed = (await officer.get(f"/api/v1/persons/{person.id}/certificates")).json()
        assert listed["total"] == 0

    async def test_a_longer_validity_is_refused_too_and_the_exact_one_accepted(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        issued_on = china_today()
        exact = issued_on.replace(year=issued_on.year + 3)
        longer = await issue(officer, county, person, valid_until=exact + timedelta(days=1))
        assert (longer.status_code, field_names(longer)) == (422, ["valid_until"])
        accepted = await issue(officer, county, person, valid_until=exact)
        assert accepted.status_code == 201, accepted.text


class TestPermanence:
    async def test_a_sterilised_person_may_hold_a_permanent_certificate(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county, contraception=ContraceptionMeasure.sterilisation)
        response = await issue(officer, county, person, permanent=True)
        assert response.status_code == 201, response.text
        certificate = response.json()
        assert (certificate["permanent"], certificate["valid_until"], certificate["expires_in_days"]) == (
            True,
            None,
            None,
        )
        assert certificate["status"] == "valid"

    @pytest.mark.parametrize("measure", [None, ContraceptionMeasure.iud, ContraceptionMeasure.implant])
    async def test_permanent_is_refused_without_sterilisation_naming_the_field(
        self, county: County, sign_in: SignIn, add_person: AddPerson, measure: ContraceptionMeasure | None
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county, contraception=measure)
        response = await issue(officer, county, person, permanent=True)
        assert (response.status_code, field_names(response)) == (422, ["permanent"])
        assert "绝育" in response.json()["fields"][0]["msg"]

    async def test_a_permanent_certificate_takes_no_end_date(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county, contraception=ContraceptionMeasure.sterilisation)
        response = await issue(officer, county, person, permanent=True, valid_until="2099-01-01")
        assert (response.status_code, field_names(response)) == (422, ["valid_until"])


class TestIssue:
    async def test_a_duplicate_number_in_the_county_is_409_but_another_county_may_use_it(
        self, county: County, other: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        first = await issue(officer, county, await add_person(county), number="浙杭字第2026-001号")
        assert first.status_code == 201, first.text
        second = await issue(officer, county, await add_person(county, "王芳"), number="浙杭字第2026-001号")
        assert (second.status_code, second.json()["error"]) == (409, "CERTIFICATE_NUMBER_TAKEN")
        assert field_names(second) == ["number"]
        elsewhere = await sign_in(other, "officer")
        same_number = await issue(elsewhere, other, await add_person(other), number="浙杭字第2026-001号")
        assert same_number.status_code == 201, same_number.text

    async def test_a_family_member_may_apply_for_a_woman_who_has_left(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        response = await issue(officer, county, person, issued_by_proxy=True, proxy_name="李建国")
        assert response.status_code == 201, response.text
        assert (response.json()["issued_by_proxy"], response.json()["proxy_name"]) == (True, "李建国")

    async def test_a_certificate_issued_by_another_county_is_recorded_on_arrival(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        issued_on = china_today() - timedelta(days=400)
        response = await issue(
            officer,
            county,
            person,
            issue_date=issued_on,
            issuing_unit_code="341225100",
            issuing_unit_name="阜南县王家坝镇人民政府",
        )
        assert response.status_code == 201, response.text
        certificate = response.json()
        assert (certificate["issuing_unit_code"], certificate["issuing_unit_name"]) == (
            "341225100",
            "阜南县王家坝镇人民政府",
        )
        assert certificate["issued_elsewhere"] is True
        assert certificate["valid_until"] == issued_on.replace(year=issued_on.year + 3).isoformat()
        # First inspection on arrival: due until somebody inspects it.
        assert certificate["inspection_due"] is True

    async def test_a_second_certificate_in_force_is_refused(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        assert (await issue(officer, county, person)).status_code == 201
        second = await issue(officer, county, person)
        assert (second.status_code, second.json()["error"]) == (409, "CERTIFICATE_IN_FORCE")

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"issue_date": "FUTURE"}, "issue_date"),
            ({"issue_date": "1985-05-01"}, "issue_date"),
            ({"issuing_unit_code": "V11"}, "issuing_unit_code"),  # a village does not issue certificates
            ({"issuing_unit_code": "COUNTY"}, "issuing_unit_code"),
            ({"issuing_unit_code": "T9"}, "issuing_unit_code"),  # no such township in this county
            ({"issuing_unit_code": "600101001", "issuing_unit_name": "某镇"}, "issuing_unit_code"),  # no such division
            ({"issuing_unit_code": "341225100"}, "issuing_unit_name"),  # elsewhere: the name must be given
            ({"issued_by_proxy": True}, "proxy_name"),
            ({"proxy_name": "李建国"}, "proxy_name"),
            ({"number": "HY 001"}, "number"),
            ({"number": ""}, "number"),
            ({"fee": 20}, "fee"),  # issue is free: there is no fee field to fill
            ({"issuing_unit_code": "33010"}, "issuing_unit_code"),
        ],
    )
    async def test_bad_requests_are_refused_naming_the_field_and_nothing_is_written(
        self,
        county: County,
        sign_in: SignIn,
        add_person: AddPerson,
        overrides: dict[str, Any],
        field: str,
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await add_person(county)
        placeholders = {
            "FUTURE": (china_today() + timedelta(days=1)).isoformat(),
            "V11": county.units["v11"],
            "COUNTY": county.code,
            "T9": county.code + "009",
        }
        resolved = {
            key: placeholders.get(value, value) if isinstance(value, str) else value for key, value in overrides.items()
        }
        response = await issue(officer, county, person, **resolved)
        assert response.status_code == 422, response.text
        assert field in field_names(response)
        assert all("/" in item["msg"] for item in response.json()["fields"])  # Chinese first, then English
        assert (await officer.get(f"/api/v1/persons/{person.id}/certificates")).json()["total"] == 0

    async def test_issue_is_audited_with_the_new_values(
        self, county: County, sign_in: SignIn, add_person: AddPerson
    ) -> None:
        officer = await sign_in(county, "officer")
        certificate = (await issue(officer, county, await add_person(county), number="AUDIT-1")).json()
        auditor = await sign_in(county, "auditor")
        events = (await auditor.get("/api/v1/audit/events", params={"entity_id": certificate["id"]})).json()
        assert [event["action"] for event in events] == ["certificate.issue"]
        assert events[0]["changes"]["number"] == [None, "AUDIT-1"]
        assert events[0]["changes"]["valid_until"] == [None, certificate["valid_until"]]
        assert events[0]["actor_label"].startswith("officer")

    async def test_an_unknown_person_is_404(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        response = await issue(officer, county, uuid.uuid4())
        assert response.status_code == 404
