"""Demo data for `make run`: two counties sharing the instance.

西湖区 (Hangzhou, 330106) is an inflow county, 阜南县 (Fuyang, 341225) an outflow county: many people
registered in 阜南 live and work in 西湖, which is the cross-county case the platform exists for. The org
trees are loaded through the same CSV import operators use.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from backend.org.service import import_org_csv
from backend.tenants.schemas import TenantCreate
from backend.tenants.service import list_tenants, provision_tenant

DATA_DIR = Path(__file__).parent / "data"

DEMO_COUNTIES = (
    TenantCreate(code="330106", name="杭州市西湖区"),
    TenantCreate(code="341225", name="阜阳市阜南县"),
)


async def seed_demo_data(session: AsyncSession) -> bool:
    """Load the demo counties; does nothing (returns False) when any tenant exists already."""
    if await list_tenants(session):
        return False
    for county in DEMO_COUNTIES:
        await provision_tenant(session, county)
        csv_text = (DATA_DIR / f"{county.code}.csv").read_text(encoding="utf-8")
        await import_org_csv(session, county_code=county.code, text=csv_text)
    return True
