"""Three-level data review (issue #22 point 5, seeds-spec P25 三级把关): when the county requires it, what a village
coordinator registers or changes waits for the township's confirmation before it counts in the registers and
reports; the township confirms or sends it back with a reason; each step audited; nothing of a sibling township or
another county in reach."""

from __future__ import annotations

from typing import Any

import httpx

from backend.authz.vocabulary import Role
from backend.core.clock import china_today
from backend.db.engine import Database
from tests.backend.data_review.conftest import require_confirmation
from tests.backend.persons.factories import person_body
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


async def _register(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/persons", json=body)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def _inflow_names(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/v1/registers/inflow", params={"size": 200})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def _completeness_ids(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/v1/kpis/data_completeness/rows", params={"part": "all", "size": 200})
    assert response.status_code == 200, response.text
    return [str(item["id"]) for item in response.json()["items"]]


async def _village_inflow_total(client: httpx.AsyncClient, county: County) -> int:
    """The statistical report's 流入人员总数 of village v11 this month."""
    response = await client.get("/api/v1/reports/month", params={"period": f"{china_today():%Y-%m}"})
    assert response.status_code == 200, response.text
    [row] = [r for r in response.json()["rows"] if r["unit_code"] == county.units["v11"] and r["row_kind"] == "village"]
    return int(row["values"]["inflow_total"])


async def _pending(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/entry-reviews", params={"state": "pending"})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _audit_actions(client: httpx.AsyncClient, entity_type: str) -> list[str]:
    response = await client.get("/api/v1/audit/events", params={"entity_type": entity_type})
    assert response.status_code == 200, response.text
    return [event["action"] for event in reversed(response.json())]  # oldest first


async def test_a_pending_village_entry_absent_from_the_register(county: County, sign_in: SignIn) -> None:
    await require_confirmation(await sign_in(county, "county.admin"))
    coordinator, officer = await sign_in(county, "v11.coord"), await sign_in(county, "t1.officer")
    person = await _register(coordinator, person_body(county, name="赵待审"))
    assert person["review_state"] == "pending"
    listed = (await coordinator.get("/api/v1/persons", params={"q": "赵待审"})).json()["items"]
    assert [(item["name"], item["review_state"]) for item in listed] == [("赵待审", "pending")]
    assert "赵待审" not in await _inflow_names(officer)
    assert "赵待审" not in await _inflow_names(coordinator)
    assert person["id"] not in await _completeness_ids(officer)
    assert await _village_inflow_total(officer, county) == 0

    [entry] = await _pending(officer)
    assert (entry["person_id"], entry["kind"], entry["entered_by_label"]) == (
        person["id"],
        "registration",
        "v11.coord (v11.coord)",
    )
    assert entry["changes"]["name"] == [None, "赵待审"]
    assert entry["changes"]["resident_id"] == [None, "***"]
    confirmed = await officer.post(f"/api/v1/entry-reviews/{entry['id']}/confirm", json={"version": entry["version"]})
    assert confirmed.status_code == 200, confirmed.text
    assert (
        confirmed.json()["state"] == "confirmed" and confirmed.json()["decided_by_label"] == "t1.officer (t1.officer)"
    )

    assert "赵待审" in await _inflow_names(officer)
    assert person["id"] in await _completeness_ids(officer)
    assert await _village_inflow_total(officer, county) == 1
    assert (await officer.get(f"/api/v1/persons/{person['id']}")).json()["review_state"] is None
    assert await _pending(officer) == []
    again = await officer.post(f"/api/v1/entry-reviews/{entry['id']}/confirm", json={"version": entry["version"] + 1})
    assert again.status_code == 409 and again.json()["error"] == "ENTRY_DECIDED"
    admin = await sign_in(county, "county.admin")
    assert await _audit_actions(admin, "entry_review") == ["entry_review.submit", "entry_review.confirm"]


async def test_with_the_setting_off_a_village_entry_counts_at_once(county: County, sign_in: SignIn) -> None:
    coordinator, officer = await sign_in(county, "v11.coord"), await sign_in(county, "t1.officer")
    person = await _register(coordinator, person_body(county, name="钱即时"))
    assert person["review_state"] is None
    assert "钱即时" in await _inflow_names(officer)
    assert await _pending(officer) == []


async def test_an_officers_own_entry_needs_no_confirmation(county: County, sign_in: SignIn) -> None:
    await require_confirmation(await sign_in(county, "county.admin"))
    officer = await sign_in(county, "t1.officer")
    person = await _register(officer, person_body(county, name="孙乡录"))
    assert person["review_state"] is None
    assert "孙乡录" in await _inflow_names(officer)


async def test_a_rejected_registration_does_not_count_and_the_coordinator_reads_why(
    county: County, sign_in: SignIn
) -> None:
    await require_confirmation(await sign_in(county, "county.admin"))
    coordinator, supervisor = await sign_in(county, "v11.coord"), await sign_in(county, "t1.sup")
    person = await _register(coordinator, person_body(county, name="李退回"))
    [entry] = await _pending(supervisor)
    no_reason = await supervisor.post(f"/api/v1/entry-reviews/{entry['id']}/reject", json={"version": 1})
    assert no_reason.status_code == 422
    assert [field["loc"] for field in no_reason.json()["fields"]] == [["body", "reason"]]
    rejected = await supervisor.post(
        f"/api/v1/entry-reviews/{entry['id']}/reject", json={"version": entry["version"], "reason": "住址与门牌不符"}
    )
    assert rejected.status_code == 200, rejected.text

    mine = (await coordinator.get("/api/v1/entry-reviews", params={"state": "rejected"})).json()["items"]
    assert [(item["person_id"], item["reason"]) for item in mine] == [(person["id"], "住址与门牌不符")]
    assert (await coordinator.get(f"/api/v1/persons/{person['id']}")).json()["review_state"] == "rejected"
    assert "李退回" not in await _inflow_names(supervisor)
    assert person["id"] not in await _completeness_ids(supervisor)

    # Corrected, it goes back to the township.
    current = (await coordinator.get(f"/api/v1/persons/{person['id']}")).json()
    corrected = await coordinator.patch(
        f"/api/v1/persons/{person['id']}", json={"residence_address": "一村3组14号", "version": current["version"]}
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["review_state"] == "pending"
    assert corrected.json()["residence_address"] == "一村3组14号"
    assert [item["kind"] for item in await _pending(supervisor)] == ["registration"]
    assert await _audit_actions(await sign_in(county, "county.admin"), "entry_review") == [
        "entry_review.submit",
        "entry_review.reject",
        "entry_review.submit",
    ]


async def test_a_coordinators_change_waits_and_is_applied_once_confirmed(county: County, sign_in: SignIn) -> None:
    coordinator, officer = await sign_in(county, "v11.coord"), await sign_in(county, "t1.officer")
    person = await _register(coordinator, person_body(county, name="周变更", phone="13900000001"))
    await require_confirmation(await sign_in(county, "county.admin"))
    changed = await coordinator.patch(
        f"/api/v1/persons/{person['id']}",
        json={"name": "周变更改", "phone": "13900000002", "version": person["version"]},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["review_state"]) == ("周变更", "changes_pending")
    assert "周变更" in await _inflow_names(officer) and "周变更改" not in await _inflow_names(officer)

    [entry] = await _pending(officer)
    assert entry["kind"] == "change"
    assert entry["changes"] == {"name": ["周变更", "周变更改"], "phone": ["***", "***"]}
    confirmed = await officer.post(f"/api/v1/entry-reviews/{entry['id']}/confirm", json={"version": entry["version"]})
    assert confirmed.status_code == 200, confirmed.text
    after = (await officer.get(f"/api/v1/persons/{person['id']}", params={"reveal": "true"})).json()
    assert (after["name"], after["review_state"]) == ("周变更改", None)
    assert "周变更改" in await _inflow_names(officer)
    assert "person.update" in await _audit_actions(await sign_in(county, "county.admin"), "person")


async def test_a_change_sent_back_is_dropped(county: County, sign_in: SignIn) -> None:
    coordinator, officer = await sign_in(county, "v11.coord"), await sign_in(county, "t1.officer")
    person = await _register(coordinator, person_body(county, name="吴原样"))
    await require_confirmation(await sign_in(county, "county.admin"))
    await coordinator.patch(f"/api/v1/persons/{person['id']}", json={"name": "吴改错", "version": person["version"]})
    [entry] = await _pending(officer)
    rejected = await officer.post(
        f"/api/v1/entry-reviews/{entry['id']}/reject", json={"version": entry["version"], "reason": "姓名无误，不必改"}
    )
    assert rejected.status_code == 200, rejected.text
    after = (await officer.get(f"/api/v1/persons/{person['id']}")).json()
    assert (after["name"], after["review_state"]) == ("吴原样", None)


async def test_only_the_villages_township_confirms(
    county: County, sign_in: SignIn, database: Database, tenant_factory: TenantFactory
) -> None:
    await require_confirmation(await sign_in(county, "county.admin"))
    coordinator = await sign_in(county, "v11.coord")
    await _register(coordinator, person_body(county, name="郑越权"))
    [entry] = await _pending(await sign_in(county, "t1.officer"))
    url = f"/api/v1/entry-reviews/{entry['id']}"
    body = {"version": entry["version"]}

    sibling = await sign_in(county, "t2.officer")
    assert await _pending(sibling) == []
    assert (await sibling.get(url)).status_code == 404
    assert (await sibling.post(f"{url}/confirm", json=body)).status_code == 404
    assert (await sibling.post(f"{url}/reject", json={**body, "reason": "越权"})).status_code == 404
    # The coordinator sees her entry but cannot confirm it herself.
    assert (await coordinator.get(url)).status_code == 200
    assert (await coordinator.post(f"{url}/confirm", json=body)).status_code == 403

    other = await build_county(database, tenant_factory, "他县")
    await add_user(database, other, "other.officer", "t1", [(Role.township_officer, "t1")])
    stranger = await sign_in(other, "other.officer")
    assert await _pending(stranger) == []
    assert (await stranger.get(url)).status_code == 404
    assert (await stranger.post(f"{url}/confirm", json=body)).status_code == 404
    assert [item["state"] for item in await _pending(await sign_in(county, "t1.sup"))] == ["pending"]
