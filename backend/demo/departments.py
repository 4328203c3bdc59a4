"""The demo's department notifications (部门通报): each county registered its departments' systems as API clients
when it joined; 西湖's police and health systems and 阜南's civil-affairs system have sent notifications since,
through the intake path a department uses (a client-credentials token, the lean submit transaction), and the
intake router opened a triage case for each (核实) in the township of the address. Two of 西湖's and one of
阜南's were never triaged and are overdue; the others arrived this week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.authz.vocabulary import ClientScope
from backend.clients.schemas import ApiClientCreate, Department
from backend.clients.service import create_client, issue_token, principal_for_token_on
from backend.config import Settings
from backend.core.clock import china_day, utc_now
from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.demo.names import FUNAN, SEED, XIHU, PeopleFactory
from backend.demo.people import Cast, Resident
from backend.demo.timeline import DemoCounty, Timeline
from backend.intake.repository import NotificationIntake
from backend.intake.routing import IntakeRouter
from backend.intake.submit import submit

CLIENTS = (
    ("xihu-police", XIHU, "西湖区公安分局人口信息系统", Department.police, ClientScope.intake_police),
    ("xihu-health", XIHU, "西湖区卫生健康局妇幼信息系统", Department.health, ClientScope.intake_health),
    ("funan-civil", FUNAN, "阜南县民政局婚姻登记系统", Department.civil_affairs, ClientScope.intake_civil_affairs),
)
POLICE_OFFICE = "杭州市公安局西湖分局北山派出所"
HEALTH_OFFICE = "杭州市西湖区妇幼保健院"
CIVIL_OFFICE = "阜南县民政局婚姻登记处"


@dataclass
class Departments:
    """The departments' clients (id and secret, kept for the notifications) and what they send."""

    timeline: Timeline
    counties: dict[str, DemoCounty]
    settings: Settings
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)
    sequence: int = 0

    def register_clients(self, days_ago: int) -> None:
        """Each county's administrator registers its departments' systems (接口客户端)."""
        for key, code, name, department, scope in CLIENTS:

            async def event(
                key: str = key,
                code: str = code,
                name: str = name,
                department: Department = department,
                scope: ClientScope = scope,
            ) -> None:
                county = self.counties[code]
                async with self.timeline.acting(county, "admin") as (session, _principal):
                    body = ApiClientCreate(name=name, department=department, scopes=[scope])
                    client, secret = await create_client(session, body, tenant_code=code)
                    self.credentials[key] = (client.client_id, secret)

            self.timeline.schedule(self.timeline.at(days_ago, 11), event)

    def send(self, client: str, days_ago: int, payload: dict[str, Any]) -> None:
        """The department's system posts one notification; the router opens its triage case at once."""

        async def event() -> None:
            client_id, secret = self.credentials[client]
            database = self.timeline.database
            async with database.sessionmaker() as session, session.begin():
                token, _lifetime, _scopes = await issue_token(
                    session, self.settings, client_id=client_id, client_secret=secret, scope=None
                )
            pool = await database.driver_pool()
            async with pool.acquire() as connection, connection.transaction():
                principal = await principal_for_token_on(connection, self.settings, token)
                result = await submit(NotificationIntake(connection), principal, [payload], None)
                assert not result.errors, result.errors
            await IntakeRouter(database).drain()
            actor_var.set(SYSTEM_ACTOR)

        self.timeline.schedule(self.timeline.at(days_ago, 8, 30), event)

    def _transaction_id(self, prefix: str) -> str:
        self.sequence += 1
        return f"{prefix}-{self.sequence:06d}"

    def notify_all(self, cast: Cast, used: set[str]) -> None:
        """The notifications of the history: residence registrations and a birth in 西湖, marriages in 阜南."""
        self.register_clients(1000)
        newcomers = PeopleFactory(SEED + 1)
        xihu_units = self.counties[XIHU].villages(XIHU + "001")
        for index, days_ago in enumerate((28, 25, 3, 2, 1, 0)):
            if index == 3:
                resident = next(
                    r
                    for r in cast.in_county(XIHU)
                    if r.key not in used and r.spouse is None and r.residence.startswith(XIHU + "001")
                )
                used.add(resident.key)
                person, unit = {"resident_id": resident.who.resident_id, "name": resident.name}, resident.residence
            else:
                newcomer = newcomers.person(FUNAN, "female" if index % 2 == 0 else "male", self.timeline.today)
                person, unit = {"resident_id": newcomer.resident_id, "name": newcomer.name}, xihu_units[index % 3]
            self.send("xihu-police", days_ago, self._residence(person, unit, days_ago, newcomers))
        mothers = [woman for woman in cast.shared_women() if woman.key not in used]
        self.send("xihu-health", 1, self._birth(mothers[0], newcomers))
        used.add(mothers[0].key)
        couples = [
            r if r.who.sex == "female" else r.spouse
            for r in cast.residents.values()
            if r.key.startswith("funan-in") and not r.key.endswith("spouse") and r.spouse is not None
        ]
        for days_ago, wife in zip((27, 2, 0), (*couples[:2], None), strict=True):
            self.send("funan-civil", days_ago, self._marriage(wife, newcomers, days_ago))

    def _residence(self, person: dict[str, str], unit: str, days_ago: int, factory: PeopleFactory) -> dict[str, Any]:
        return {
            "transaction_id": self._transaction_id("PS"),
            "type": "residence_registered",
            "source_record_id": f"ZZDJ{unit[:6]}{self.sequence:08d}",
            "issuing_office": POLICE_OFFICE,
            "address": "浙江省杭州市西湖区" + factory.xihu_address(),
            "person": person,
            "residence_division_code": unit,
            "registered_on": self.timeline.day(days_ago + 1).isoformat(),
            "household_division_code": FUNAN,
        }

    def _birth(self, mother: Resident, factory: PeopleFactory) -> dict[str, Any]:
        father = mother.spouse
        child, sex = factory.child_name((father or mother).name)
        return {
            "transaction_id": self._transaction_id("HB"),
            "type": "birth_reported",
            "source_record_id": f"CS{XIHU}{self.sequence:08d}",
            "issuing_office": HEALTH_OFFICE,
            "address": mother.residence_address,
            "mother": {"resident_id": mother.who.resident_id, "name": mother.name},
            "father": {"resident_id": father.who.resident_id, "name": father.name} if father else None,
            "child_name": child,
            "child_sex": sex,
            "birth_date": self.timeline.day(4).isoformat(),
            "birth_certificate_number": f"Q{XIHU}{self.sequence:07d}",
            "residence_division_code": mother.residence,
        }

    def _marriage(self, wife: Resident | None, factory: PeopleFactory, days_ago: int) -> dict[str, Any]:
        """A marriage registered in 阜南: of a couple in the registry, or of two newcomers."""
        today = self.timeline.today
        if wife is not None and wife.spouse is not None:
            husband_ref = {"resident_id": wife.spouse.who.resident_id, "name": wife.spouse.name}
            wife_ref = {"resident_id": wife.who.resident_id, "name": wife.name}
            village = wife.residence
        else:
            groom, bride = factory.person(FUNAN, "male", today), factory.person(FUNAN, "female", today)
            husband_ref = {"resident_id": groom.resident_id, "name": groom.name}
            wife_ref = {"resident_id": bride.resident_id, "name": bride.name}
            village = self.counties[FUNAN].villages(FUNAN + "100")[1]
        registered = min(self.timeline.day(days_ago), china_day(utc_now()))
        return {
            "transaction_id": self._transaction_id("MZ"),
            "type": "marriage_registered",
            "source_record_id": f"JH{FUNAN}{self.sequence:08d}",
            "issuing_office": CIVIL_OFFICE,
            "address": "阜南县" + factory.village_address("鹿城镇", "三里村"),
            "husband": husband_ref,
            "wife": wife_ref,
            "certificate_number": f"J{FUNAN}-{today.year}-{self.sequence:06d}",
            "registered_on": registered.isoformat(),
            "residence_division_code": village,
        }
