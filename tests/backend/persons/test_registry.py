"""The person registry through the HTTP API: registration, validation, identifiers, re-registration, changes,
departure, search and history."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.tenancy import set_tenant
from tests.backend.persons.factories import make_id, person_body, with_wrong_check_digit
from tests.fixtures.identity import County, SignIn


async def register(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/persons", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def locs(response: httpx.Response) -> list[list[Any]]:
    return [field["loc"] for field in response.json()["fields"]]


class TestRegistration:
    async def test_registration_derives_birth_date_and_sex_from_the_id_number(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        number = make_id(birth=date(1992, 8, 15), sex="female")
        person = await register(officer, person_body(county, name="王 芳", resident_id=number))
        assert person["merged_into_existing"] is False
        assert (person["birth_date"], person["sex"]) == ("1992-08-15", "female")
        assert (person["name"], person["name_pinyin"]) == ("王芳", "wangfang")
        assert person["status"] == "active" and person["version"] == 1
        # The residence of an inflow person defaults to the managing unit.
        assert person["residence_division_code"] == county.units["v11"]
        # Answers other than the detail view never carry the full numbers.
        assert person["identifiers_masked"] is True
        assert person["resident_id"] == number[:6] + "********" + number[-4:]
        assert person["phone"] == "138****5678"

    @pytest.mark.parametrize(
        ("mangle", "fragment"),
        [
            (with_wrong_check_digit, "校验位"),
            (lambda number: number[:6] + "19900230" + number[14:17] + "X", "不是有效日期"),
            (lambda number: "119999" + number[6:], "行政区划"),
        ],
        ids=["wrong check digit", "impossible date", "unknown region"],
    )
    async def test_a_bad_id_number_is_refused_naming_the_field(
        self, county: County, sign_in: SignIn, mangle: Any, fragment: str
    ) -> None:
        officer = await sign_in(county, "officer")
        number = mangle(make_id())
        if fragment != "校验位":
            # Give the mangled number a correct check digit, so the intended rule is the one that fails.
            from backend.persons.resident_id import check_character

            number = number[:17] + check_character(number[:17])
        response = await officer.post("/api/v1/persons", json=person_body(county, resident_id=number))
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "INVALID_INPUT"
        assert locs(response) == [["body", "resident_id"]]
        assert fragment in response.json()["fields"][0]["msg"]

    async def test_every_bad_field_is_reported_at_once(self, county: County, sign_in: SignIn) -> None:
        coordinator = await sign_in(county, "coord11")
        number = make_id(birth=date(1990, 1, 1), sex="male")
        body = person_body(
            county,
            resident_id=number,
            birth_date="1990-01-02",
            sex="female",
            phone="12345",
            registration_division_code="999999",
            org_unit_code=county.units["v12"],  # a sibling village: outside the coordinator's reach
            children=[{"birth_order": 2, "birth_date": "2015-01-01", "sex": "male"}],
        )
        response = await coordinator.post("/api/v1/persons", json=body)
        assert response.status_code == 422, response.text
        assert sorted(map(str, locs(response))) == sorted(
            map(
                str,
                [
                    ["body", "birth_date"],
                    ["body", "sex"],
                    ["body", "phone"],
                    ["body", "registration_division_code"],
                    ["body", "org_unit_code"],
                    ["body", "children"],
                ],
            )
        )
        assert all(" / " in field["msg"] for field in response.json()["fields"])  # Chinese / English
        listed = await coordinator.get("/api/v1/persons", params={"resident_id": number})
        assert listed.json()["total"] == 0

    async def test_a_person_without_an_id_number_needs_a_sex(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        body = person_body(county, resident_id=None, phone=None)
        response = await officer.post("/api/v1/persons", json=body)
        assert (response.status_code, locs(response)) == (422, [["body", "sex"]])
        person = await register(officer, {**body, "sex": "female", "birth_date": "1991-02-03"})
        assert (person["resident_id"], person["birth_date"]) == (None, "1991-02-03")

    async def test_phone_numbers_are_normalised(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        mobile = await register(officer, person_body(county, phone="+86 138-1234-5678"))
        landline = await register(officer, person_body(county, phone="(0571) 8765 4321"))
        assert mobile["phone"] == "138****5678"
        assert landline["phone"] == "0571-****4321"

    async def test_malformed_bodies_are_422_not_500(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        for body in (
            {**person_body(county), "flow_direction": "sideways"},
            {**person_body(county), "org_unit_code": "abc"},
            {**person_body(county), "unknown": 1},
            {**person_body(county), "children": [{"birth_order": 0, "birth_date": "x", "sex": "male"}]},
        ):
            response = await officer.post("/api/v1/persons", json=body)
            assert response.status_code == 422, response.text


class TestPersonalDataProtection:
    async def test_identifiers_are_stored_only_encrypted_and_still_found_exactly(
        self, county: County, sign_in: SignIn, session: AsyncSession
    ) -> None:
        officer = await sign_in(county, "officer")
        number = make_id()
        phone = "13987654321"
        person = await register(officer, person_body(county, resident_id=number, phone=phone))

        await set_tenant(session, county.tenant.id)
        row = (
            await session.execute(
                text(
                    "SELECT resident_id_ciphertext, resident_id_hash, phone_ciphertext, phone_hash,"
                    " row_to_json(persons)::text AS whole FROM persons WHERE id = :id"
                ),
                {"id": person["id"]},
            )
        ).one()
        for secret in (number, number[:17], phone, phone[3:]):
            for stored in (row.resident_id_ciphertext, row.phone_ciphertext):
                assert secret.encode() not in stored
                assert secret not in stored.hex()
            assert secret not in row.resident_id_hash and secret not in row.phone_hash
            assert secret not in row.whole
        events = (
            await session.execute(
                text("SELECT changes::text FROM audit_events WHERE entity_id = :id"), {"id": person["id"]}
            )
        ).scalars()
        assert all(number not in changes and phone not in changes for changes in events)

        by_id = await officer.get("/api/v1/persons", params={"resident_id": number.lower()})
        assert [item["id"] for item in by_id.json()["items"]] == [person["id"]]
        by_phone = await officer.get("/api/v1/persons", params={"phone": "139 8765 4321"})
        assert [item["id"] for item in by_phone.json()["items"]] == [person["id"]]
        malformed = await officer.get("/api/v1/persons", params={"resident_id": "12345"})
        assert (malformed.status_code, locs(malformed)) == (422, [["query", "resident_id"]])

    async def test_lists_mask_the_detail_shows_full_numbers_to_officers_and_audits_it(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        number = make_id()
        person = await register(officer, person_body(county, resident_id=number, phone="13612345678"))

        listed = (await officer.get("/api/v1/persons", params={"resident_id": number})).json()["items"][0]
        assert (listed["resident_id"], listed["phone"]) == (number[:6] + "********" + number[-4:], "136****5678")

        detail = (await officer.get(f"/api/v1/persons/{person['id']}")).json()
        assert (detail["resident_id"], detail["phone"], detail["identifiers_masked"]) == (number, "13612345678", False)
        history = (await officer.get(f"/api/v1/persons/{person['id']}/history")).json()
        views = [event for event in history if event["action"] == "person.view_identifiers"]
        assert len(views) == 1 and views[0]["actor_label"].startswith("officer")
        assert number not in str(views[0]) and "13612345678" not in str(views[0])

    async def test_a_village_coordinator_sees_masked_numbers_and_leaves_no_view_event(
        self, county: County, sign_in: SignIn
    ) -> None:
        coordinator = await sign_in(county, "coord11")
        number = make_id()
        person = await register(coordinator, person_body(county, resident_id=number))
        detail = (await coordinator.get(f"/api/v1/persons/{person['id']}")).json()
        assert detail["identifiers_masked"] is True
        assert detail["resident_id"] == number[:6] + "********" + number[-4:]
        history = (await coordinator.get(f"/api/v1/persons/{person['id']}/history")).json()
        assert "person.view_identifiers" not in [event["action"] for event in history]

    async def test_history_shows_who_changed_what_with_identifiers_redacted(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await register(officer, person_body(county, resident_id=None, sex="female", phone="13512345678"))
        new_number = make_id(sex="female")
        changed = await officer.patch(
            f"/api/v1/persons/{person['id']}",
            json={"resident_id": new_number, "landlord_or_employer": "李老板", "version": person["version"]},
        )
        assert changed.status_code == 200, changed.text
        history = (await officer.get(f"/api/v1/persons/{person['id']}/history")).json()
        assert [event["action"] for event in history] == ["person.create", "person.update"]
        update = history[1]["changes"]
        assert update["landlord_or_employer"] == ["王房东", "李老板"]
        assert update["resident_id"] == [None, "***"]
        assert history[0]["changes"]["phone"] == [None, "***"]
        assert new_number not in str(history) and "13512345678" not in str(history)


class TestReRegistration:
    async def test_a_second_registration_of_an_id_number_updates_the_same_record(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        number = make_id(sex="female")
        first = await register(officer, person_body(county, resident_id=number))
        again = await officer.post(
            "/api/v1/persons",
            json=person_body(county, resident_id=number, org_unit_code=county.units["v12"], phone="13700001111"),
        )
        assert again.status_code == 200, again.text
        assert again.json()["merged_into_existing"] is True
        assert again.json()["id"] == first["id"]
        assert (again.json()["org_unit_code"], again.json()["phone"]) == (county.units["v12"], "137****1111")
        listed = (await officer.get("/api/v1/persons", params={"resident_id": number})).json()
        assert listed["total"] == 1
        history = (await officer.get(f"/api/v1/persons/{first['id']}/history")).json()
        assert [(event["action"], event["reason"]) for event in history] == [
            ("person.create", None),
            ("person.update", "re-registration"),
        ]

    async def test_re_registering_a_departed_person_makes_them_active_again(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        number = make_id()
        person = await register(officer, person_body(county, resident_id=number))
        await officer.post(
            f"/api/v1/persons/{person['id']}/depart", json={"departed_on": "2026-01-05", "reason": "返回户籍地"}
        )
        again = await officer.post("/api/v1/persons", json=person_body(county, resident_id=number))
        assert (again.status_code, again.json()["status"]) == (200, "active")

    async def test_an_id_number_held_by_a_unit_outside_reach_is_refused_without_details(
        self, county: County, sign_in: SignIn
    ) -> None:
        coordinator11 = await sign_in(county, "coord11")
        coordinator12 = await sign_in(county, "coord12")
        number = make_id()
        person = await register(coordinator11, person_body(county, "v11", resident_id=number, name="赵六"))
        response = await coordinator12.post("/api/v1/persons", json=person_body(county, "v12", resident_id=number))
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "REGISTERED_ELSEWHERE"
        assert person["id"] not in response.text and "赵六" not in response.text
        assert (await coordinator11.get(f"/api/v1/persons/{person['id']}")).json()["org_unit_code"] == county.units[
            "v11"
        ]


class TestChanges:
    async def test_a_stale_version_is_409_with_the_current_values_and_no_write_is_lost(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        county_officer = await sign_in(county, "county_officer")
        person = await register(officer, person_body(county))
        url = f"/api/v1/persons/{person['id']}"
        first = await officer.patch(url, json={"residence_address": "一村5组", "version": person["version"]})
        assert (first.status_code, first.json()["version"]) == (200, person["version"] + 1)
        second = await county_officer.patch(url, json={"residence_address": "一村9组", "version": person["version"]})
        assert (second.status_code, second.json()["error"]) == (409, "STALE_VERSION")
        current = second.json()["current"]
        assert (current["residence_address"], current["version"]) == ("一村5组", person["version"] + 1)
        assert current["identifiers_masked"] is True and "*" in current["resident_id"]
        assert (await officer.get(url)).json()["residence_address"] == "一村5组"

    async def test_changing_birth_date_or_sex_against_the_id_number_is_refused(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        person = await register(officer, person_body(county, resident_id=make_id(sex="female")))
        response = await officer.patch(
            f"/api/v1/persons/{person['id']}", json={"sex": "male", "birth_date": "2000-01-01", "version": 1}
        )
        assert response.status_code == 422
        assert sorted(map(str, locs(response))) == sorted(map(str, [["body", "sex"], ["body", "birth_date"]]))

    async def test_children_are_replaced_as_a_whole_and_birth_orders_must_run_from_one(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        children = [
            {"birth_order": 1, "birth_date": "2012-04-01", "sex": "female", "name": "小红"},
            {"birth_order": 2, "birth_date": "2016-09-09", "sex": "male"},
        ]
        person = await register(officer, person_body(county, children=children))
        assert [child["birth_order"] for child in person["children"]] == [1, 2]
        url = f"/api/v1/persons/{person['id']}"
        replaced = await officer.patch(
            url, json={"children": [{**children[1], "birth_order": 1}], "version": person["version"]}
        )
        assert replaced.status_code == 200, replaced.text
        assert [(c["birth_order"], c["birth_date"]) for c in replaced.json()["children"]] == [(1, "2016-09-09")]
        assert replaced.json()["version"] == person["version"] + 1
        gap = await officer.patch(
            url, json={"children": [{**children[0], "birth_order": 1}, {**children[1], "birth_order": 3}], "version": 2}
        )
        assert (gap.status_code, locs(gap)) == (422, [["body", "children"]])

    async def test_required_fields_cannot_be_cleared(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        person = await register(officer, person_body(county))
        response = await officer.patch(f"/api/v1/persons/{person['id']}", json={"name": None, "version": 1})
        assert (response.status_code, locs(response)) == (422, [["body", "name"]])

    async def test_moving_a_person_to_a_unit_outside_reach_is_refused(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        person = await register(officer, person_body(county))
        response = await officer.patch(
            f"/api/v1/persons/{person['id']}", json={"org_unit_code": county.units["v21"], "version": 1}
        )
        assert (response.status_code, locs(response)) == (422, [["body", "org_unit_code"]])

    async def test_a_spouse_must_be_a_person_of_this_county_within_reach(
        self, county: County, other: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        foreign_officer = await sign_in(other, "officer")
        foreign = await register(foreign_officer, person_body(other))
        husband = await register(officer, person_body(county, resident_id=make_id(sex="male"), name="陈刚"))
        wife = await register(officer, person_body(county, spouse_id=husband["id"]))
        assert wife["spouse_id"] == husband["id"]
        response = await officer.post("/api/v1/persons", json=person_body(county, spouse_id=foreign["id"]))
        assert (response.status_code, locs(response)) == (422, [["body", "spouse_id"]])

    async def test_departure_keeps_the_record_with_its_date_and_reason(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        person = await register(officer, person_body(county))
        url = f"/api/v1/persons/{person['id']}/depart"
        departed = await officer.post(url, json={"departed_on": "2026-02-01", "reason": "返乡", "version": 1})
        assert (departed.status_code, departed.json()["status"]) == (200, "departed")
        again = await officer.post(url, json={"departed_on": "2026-02-01", "reason": "返乡"})
        assert (again.status_code, again.json()["error"]) == (409, "PERSON_NOT_ACTIVE")
        future = await officer.post(
            f"/api/v1/persons/{(await register(officer, person_body(county)))['id']}/depart",
            json={"departed_on": "2999-01-01", "reason": "返乡"},
        )
        assert (future.status_code, locs(future)) == (422, [["body", "departed_on"]])
        history = (await officer.get(f"/api/v1/persons/{person['id']}/history")).json()
        depart = history[-1]
        assert (depart["action"], depart["reason"]) == ("person.depart", "返乡")
        assert depart["changes"]["status"] == ["active", "departed"]
        assert depart["changes"]["departed_on"] == [None, "2026-02-01"]
        listed = await officer.get("/api/v1/persons", params={"status": "departed", "q": person["name"]})
        assert person["id"] in {item["id"] for item in listed.json()["items"]}


class TestSearch:
    async def test_names_are_found_in_characters_or_pinyin(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        person = await register(officer, person_body(county, name="欧阳娜娜", org_unit_code=county.units["v12"]))
        for q in ("欧阳娜娜", "阳娜", "ouyang nana", "OuYangNaNa", "oynn"):
            found = await officer.get("/api/v1/persons", params={"q": q, "org_unit": county.units["v12"]})
            assert person["id"] in {item["id"] for item in found.json()["items"]}, q
        missed = await officer.get("/api/v1/persons", params={"q": "欧阳修", "org_unit": county.units["v12"]})
        assert person["id"] not in {item["id"] for item in missed.json()["items"]}
        bad = await officer.get("/api/v1/persons", params={"q": "123"})
        assert (bad.status_code, locs(bad)) == (422, [["query", "q"]])

    async def test_filters_and_sorting(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer2")
        unit = county.units["v21"]
        names = ["周七", "艾一", "孙五"]
        for index, name in enumerate(names):
            await register(
                officer,
                person_body(
                    county,
                    "v21",
                    name=name,
                    key_subject=index == 0,
                    flow_direction="outflow" if index == 2 else "inflow",
                ),
            )
        by_name = (await officer.get("/api/v1/persons", params={"org_unit": unit, "sort": "name"})).json()
        ours = [item["name"] for item in by_name["items"] if item["name"] in names]
        assert ours == ["艾一", "孙五", "周七"]  # 拼音排序: ai, sun, zhou
        newest = (await officer.get("/api/v1/persons", params={"org_unit": unit, "sort": "-registered"})).json()
        assert [item["name"] for item in newest["items"] if item["name"] in names] == list(reversed(names))
        key = (await officer.get("/api/v1/persons", params={"org_unit": unit, "key_subject": True})).json()
        assert "周七" in {item["name"] for item in key["items"]} and "艾一" not in {i["name"] for i in key["items"]}
        outflow = (await officer.get("/api/v1/persons", params={"org_unit": unit, "flow_direction": "outflow"})).json()
        assert {item["name"] for item in outflow["items"]} & set(names) == {"孙五"}
        paged = (await officer.get("/api/v1/persons", params={"org_unit": unit, "size": 2, "page": 1})).json()
        assert len(paged["items"]) == 2 and paged["total"] >= 3 and paged["size"] == 2
