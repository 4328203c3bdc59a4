"""The calendar through the API: county holidays, the next-year warning, and an official notice import that
turns provisional due dates into final ones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.authz.vocabulary import Role
from backend.calendar.service import clear_calendar_cache
from backend.core.clock import clock
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent, OutboxMessage
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
    return county


@pytest.fixture
def moved_clock() -> Iterator[None]:
    yield
    clock.reset()


async def test_admin_is_warned_from_1_november_when_next_year_is_missing(
    county: County, sign_in: SignIn, moved_clock: None
) -> None:
    admin = await sign_in(county, "admin")
    clock.advance(datetime(2026, 10, 20, 4, tzinfo=UTC) - clock.now())
    assert (await admin.get("/api/v1/calendar/warning")).json() == {"year": None, "message": None}
    clock.advance(datetime(2026, 11, 1, 4, tzinfo=UTC) - clock.now())
    warning = (await admin.get("/api/v1/calendar/warning")).json()
    assert warning["year"] == 2027 and "2027" in warning["message"]


async def test_county_holiday_moves_only_that_countys_deadlines(
    county: County, sign_in: SignIn, database: Database, tenant_factory: TenantFactory, moved_clock: None
) -> None:
    clock.advance(datetime(2026, 9, 1, 2, tzinfo=UTC) - clock.now())
    admin = await sign_in(county, "admin")
    added = await admin.post(
        "/api/v1/calendar/county-holidays", json={"date": "2026-09-15", "name": "县庆", "source": "县政府令第1号"}
    )
    assert added.status_code == 201, added.text
    other = await build_county(database, tenant_factory)
    await add_user(database, other, "officer", "t1", [(Role.township_officer, "t1")])
    clock.advance(datetime(2026, 9, 10, 4, tzinfo=UTC) - clock.now())  # arrival times cannot be in the future
    body = {"case_type": "first_child_registration", "received_at": "2026-09-10T09:00:00+08:00"}
    here = (
        await (await sign_in(county, "officer")).post(
            "/api/v1/cases", json={**body, "org_unit_code": county.units["t1"]}
        )
    ).json()
    there = (
        await (await sign_in(other, "officer")).post("/api/v1/cases", json={**body, "org_unit_code": other.units["t1"]})
    ).json()
    # 7 working days from Thu 2026-09-10, with Sun 2026-09-20 a make-up workday (National Day notice):
    # here 11, 14, (15 county holiday), 16, 17, 18, 20, 21 -> 21; elsewhere 11, 14, 15, 16, 17, 18, 20 -> 20.
    assert here["due_at"] == "2026-09-21T15:59:59Z"
    assert there["due_at"] == "2026-09-20T15:59:59Z"
    admin = await sign_in(county, "admin")  # the clock moved past the earlier session's expiry
    duplicate = await admin.post(
        "/api/v1/calendar/county-holidays", json={"date": "2026-09-15", "name": "县庆", "source": "县政府令第1号"}
    )
    assert duplicate.status_code == 409
    assert (await admin.delete("/api/v1/calendar/county-holidays/2026-09-15")).status_code == 204


async def _case_due_on_20_september(county: County, sign_in: SignIn) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    """On 10 September 2026 an officer opens a first-child registration; its first stage falls due on 20 September."""
    clock.advance(datetime(2026, 9, 10, 4, tzinfo=UTC) - clock.now())
    officer = await sign_in(county, "officer")
    case = (
        await officer.post(
            "/api/v1/cases",
            json={
                "case_type": "first_child_registration",
                "org_unit_code": county.units["t1"],
                "received_at": "2026-09-10T09:00:00+08:00",
            },
        )
    ).json()
    assert case["due_at"] == "2026-09-20T15:59:59Z"
    return officer, case


async def test_declaring_and_withdrawing_a_county_holiday_recounts_open_deadlines(
    county: County, sign_in: SignIn, database: Database, moved_clock: None
) -> None:
    officer, case = await _case_due_on_20_september(county, sign_in)
    admin = await sign_in(county, "admin")
    added = await admin.post(
        "/api/v1/calendar/county-holidays", json={"date": "2026-09-15", "name": "县庆", "source": "县政府令第2号"}
    )
    assert added.status_code == 201, added.text
    assert (await officer.get(f"/api/v1/cases/{case['id']}")).json()["due_at"] == "2026-09-21T15:59:59Z"
    assert (await admin.delete("/api/v1/calendar/county-holidays/2026-09-15")).status_code == 204
    assert (await officer.get(f"/api/v1/cases/{case['id']}")).json()["due_at"] == "2026-09-20T15:59:59Z"
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        replans = await session.execute(select(OutboxMessage.payload).where(OutboxMessage.kind == "case.replan"))
        assert [payload["case_id"] for payload in replans.scalars()] == [case["id"], case["id"]]
        reasons = await session.execute(
            select(AuditEvent.reason)
            .where(AuditEvent.entity_id == case["id"], AuditEvent.action == "case.deadline_recomputed")
            .order_by(AuditEvent.seq)
        )
        assert list(reasons.scalars()) == ["county holiday declared", "county holiday withdrawn"]


async def test_importing_a_notice_makes_provisional_due_dates_final(
    county: County, sign_in: SignIn, api: httpx.AsyncClient, platform_headers: dict[str, str], moved_clock: None
) -> None:
    clock.advance(datetime(2036, 12, 29, 4, tzinfo=UTC) - clock.now())
    officer = await sign_in(county, "officer")
    # 2037 has no official schedule yet: 7 working days from 2036-12-29 are counted Monday to Friday.
    opened = await officer.post(
        "/api/v1/cases",
        json={
            "case_type": "first_child_registration",
            "org_unit_code": county.units["t1"],
            "received_at": "2036-12-29T09:00:00+08:00",
        },
    )
    case = opened.json()
    assert case["due_provisional"] is True and case["due_at"].startswith("2037-01-07")

    async def import_notice(notice: str) -> httpx.Response:
        response = await api.post(
            "/api/v1/platform/calendar/notices",
            params={"format": "csv"},
            content=notice.encode(),
            headers={**platform_headers, "Content-Type": "text/plain"},
        )
        clear_calendar_cache()
        return response

    # The count runs through 2036 and 2037: it stays provisional until both years are published.
    first = await import_notice("date,kind,name,source\n2036-10-01,public_holiday,国庆节,国办发明电〔2035〕9号\n")
    assert first.status_code == 200, first.text
    still = (await officer.get(f"/api/v1/cases/{case['id']}")).json()
    assert still["due_provisional"] is True
    imported = await import_notice(
        "date,kind,name,source\n"
        "2037-01-01,public_holiday,元旦,国办发明电〔2036〕1号\n"
        "2037-01-02,public_holiday,元旦,国办发明电〔2036〕1号\n"
        "2037-01-04,makeup_workday,元旦,国办发明电〔2036〕1号\n"
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["newly_published"] is True
    after = (await officer.get(f"/api/v1/cases/{case['id']}")).json()
    # Recounted on the notice: 30, 31, (1, 2 off), 4 (make-up Sunday), 5, 6, 7, 8 -> 2037-01-08, final.
    assert after["due_provisional"] is False and after["due_at"].startswith("2037-01-08")
    bad = await import_notice("date,kind,name,source\n2038-13-01,public_holiday,x,y\n")
    assert bad.status_code == 422


async def test_holidays_imported_on_the_admin_page_recount_open_deadlines_like_the_api(
    county: County, sign_in: SignIn, moved_clock: None
) -> None:
    officer, case = await _case_due_on_20_september(county, sign_in)
    admin = await sign_in(county, "admin")
    imported = await admin.post(
        "/admin/calendar/county-holidays", data={"lines": "2026-09-15,县庆,县政府令第3号"}, follow_redirects=False
    )
    assert imported.status_code == 303, imported.text
    assert (await officer.get(f"/api/v1/cases/{case['id']}")).json()["due_at"] == "2026-09-21T15:59:59Z"
