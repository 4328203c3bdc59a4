"""The data review on the pages: the 待审核 badge in the person list and on the person page, the township's list of
entries and an entry's page with what was entered, confirming and sending back with a reason (refused without
one, at its field), the administrator's switch of the county rule, and the re-check lists (draw, record)."""

from __future__ import annotations

import re

import httpx

from backend.core.clock import china_today
from tests.backend.data_review.conftest import require_confirmation
from tests.backend.persons.factories import person_body
from tests.fixtures.identity import County, SignIn


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def _entry_link(client: httpx.AsyncClient) -> str:
    page = await client.get("/entry-reviews")
    assert page.status_code == 200, page.text
    links = re.findall(r'href="(/entry-reviews/[0-9a-f-]{36})"', page.text)
    assert len(links) == 1, page.text
    return links[0]


async def test_a_pending_entry_is_badged_and_confirmed_on_the_pages(county: County, sign_in: SignIn) -> None:
    await require_confirmation(await sign_in(county, "county.admin"))
    coordinator, officer = await sign_in(county, "v11.coord"), await sign_in(county, "t1.officer")
    person = (await coordinator.post("/api/v1/persons", json=person_body(county, name="冯页面"))).json()
    listed = await coordinator.get("/persons", params={"q": "冯页面"})
    assert 'data-testid="review-badge">待审核<' in listed.text
    detail = await coordinator.get(f"/persons/{person['id']}")
    assert 'data-testid="review-badge">待审核<' in detail.text and "须经乡镇确认后才计入台账和报表" in detail.text

    link = await _entry_link(officer)
    entry = await officer.get(link)
    assert "冯页面" in entry.text and "新登记" in entry.text and "***" in entry.text
    refused = await officer.post(f"{link}/reject", data={"csrf_token": _csrf(entry.text), "version": "1"})
    assert refused.status_code == 422 and 'id="e-reason"' in refused.text
    confirmed = await officer.post(f"{link}/confirm", data={"csrf_token": _csrf(entry.text), "version": "1"})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == f"{link}?done=confirmed"
    after = await coordinator.get(f"/persons/{person['id']}")
    assert 'data-testid="review-badge"' not in after.text


async def test_the_coordinator_reads_why_her_entry_was_sent_back(county: County, sign_in: SignIn) -> None:
    await require_confirmation(await sign_in(county, "county.admin"))
    coordinator, supervisor = await sign_in(county, "v11.coord"), await sign_in(county, "t1.sup")
    person = (await coordinator.post("/api/v1/persons", json=person_body(county, name="陈退页"))).json()
    link = await _entry_link(supervisor)
    entry = await supervisor.get(link)
    sent_back = await supervisor.post(
        f"{link}/reject", data={"csrf_token": _csrf(entry.text), "version": "1", "reason": "身份证号码与户籍不符"}
    )
    assert sent_back.status_code == 303
    page = await coordinator.get(f"/persons/{person['id']}")
    assert "未通过审核" in page.text and "身份证号码与户籍不符" in page.text
    mine = await coordinator.get("/entry-reviews", params={"state": "rejected"})
    assert "身份证号码与户籍不符" in mine.text
    # The coordinator may read the entry but finds no forms to decide it.
    own = await coordinator.get(link)
    assert own.status_code == 200 and "/confirm" not in own.text


async def test_the_administrator_switches_the_rule(county: County, sign_in: SignIn) -> None:
    admin = await sign_in(county, "county.admin")
    page = await admin.get("/admin/data-review")
    assert page.status_code == 200 and "村级录入须经乡镇确认" in page.text
    saved = await admin.post(
        "/admin/data-review",
        data={"csrf_token": _csrf(page.text), "version": "", "village_entries_need_confirmation": "1"},
    )
    assert saved.status_code == 303, saved.text
    assert (await admin.get("/api/v1/county-settings")).json()["village_entries_need_confirmation"] is True
    coordinator = await sign_in(county, "v11.coord")
    assert (await coordinator.get("/admin/data-review")).status_code in (403, 404)


async def test_a_township_draws_a_list_and_records_findings_on_the_pages(county: County, sign_in: SignIn) -> None:
    officer = await sign_in(county, "t1.officer")
    for name in ("页查一", "页查二", "页查三"):
        assert (await officer.post("/api/v1/persons", json=person_body(county, name=name))).status_code == 201
    page = await officer.get("/rechecks")
    assert page.status_code == 200 and county.units["v11"] in page.text
    month = f"{china_today():%Y-%m}"
    future = await officer.post(
        "/rechecks", data={"csrf_token": _csrf(page.text), "org_unit_code": county.units["v11"], "month": "2999-01"}
    )
    assert future.status_code == 422 and "月份不能晚于本月" in future.text
    drawn = await officer.post(
        "/rechecks", data={"csrf_token": _csrf(page.text), "org_unit_code": county.units["v11"], "month": month}
    )
    assert drawn.status_code == 303, drawn.text
    link = drawn.headers["location"].split("?")[0]
    detail = await officer.get(link)
    assert "按保存的种子重新抽取，结果一致" in detail.text
    items = re.findall(rf'action="({link}/items/[0-9a-f-]{{36}})"', detail.text)
    persons = re.findall(r'name="person_id" value="([0-9a-f-]{36})"', detail.text)
    assert len(items) == 3
    token = _csrf(detail.text)
    corrected = await officer.post(
        items[0],
        data={
            "csrf_token": token,
            "version": "1",
            "person_id": persons[0],
            "finding": "corrected",
            "residence_address": "一村9组1号",
        },
    )
    assert corrected.status_code == 303, corrected.text
    assert (await officer.get(f"/api/v1/persons/{persons[0]}")).json()["residence_address"] == "一村9组1号"
    no_finding = await officer.post(items[1], data={"csrf_token": token, "version": "1", "person_id": persons[1]})
    assert no_finding.status_code == 422
    listed = await officer.get("/rechecks", params={"month": month})
    assert 'data-testid="recheck-row"' in listed.text and ">0.0%<" in listed.text
