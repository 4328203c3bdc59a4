"""A department notification routed to a township tells that township's officers that it waits for triage (the
recipient rule of backend/notifications/rules.py), not a sibling township's officer nor another county's."""

from __future__ import annotations

import httpx

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from backend.intake.routing import IntakeRouter
from tests.backend.intake.conftest import MakeClient, residence
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


async def _titles(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/v1/me/notifications")
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def test_a_routed_notification_tells_the_townships_officers_to_triage_it(
    county: County,
    make_client: MakeClient,
    router: IntakeRouter,
    database: Database,
    tenant_factory: TenantFactory,
    sign_in: SignIn,
) -> None:
    await add_user(database, county, "t2.officer", "t2", [(Role.township_officer, "t2")])
    other = await build_county(database, tenant_factory, "邻县")
    await add_user(database, other, "officer", "t1", [(Role.township_officer, "t1")])
    police = await make_client("police")
    response = await police.http.post("/api/v1/notifications", json=residence(county.code))
    assert response.status_code == 202, response.text
    await router.drain()
    status = (await police.http.get(response.json()["status_url"])).json()
    assert status["status"] == "case_opened" and status["township_code"] == county.units["t1"]
    number = status["case_number"]
    titles = await _titles(await sign_in(county, "officer"))
    assert titles == [f"部门通知待核实（{number}）/ department notification to triage ({number})"]
    assert await _titles(await sign_in(county, "t2.officer")) == []
    assert await _titles(await sign_in(other, "officer")) == []
