"""Break-glass: time-boxed read access outside one's scope, with a reason carried by every read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from backend.authz.vocabulary import Role
from backend.core.clock import clock
from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county

REASON = "核查重复登记：王某某在两镇均有登记记录"


@pytest.fixture
def moved_clock() -> Iterator[None]:
    yield
    clock.reset()


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "t1.sup", "t1", [(Role.township_supervisor, "t1")])
    await add_user(database, county, "v11.coord", "v11", [(Role.village_coordinator, "v11")])
    await add_user(database, county, "county.sup", "county", [(Role.county_supervisor, "county")])
    await add_user(database, county, "auditor", "county", [(Role.auditor, "county")])
    return county


async def _pass_time(client: httpx.AsyncClient, minutes: int) -> None:
    """Move the clock while the user keeps working (sessions end after 30 idle minutes)."""
    while minutes > 0:
        step = min(minutes, 20)
        clock.advance(timedelta(minutes=step))
        minutes -= step
        assert (await client.get("/api/v1/auth/me")).status_code == 200


async def _grant(client: httpx.AsyncClient, county: County, unit: str = "t2", **extra: object) -> httpx.Response:
    return await client.post(
        "/api/v1/break-glass", json={"org_unit_code": county.units[unit], "reason": REASON, **extra}
    )


class TestBreakGlass:
    async def test_read_outside_scope_only_after_a_grant_and_each_read_carries_the_reason(
        self, county: County, sign_in: SignIn
    ) -> None:
        supervisor = await sign_in(county, "t1.sup")
        target = f"/api/v1/org-units/{county.units['v21']}"
        assert (await supervisor.get(target)).status_code == 404
        grant = await _grant(supervisor, county)
        assert grant.status_code == 201 and grant.json()["active"] is True
        assert (await supervisor.get(target)).status_code == 200
        assert (await supervisor.get(target)).status_code == 200

        auditor = await sign_in(county, "auditor")
        events = (await auditor.get("/api/v1/audit/events", params={"correlation_id": grant.json()["id"]})).json()
        reads = [event for event in events if event["action"] == "break_glass.read"]
        assert len(reads) == 2
        assert all(event["reason"] == REASON and event["org_unit_code"] == county.units["v21"] for event in reads)
        assert any(event["action"] == "break_glass.grant" for event in events)

    async def test_reads_within_regular_scope_are_not_marked(self, county: County, sign_in: SignIn) -> None:
        supervisor = await sign_in(county, "t1.sup")
        await _grant(supervisor, county)
        assert (await supervisor.get(f"/api/v1/org-units/{county.units['v11']}")).status_code == 200
        auditor = await sign_in(county, "auditor")
        events = (await auditor.get("/api/v1/audit/events")).json()
        assert not [
            e for e in events if e["action"] == "break_glass.read" and e["org_unit_code"] == county.units["v11"]
        ]

    async def test_grant_expires_on_time(self, county: County, sign_in: SignIn, moved_clock: None) -> None:
        supervisor = await sign_in(county, "t1.sup")
        await _grant(supervisor, county)
        target = f"/api/v1/org-units/{county.units['t2']}"
        await _pass_time(supervisor, 119)
        assert (await supervisor.get(target)).status_code == 200
        await _pass_time(supervisor, 2)
        assert (await supervisor.get(target)).status_code == 404

    async def test_requests_that_are_refused(self, county: County, sign_in: SignIn) -> None:
        supervisor = await sign_in(county, "t1.sup")
        short = await supervisor.post(
            "/api/v1/break-glass", json={"org_unit_code": county.units["t2"], "reason": "看看"}
        )
        assert (short.status_code, short.json()["fields"][0]["loc"]) == (422, ["body", "reason"])
        own = await _grant(supervisor, county, "v11")
        assert own.status_code == 422  # already readable
        too_long = await _grant(supervisor, county, minutes=481)
        assert too_long.json()["fields"][0]["loc"] == ["body", "minutes"]
        other_county = await supervisor.post(
            "/api/v1/break-glass", json={"org_unit_code": "110101001", "reason": REASON}
        )
        assert other_county.status_code == 422
        coordinator = await sign_in(county, "v11.coord")
        assert (await _grant(coordinator, county)).status_code == 403

    async def test_county_supervisor_sees_active_and_past_grants(
        self, county: County, sign_in: SignIn, moved_clock: None
    ) -> None:
        supervisor = await sign_in(county, "t1.sup")
        first = (await _grant(supervisor, county, minutes=30)).json()
        await _pass_time(supervisor, 31)
        second = (await _grant(supervisor, county, "v21")).json()
        reviewer = await sign_in(county, "county.sup")
        listed = {item["id"]: item["active"] for item in (await reviewer.get("/api/v1/break-glass")).json()}
        assert listed == {first["id"]: False, second["id"]: True}
        coordinator = await sign_in(county, "v11.coord")
        assert (await coordinator.get("/api/v1/break-glass")).json() == []

    async def test_break_glass_never_grants_writes_or_administration(self, county: County, sign_in: SignIn) -> None:
        supervisor = await sign_in(county, "t1.sup")
        await _grant(supervisor, county)
        assert (await supervisor.get("/api/v1/admin/users")).status_code == 403
