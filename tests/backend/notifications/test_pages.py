"""The notification centre and the header's bell: the count in every page's header, refreshed as a fragment;
the list with read and unread; opening one marks it read and goes to its item; one language per page."""

from __future__ import annotations

import re

import httpx

from tests.backend.verification.conftest import TwoCounties
from tests.fixtures.identity import SignIn


def _badge(html: str) -> str | None:
    found = re.search(r'data-testid="unread-count">(\d+)<', html)
    return found.group(1) if found else None


async def _assigned(sign_in: SignIn, counties: TwoCounties) -> dict[str, object]:
    a = counties.a
    supervisor = await sign_in(a, "t1.sup")
    case = await supervisor.post("/api/v1/cases", json={"case_type": "complaint", "org_unit_code": a.units["v11"]})
    assert case.status_code == 201, case.text
    assigned = await supervisor.post(
        f"/api/v1/cases/{case.json()['id']}/assign", json={"assignee_id": str(a.users["t1.officer"].id)}
    )
    assert assigned.status_code == 200, assigned.text
    return dict(case.json())


async def test_the_bell_counts_unread_and_opening_one_marks_it_read(counties: TwoCounties, sign_in: SignIn) -> None:
    case = await _assigned(sign_in, counties)
    officer = await sign_in(counties.a, "t1.officer")
    dashboard = (await officer.get("/dashboard")).text
    assert 'hx-get="/notifications/bell"' in dashboard  # every page's header loads the bell
    bell = await officer.get("/notifications/bell", headers={"HX-Request": "true"})
    assert bell.status_code == 200 and _badge(bell.text) == "1"
    assert "<html" not in bell.text  # a fragment, not a page
    page = (await officer.get("/notifications")).text
    assert f"案件{case['number']}已分配给您" in page and "was assigned to you" not in page
    notification_id = (await officer.get("/api/v1/me/notifications")).json()["items"][0]["id"]
    opened = await officer.post(f"/notifications/{notification_id}/open")
    assert opened.status_code == 303 and opened.headers["location"] == f"/cases/{case['id']}"
    assert _badge((await officer.get("/notifications/bell")).text) is None
    assert "已读" in (await officer.get("/notifications")).text


async def test_the_page_in_english_and_nobody_elses_notifications(counties: TwoCounties, sign_in: SignIn) -> None:
    case = await _assigned(sign_in, counties)
    officer = await sign_in(counties.a, "t1.officer")
    officer.cookies.set("lang", "en")
    notification_id = (await officer.get("/api/v1/me/notifications")).json()["items"][0]["id"]
    stranger: httpx.AsyncClient = await sign_in(counties.a, "t2.officer")
    assert (await stranger.post(f"/notifications/{notification_id}/open")).status_code == 404
    assert _badge((await stranger.get("/notifications/bell")).text) is None
    assert (await officer.post("/notifications/read-all")).headers["location"] == "/notifications?done=read"
    assert _badge((await officer.get("/notifications/bell")).text) is None
    page = (await officer.get("/notifications")).text
    assert f"case {case['number']} was assigned to you" in page and "已分配给您" not in page
    assert "Mark all read" not in page and "Notifications" in page
