"""Which county on this instance serves a division code, and which of its townships.

Cross-county work (verification requests, department notifications) starts from a division code written on
a person's record or in a department's message: the first 6 digits name the county (a tenant, if it is on
this instance), the first 9 the township. The tenants table is readable by everyone; a county's org tree is
not, so the township is looked up in a short transaction of its own scoped to that county. Only the unit's
id, code and name leave it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from backend.core.divisions import county_of, township_of
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models.org_unit import OrgUnit
from backend.org.repository import OrgUnitRepository
from backend.tenants.repository import TenantRepository


@dataclass(frozen=True)
class DivisionRoute:
    """Where a division code lands. `tenant_id` is None for a county that is not on this instance."""

    division_code: str
    county_code: str
    tenant_id: uuid.UUID | None
    township_code: str | None
    township_unit_id: uuid.UUID | None
    township_name: str | None

    @property
    def on_platform(self) -> bool:
        return self.tenant_id is not None


async def route_division(database: Database, division_code: str) -> DivisionRoute:
    """Resolve a 6/9/12-digit division code to its county tenant and (when the code is that deep and the
    county has the unit, active) its township. Never raises for an unknown code: callers decide what an
    off-platform county or an unknown township means for them."""
    county_code = county_of(division_code)
    township_code = township_of(division_code)
    async with database.sessionmaker() as session, session.begin():
        tenant = await TenantRepository(session).get_by_code(county_code)
        if tenant is None or not tenant.active:
            return DivisionRoute(division_code, county_code, None, township_code, None, None)
        township: OrgUnit | None = None
        if township_code is not None:
            await set_tenant(session, tenant.id)
            township = await OrgUnitRepository(session).get_by_code(township_code)
            if township is not None and not township.active:
                township = None
        return DivisionRoute(
            division_code=division_code,
            county_code=county_code,
            tenant_id=tenant.id,
            township_code=township_code,
            township_unit_id=township.id if township else None,
            township_name=township.name if township else None,
        )
