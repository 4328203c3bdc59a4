"""Demo data for `make run`: two counties sharing the instance.

西湖区 (Hangzhou, 330106) is an inflow county, 阜南县 (Fuyang, 341225) an outflow county: many people
registered in 阜南 live and work in 西湖, which is the cross-county case the platform exists for. The org
trees are loaded through the same CSV import operators use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal, ScopedRole
from backend.authz.vocabulary import Role
from backend.identity.schemas import RoleGrantCreate, UserCreate
from backend.identity.service import create_user
from backend.org.service import import_org_csv
from backend.tenants.schemas import TenantCreate
from backend.tenants.service import get_tenant_by_code, list_tenants, provision_tenant

DATA_DIR = Path(__file__).parent / "data"

# Published in the README and printed by `make run`; demo data is loaded only into an empty development database.
DEMO_PASSWORD = "Liuguan-demo-2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    unit_suffix: str  # appended to the county code; "{t}"/"{v}" stand for the county's demo township/village

    def unit(self, county_code: str) -> str:
        return county_code + self.unit_suffix.format(**DEMO_UNITS[county_code])


# One user per role in each county; usernames are prefixed with the county's pinyin initials.
DEMO_USERS = (
    DemoUser("village", "村计生专干", Role.village_coordinator, "{v}"),
    DemoUser("township", "乡镇经办人", Role.township_officer, "{t}"),
    DemoUser("township.sup", "乡镇负责人", Role.township_supervisor, "{t}"),
    DemoUser("county", "县级经办人", Role.county_officer, ""),
    DemoUser("county.sup", "县级负责人", Role.county_supervisor, ""),
    DemoUser("auditor", "审计员", Role.auditor, ""),
    DemoUser("admin", "系统管理员", Role.county_admin, ""),
)
# The first township and its first village of each demo county (see data/<code>.csv).
DEMO_UNITS = {"330106": {"t": "001", "v": "001001"}, "341225": {"t": "100", "v": "100201"}}
USERNAME_PREFIX = {"330106": "xh", "341225": "fn"}

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
        await _seed_users(session, county.code)
    return True


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(county code, username, role label, unit code) for every demo user, for the start-up banner."""
    return [
        (code, f"{USERNAME_PREFIX[code]}.{user.username}", user.role.value, user.unit(code))
        for code in DEMO_UNITS
        for user in DEMO_USERS
    ]


async def _seed_users(session: AsyncSession, county_code: str) -> None:
    tenant = await get_tenant_by_code(session, county_code)
    # The county's first administrator is set up by the platform operator, as in production provisioning.
    operator = Principal(
        kind="platform_admin",
        id="demo-seed",
        label="demo seed",
        tenant_id=tenant.id,
        tenant_code=county_code,
        org_unit_code=county_code,
        roles=(ScopedRole(Role.county_admin, county_code),),
    )
    for user in DEMO_USERS:
        unit = user.unit(county_code)
        await create_user(
            session,
            operator,
            UserCreate(
                username=f"{USERNAME_PREFIX[county_code]}.{user.username}",
                display_name=user.display_name,
                org_unit_code=unit,
                password=DEMO_PASSWORD,
                grants=[RoleGrantCreate(role=user.role, org_unit_code=unit)],
            ),
        )
