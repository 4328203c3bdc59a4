"""Demo data for `make run`: two counties sharing the instance, with a year of work behind them.

西湖区 (Hangzhou, 330106) is an inflow county, 阜南县 (Fuyang, 341225) an outflow county: many people
registered in 阜南 live and work in 西湖, which is the cross-county case the platform exists for. The org
trees are loaded through the same CSV import operators use; the staff, the people, their certificates, the
cases, the verification requests between the two counties, the department notifications, the agreements and a
county holiday are made through the services, as a history played on the platform clock
(backend/demo/timeline.py): backend/demo/people.py and backend/demo/casework.py tell it.

`make run` loads it once, into an empty database (`seed_demo_data`); `python -m backend.cli demo reset` wipes
the county data and loads it again (`reset_demo`); the browser tests load it into the test database beside the
counties of other tests (`load_demo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal, ScopedRole
from backend.authz.vocabulary import Role
from backend.calendar.service import clear_calendar_cache
from backend.config import Environment, Settings
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database, create_engine
from backend.demo import casework, people
from backend.demo.repository import wipe_counties
from backend.demo.timeline import DemoCounty, Timeline
from backend.identity.schemas import RoleGrantCreate, UserCreate
from backend.identity.service import create_user, principal_for_user
from backend.main import subscribe_domain_events
from backend.org.service import import_org_csv
from backend.tenants.schemas import TenantCreate
from backend.tenants.service import get_tenant_by_code, list_tenants, provision_tenant

DATA_DIR = Path(__file__).parent / "data"

# Published in the README and printed by `make run`; demo data is loaded only into an empty development database.
DEMO_PASSWORD = "Liuguan-demo-2026"
SET_UP_DAYS_AGO = 1100  # the counties joined the platform three years ago


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    unit_suffix: str  # appended to the county code; "{t}"/"{v}" stand for the county's demo township/village

    def unit(self, county_code: str) -> str:
        return county_code + self.unit_suffix.format(**DEMO_UNITS[county_code])


# The first township and its first village of each demo county (see data/<code>.csv).
DEMO_UNITS = {"330106": {"t": "001", "v": "001001"}, "341225": {"t": "100", "v": "100201"}}
USERNAME_PREFIX = {"330106": "xh", "341225": "fn"}

# One user per role in each county (the README's table), then the colleagues a supervisor can give work to.
ROLE_USERS = (
    ("village", Role.village_coordinator, "{v}"),
    ("township", Role.township_officer, "{t}"),
    ("township.sup", Role.township_supervisor, "{t}"),
    ("county", Role.county_officer, ""),
    ("county.sup", Role.county_supervisor, ""),
    ("auditor", Role.auditor, ""),
    ("admin", Role.county_admin, ""),
)
STAFF_NAMES = {
    "330106": ("周丽萍", "王建华", "李国强", "张伟", "黄志明", "吴芳", "徐东"),
    "341225": ("李秀英", "张明", "陈刚", "孙平", "马建国", "朱丽", "胡斌"),
}
COLLEAGUES = {
    "330106": (
        DemoUser("village2", "孙晓梅", Role.village_coordinator, "001002"),
        DemoUser("township2", "陈敏", Role.township_officer, "001"),
        DemoUser("township.xixi", "赵静", Role.township_officer, "002"),
        DemoUser("township.cuiyuan", "刘洋", Role.township_officer, "004"),
    ),
    "341225": (
        DemoUser("village2", "王桂兰", Role.village_coordinator, "100202"),
        DemoUser("township2", "刘娟", Role.township_officer, "100"),
        DemoUser("township.huilong", "杨勇", Role.township_officer, "101"),
        DemoUser("township.wangjiaba", "赵红", Role.township_officer, "102"),
    ),
}


def demo_users(county_code: str) -> tuple[DemoUser, ...]:
    """The county's demo staff: one per role, then their colleagues."""
    by_role = tuple(
        DemoUser(username, name, role, suffix)
        for (username, role, suffix), name in zip(ROLE_USERS, STAFF_NAMES[county_code], strict=True)
    )
    return by_role + COLLEAGUES[county_code]


DEMO_COUNTIES = (
    TenantCreate(code="330106", name="杭州市西湖区"),
    TenantCreate(code="341225", name="阜阳市阜南县"),
)
DEMO_CODES = frozenset(county.code for county in DEMO_COUNTIES)


async def seed_demo_data(database: Database, settings: Settings) -> bool:
    """Load the demo when the database has no county yet (`make run`); False when it has one."""
    async with database.sessionmaker() as session, session.begin():
        if await list_tenants(session):
            return False
    await load_demo(database, settings)
    return True


async def reset_demo(database: Database, settings: Settings) -> None:
    """Wipe every county (as the schema owner) and load the demo again: development instances only."""
    if settings.environment is Environment.production:
        raise RuntimeError("demo reset wipes every county: refused in production")
    owner = create_engine(settings.database_owner_url, pool_size=1)
    try:
        await wipe_counties(owner)
    finally:
        await owner.dispose()
    clear_calendar_cache()
    await load_demo(database, settings)


async def demo_loaded(session: AsyncSession) -> bool:
    """Whether the demo counties are on this instance (the home page then shows the demo tours)."""
    return any(tenant.code in DEMO_CODES for tenant in await list_tenants(session))


async def load_demo(database: Database, settings: Settings, started: datetime | None = None) -> Timeline:
    """Provision the demo counties and play their history up to now (the counties must not exist yet)."""
    subscribe_domain_events()
    timeline = Timeline(database, started or datetime.now(UTC))
    await timeline.load_calendar()
    counties: dict[str, DemoCounty] = {}
    with timeline.clock_at(timeline.at(SET_UP_DAYS_AGO, 9)):
        for county in DEMO_COUNTIES:
            counties[county.code] = await _provision(database, county)
    cast = people.cast_people(counties["330106"], counties["341225"], timeline.today)
    people.register_people(timeline, cast, counties)
    people.depart_some(timeline, cast, counties["330106"])
    casework.tell(timeline, cast, counties, settings)
    await timeline.play()
    actor_var.set(SYSTEM_ACTOR)
    return timeline


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(county code, username, role label, unit code) for every demo user, for the start-up banner."""
    return [
        (code, f"{USERNAME_PREFIX[code]}.{user.username}", user.role.value, user.unit(code))
        for code in DEMO_UNITS
        for user in demo_users(code)
    ]


async def _provision(database: Database, county: TenantCreate) -> DemoCounty:
    """The county, its org tree and its staff, set up by the platform operator as in production."""
    actor_var.set(SYSTEM_ACTOR)
    async with database.sessionmaker() as session, session.begin():
        await provision_tenant(session, county)
        csv_text = (DATA_DIR / f"{county.code}.csv").read_text(encoding="utf-8")
        await import_org_csv(session, county_code=county.code, text=csv_text)
        tenant = await get_tenant_by_code(session, county.code)
        demo = DemoCounty(code=county.code, name=county.name, prefix=USERNAME_PREFIX[county.code], tenant_id=tenant.id)
        demo.units = {line.split(",")[0]: line.split(",")[2] for line in csv_text.splitlines()[1:] if line}
        demo.units[county.code] = county.name
        operator = Principal(
            kind="platform_admin",
            id="demo-seed",
            label="demo seed",
            tenant_id=tenant.id,
            tenant_code=county.code,
            org_unit_code=county.code,
            roles=(ScopedRole(Role.county_admin, county.code),),
        )
        for user in demo_users(county.code):
            unit = user.unit(county.code)
            created = await create_user(
                session,
                operator,
                UserCreate(
                    username=f"{USERNAME_PREFIX[county.code]}.{user.username}",
                    display_name=user.display_name,
                    org_unit_code=unit,
                    password=DEMO_PASSWORD,
                    grants=[RoleGrantCreate(role=user.role, org_unit_code=unit)],
                ),
            )
            demo.users[user.username] = created
            demo.principals[user.username] = await principal_for_user(session, created, None, county.code)
    return demo
