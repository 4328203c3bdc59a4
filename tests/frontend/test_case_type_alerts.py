"""A county administrator sets each case type's reminder and escalation days on the case-type page: saved as the
county's override (what the API reads), refused at the input when the rungs are not increasing."""

from __future__ import annotations

import pytest

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county

TYPE = "inflow_registration"


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    return county


async def test_the_alert_settings_are_saved_and_refused_at_their_inputs(county: County, sign_in: SignIn) -> None:
    admin = await sign_in(county, "admin")
    page = (await admin.get(f"/admin/case-types/{TYPE}")).text
    assert 'id="f-reminder_working_days"' in page and 'id="f-escalation_county"' in page
    form = {"enabled": "1", "version": "", "days_verification": "15", "source_verification": "规范"}
    form |= {"csrf_token": admin.headers["X-CSRF-Token"]}
    wrong = await admin.post(
        f"/admin/case-types/{TYPE}",
        data={**form, "reminder_working_days": "3", "escalation_township": "6", "escalation_county": "4"},
    )
    assert wrong.status_code == 422
    assert 'id="e-escalation_township"' in wrong.text and 'value="6"' in wrong.text
    saved = await admin.post(
        f"/admin/case-types/{TYPE}",
        data={**form, "reminder_working_days": "3", "escalation_township": "3", "escalation_county": "7"},
    )
    assert saved.status_code == 303
    alerts = (await admin.get(f"/api/v1/case-types/{TYPE}")).json()["alerts"]
    assert alerts == {"reminder_working_days": 3, "escalation_working_days": [3, 7]}
