"""The platform operator's view: every county's KPIs as counts from the aggregate table the refresher keeps, no
rows and no personal data; the table's policy lets the platform read counts and nothing else of a county's."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context, set_tenant
from backend.models import KpiCountyMonth, Person
from backend.reports.kpis import CATALOGUE
from backend.reports.overview import KpiRefresher
from tests.backend.reports.scenario import Scripted
from tests.backend.reports.test_kpis import HAND_COUNT
from tests.fixtures.identity import SignIn


async def _refreshed(database: Database, tenant_id: object) -> int:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant_id)  # type: ignore[arg-type]
        rows = await session.execute(select(KpiCountyMonth).where(KpiCountyMonth.tenant_id == tenant_id))
        return len(rows.scalars().all())


@pytest.fixture
async def refreshed(scripted: Scripted, database: Database) -> Scripted:
    """Run the refresher until both scripted counties are counted (it refreshes the oldest first)."""
    refresher = KpiRefresher(database)
    for _ in range(200):
        if await _refreshed(database, scripted.a.tenant.id) and await _refreshed(database, scripted.b.tenant.id):
            break
        assert await refresher.poll() > 0
    return scripted


async def test_the_operator_sees_county_counts_only(
    refreshed: Scripted, api: httpx.AsyncClient, platform_headers: dict[str, str]
) -> None:
    a = refreshed.a
    response = await api.get(
        "/api/v1/platform/kpis", params={"period_kind": "month", "period": "2026-03"}, headers=platform_headers
    )
    assert response.status_code == 200, response.text
    overview = response.json()
    assert overview["refreshed_at"] is not None
    for kpi in overview["kpis"]:
        county = next(item for item in kpi["counties"] if item["county_code"] == a.code)
        assert (county["numerator"], county["denominator"], county["value"]) == HAND_COUNT[kpi["code"]], kpi["code"]
        assert county["county_name"] == "甲县"
    # Counts of counties: no persons, no rows, no unit below the county.
    for secret in ("甲一", "某某", a.units["v11"], a.units["t1"], str(refreshed.persons["p1"].id)):
        assert secret not in response.text
    # And nothing else of the county's: no cockpit, no rows, no persons.
    for path in ("/api/v1/kpis", "/api/v1/kpis/feedback_rate/rows", "/api/v1/reports/month"):
        assert (await api.get(path, headers=platform_headers)).status_code == 403, path


async def test_county_users_do_not_see_the_platform_overview(refreshed: Scripted, sign_in: SignIn) -> None:
    supervisor = await sign_in(refreshed.a, "county.sup")
    assert (await supervisor.get("/api/v1/platform/kpis")).status_code == 403


async def test_the_platform_reads_counts_but_no_county_rows_and_writes_nothing(
    refreshed: Scripted, database: Database
) -> None:
    a, b = refreshed.a, refreshed.b
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        counts = (await session.execute(select(KpiCountyMonth.tenant_id).distinct())).scalars().all()
        assert {a.tenant.id, b.tenant.id} <= set(counts)
        assert (await session.execute(select(Person.id).where(Person.tenant_id == a.tenant.id))).first() is None
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        theirs = await session.execute(select(KpiCountyMonth).where(KpiCountyMonth.tenant_id == a.tenant.id))
        assert theirs.first() is None
    with pytest.raises(DBAPIError):
        async with database.sessionmaker() as session, session.begin():
            await set_platform_context(session)
            session.add(
                KpiCountyMonth(
                    tenant_id=a.tenant.id,
                    kpi_code="feedback_rate",
                    month=utc_now().date().replace(day=1, year=2001),
                    numerator=1,
                    denominator=1,
                    refreshed_at=utc_now(),
                )
            )


async def test_a_fresh_county_is_not_refreshed_again_until_its_counts_age(
    refreshed: Scripted, database: Database
) -> None:
    refresher = KpiRefresher(database)
    while await refresher.poll():
        pass  # every county is fresh now
    assert await refresher.poll() == 0
    assert await _refreshed(database, refreshed.a.tenant.id) == len(CATALOGUE) * 24  # every KPI and month, zeros
