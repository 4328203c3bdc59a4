"""Duplicates: candidate suggestions without ID numbers, merging a duplicate, and an administrator's unmerge."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from tests.backend.persons.factories import make_id, person_body
from tests.fixtures.identity import County, SignIn


async def register(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/persons", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def without_id(county: County, unit: str = "v11", **overrides: Any) -> dict[str, Any]:
    return person_body(county, unit, resident_id=None, phone=None, **overrides)


class TestCandidates:
    async def test_zhang_san_and_zhang_san_in_letters_with_same_sex_and_birth_date_are_suggested(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        born = "1987-06-05"
        hanzi = await register(officer, without_id(county, name="张三", sex="female", birth_date=born))
        letters = await register(officer, without_id(county, "v12", name="Zhang San", sex="female", birth_date=born))
        other_sex = await register(officer, without_id(county, name="张三", sex="male", birth_date=born))
        other_day = await register(officer, without_id(county, name="张三", sex="female", birth_date="1987-06-06"))
        other_name = await register(officer, without_id(county, name="张山峰", sex="female", birth_date=born))

        found = await officer.get(f"/api/v1/persons/{hanzi['id']}/duplicates")
        assert found.status_code == 200, found.text
        ids = {item["id"] for item in found.json()}
        assert letters["id"] in ids
        assert not ids & {hanzi["id"], other_sex["id"], other_day["id"], other_name["id"]}
        back = await officer.get(f"/api/v1/persons/{letters['id']}/duplicates")
        assert hanzi["id"] in {item["id"] for item in back.json()}

    async def test_candidates_stay_within_the_callers_reach(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        coordinator = await sign_in(county, "coord11")
        born = "1979-11-30"
        mine = await register(coordinator, without_id(county, name="刘洋", sex="male", birth_date=born))
        sibling = await register(officer, without_id(county, "v12", name="Liu Yang", sex="male", birth_date=born))
        seen = (await officer.get(f"/api/v1/persons/{mine['id']}/duplicates")).json()
        assert sibling["id"] in {item["id"] for item in seen}
        seen = (await coordinator.get(f"/api/v1/persons/{mine['id']}/duplicates")).json()
        assert sibling["id"] not in {item["id"] for item in seen}


class TestMerge:
    async def test_merge_then_an_administrator_unmerges_and_the_audit_trail_shows_both(
        self, county: County, sign_in: SignIn
    ) -> None:
        officer = await sign_in(county, "officer")
        born = date(1990, 4, 12)
        number = make_id(birth=born, sex="female")
        source = await register(
            officer,
            person_body(county, name="Chen Jing", resident_id=number, phone="13811112222", notes="旧档案"),
        )
        target_body = without_id(county, name="陈静", sex="female", birth_date=born.isoformat())
        target = await register(officer, {**target_body, "landlord_or_employer": "张房东"})

        merged = await officer.post(
            f"/api/v1/persons/{source['id']}/merge", json={"into_id": target["id"], "reason": "同一人重复登记"}
        )
        assert merged.status_code == 200, merged.text
        after = merged.json()
        assert (after["source"]["status"], after["source"]["merged_into_id"]) == ("merged", target["id"])
        # The target took over what it lacked, and kept what it had.
        assert after["target"]["resident_id"] == number[:6] + "********" + number[-4:]
        assert after["target"]["phone"] == "138****2222"
        assert after["target"]["notes"] == "旧档案"
        assert after["target"]["landlord_or_employer"] == "张房东"
        by_number = (await officer.get("/api/v1/persons", params={"resident_id": number})).json()["items"]
        assert [item["id"] for item in by_number] == [target["id"]]
        # A merged record is read-only and no longer in the list by default.
        edit = await officer.patch(f"/api/v1/persons/{source['id']}", json={"notes": "x", "version": 2})
        assert (edit.status_code, edit.json()["error"]) == (409, "PERSON_MERGED")

        # Only a county supervisor undoes a merge: not a township officer, not a county administrator.
        refused = await officer.post(f"/api/v1/persons/{source['id']}/unmerge", json={"reason": "误合并"})
        assert refused.status_code == 403
        plain_admin = await sign_in(county, "admin")
        refused = await plain_admin.post(f"/api/v1/persons/{source['id']}/unmerge", json={"reason": "误合并"})
        assert refused.status_code == 403
        admin = await sign_in(county, "county_supervisor")
        restored = await admin.post(f"/api/v1/persons/{source['id']}/unmerge", json={"reason": "误合并，两人不同"})
        assert restored.status_code == 200, restored.text
        assert (restored.json()["status"], restored.json()["merged_into_id"]) == ("active", None)
        target_now = (await officer.get(f"/api/v1/persons/{target['id']}")).json()
        assert (target_now["resident_id"], target_now["phone"], target_now["notes"]) == (None, None, None)
        assert target_now["landlord_or_employer"] == "张房东"
        by_number = (await officer.get("/api/v1/persons", params={"resident_id": number})).json()["items"]
        assert [item["id"] for item in by_number] == [source["id"]]

        source_history = (await officer.get(f"/api/v1/persons/{source['id']}/history")).json()
        actions = [(event["action"], event["reason"]) for event in source_history]
        assert actions[-2:] == [("person.merge", "同一人重复登记"), ("person.unmerge", "误合并，两人不同")]
        merge_event = source_history[-2]
        assert sorted(merge_event["changes"]["moved_to_target"][1]) == ["notes", "phone", "resident_id"]
        assert merge_event["correlation_id"] == source_history[-1]["correlation_id"]
        target_history = (await officer.get(f"/api/v1/persons/{target['id']}/history")).json()
        target_actions = [event["action"] for event in target_history if event["action"] != "person.view_identifiers"]
        assert target_actions == ["person.create", "person.merge", "person.unmerge"]
        assert target_history[1]["changes"]["resident_id"] == [None, "***"]
        assert number not in str(source_history) + str(target_history)

    async def test_records_that_cannot_be_one_person_are_not_merged(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        first = await register(officer, person_body(county, resident_id=make_id(sex="female")))
        second = await register(officer, person_body(county, resident_id=make_id(sex="female")))
        man = await register(officer, without_id(county, sex="male", birth_date="1980-01-01"))
        for source, into in ((first, second), (first, man), (first, first)):
            response = await officer.post(
                f"/api/v1/persons/{source['id']}/merge", json={"into_id": into["id"], "reason": "测试合并"}
            )
            assert (response.status_code, response.json()["fields"][0]["loc"]) == (422, ["body", "into_id"])
        assert (await officer.get(f"/api/v1/persons/{first['id']}")).json()["status"] == "active"

    async def test_unmerge_of_a_record_that_is_not_merged_is_409(self, county: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "county_supervisor")
        person = await register(admin, person_body(county))
        response = await admin.post(f"/api/v1/persons/{person['id']}/unmerge", json={"reason": "测试撤销"})
        assert (response.status_code, response.json()["error"]) == (409, "NOT_MERGED")
