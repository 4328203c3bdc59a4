"""A village coordinator's spreadsheet import goes through the township like her registrations one by one (三级把关):
new records are pending, rows for counted records are held as re-registrations until confirmed."""

from __future__ import annotations

from tests.backend.data_review.conftest import require_confirmation
from tests.backend.persons.factories import make_id, person_body
from tests.backend.persons.test_import import row, to_csv, upload
from tests.fixtures.identity import County, SignIn


async def test_a_coordinators_import_waits_for_the_township(county: County, sign_in: SignIn) -> None:
    coordinator, officer = await sign_in(county, "v11.coord"), await sign_in(county, "t1.officer")
    known = make_id(sex="female")
    counted = await coordinator.post("/api/v1/persons", json=person_body(county, name="导入旧", resident_id=known))
    assert counted.status_code == 201, counted.text
    await require_confirmation(await sign_in(county, "county.admin"))

    fresh = make_id(sex="female")
    data = to_csv([row(county, "导入新", fresh), row(county, "导入旧", known, 备注="导入修改")])
    imported = await upload(coordinator, data)
    assert imported.status_code == 200, imported.text
    assert (imported.json()["created"], imported.json()["updated"]) == (1, 1)

    entries = (await officer.get("/api/v1/entry-reviews", params={"state": "pending"})).json()["items"]
    assert sorted((entry["person_name"], entry["kind"]) for entry in entries) == [
        ("导入新", "registration"),
        ("导入旧", "re_registration"),
    ]
    old = (await officer.get(f"/api/v1/persons/{counted.json()['id']}")).json()
    assert (old["notes"], old["review_state"]) == (None, "changes_pending")
    names = [item["name"] for item in (await officer.get("/api/v1/registers/inflow")).json()["items"]]
    assert "导入新" not in names and "导入旧" in names

    held = next(entry for entry in entries if entry["kind"] == "re_registration")
    confirmed = await officer.post(f"/api/v1/entry-reviews/{held['id']}/confirm", json={"version": held["version"]})
    assert confirmed.status_code == 200, confirmed.text
    after = (await officer.get(f"/api/v1/persons/{counted.json()['id']}")).json()
    assert (after["notes"], after["review_state"]) == ("导入修改", None)
