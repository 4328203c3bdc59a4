"""Data for bench/cases.py: counties provisioned through the services, then persons and cases bulk-loaded.

Counties, their org trees and the signed-in officer go through the real services (tenant provisioning with
its audit chain, the org CSV import with one audit event per unit, `identity.create_user` with argon2 and
its grant), so row-level security, audit chains and grants are what production has. Everything else (the
other users, who are case assignees, with one shared password hash and no audit events; persons; cases;
case subjects; case counters) is generated in worker processes, one per CPU, and written with COPY
(asyncpg's `copy_records_to_table`) as the PostgreSQL superuser, which bypasses row-level security as COPY
into these tables requires. The load is done the way pg_restore does it: foreign-key triggers off
(`session_replication_role = replica`; every reference is generated from rows written in the same run),
the secondary indexes of the bulk tables dropped and built again afterwards from their own definitions
(checked to match), then VACUUM ANALYZE.

The distributions aim at a county's working set (stages, statuses, case types, due dates, assignees,
priorities); `CaseGenerator` describes them. The cases of all counties are interleaved and shuffled before
they are written, as years of daily work would lay them out, rather than stored county by county.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import asyncpg
from asyncpg.pgproto.pgproto import UUID as PgUUID
from sqlalchemy.engine import make_url

from backend.authz.principal import Principal, ScopedRole
from backend.authz.vocabulary import Role
from backend.case_types.definitions import DEFAULT_CASE_TYPES
from backend.core.context import Actor, actor_var
from backend.core.crypto import PersonalDataCipher, personal_data_cipher
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.identity import security
from backend.identity import service as identity
from backend.identity.schemas import RoleGrantCreate, UserCreate
from backend.models import CaseOutcome, CasePriority, CaseStage, CaseStatus
from backend.org.service import import_org_csv
from backend.persons.divisions import county_divisions
from backend.persons.names import name_search_keys
from backend.persons.resident_id import check_character
from backend.tenants.schemas import TenantCreate
from backend.tenants.service import provision_tenant

BENCH_ACTOR = Actor(kind="system", id="bench-cases", label="案件基准测试 bench")
CHINA = timezone(timedelta(hours=8))
RESIDENT_ID_CONTEXT = "person.resident_id"  # as backend/persons/identifiers.py and the case list's ID search
PHONE_CONTEXT = "person.phone"
PASSWORD = "Bench-officer-2026"
# Counties provisioned at once: each has its own audit chain, so they do not wait on each other.
PROVISIONING_CONCURRENCY = 4
# Cases are written in rounds; each round holds a slice of every county's cases, shuffled.
CASE_ROUNDS = 20

# fmt: off
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬燕鹏辉建国建华志强海燕丹凤子涵梓萱浩然宇轩欣怡思远晓东春梅文博雨婷俊杰佳怡"  # noqa: E501
# fmt: on

# Shares of the case types a county works on (the abolished social maintenance fee is not opened any more).
CASE_TYPE_WEIGHTS: dict[str, int] = {
    "inflow_registration": 22,
    "outflow_registration": 8,
    "certificate_issue": 10,
    "certificate_inspection": 15,
    "certificate_renewal": 4,
    "first_child_registration": 10,
    "rebirth_approval": 3,
    "contraception_report": 8,
    "pregnancy_check_round": 10,
    "follow_up_visit": 5,
    "notification_triage": 4,
    "complaint": 1,
}
PRIORITY_WEIGHTS = {CasePriority.low: 10, CasePriority.normal: 70, CasePriority.high: 15, CasePriority.urgent: 5}
OPEN_STATUS_WEIGHTS = {CaseStatus.open: 60, CaseStatus.waiting: 20, CaseStatus.suspended: 10, CaseStatus.done: 10}
OUTCOME_WEIGHTS = {
    CaseOutcome.registered: 35,
    CaseOutcome.completed: 40,
    CaseOutcome.no_action: 12,
    CaseOutcome.withdrawn: 6,
    CaseOutcome.refused: 4,
    CaseOutcome.deferred: 3,
}

USER_COLUMNS = (
    "id",
    "tenant_id",
    "username",
    "display_name",
    "org_unit_code",
    "password_hash",
    "active",
    "failed_login_count",
    "created_at",
    "updated_at",
    "version",
)
GRANT_COLUMNS = ("id", "tenant_id", "subject", "role", "org_unit_code", "granted_by", "granted_at")
PERSON_COLUMNS = (
    "id",
    "tenant_id",
    "name",
    "name_pinyin",
    "name_initials",
    "sex",
    "ethnicity",
    "birth_date",
    "resident_id_ciphertext",
    "resident_id_hash",
    "phone_ciphertext",
    "phone_hash",
    "org_unit_code",
    "flow_direction",
    "flow_date",
    "registration_division_code",
    "residence_division_code",
    "marital_status",
    "key_subject",
    "status",
    "created_at",
    "updated_at",
    "version",
)
CASE_COLUMNS = (
    "id",
    "tenant_id",
    "number",
    "case_type",
    "title",
    "org_unit_code",
    "stage",
    "status",
    "priority",
    "assignee_id",
    "primary_person_id",
    "subject_name",
    "subject_pinyin",
    "received_at",
    "due_at",
    "due_provisional",
    "overdue",
    "closed_at",
    "outcome",
    "details",
    "created_by",
    "created_at",
    "updated_at",
    "version",
)
SUBJECT_COLUMNS = ("id", "tenant_id", "case_id", "person_id", "part")
COUNTER_COLUMNS = ("tenant_id", "year", "last_number")


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much to generate: counties, and per county townships, villages, persons and cases."""

    tenants: int
    cases_per_tenant: int
    persons_per_tenant: int
    townships: int = 5
    villages_per_township: int = 10

    @property
    def cases(self) -> int:
        return self.tenants * self.cases_per_tenant

    @property
    def persons(self) -> int:
        return self.tenants * self.persons_per_tenant


@dataclass(frozen=True, slots=True)
class PersonRef:
    """What a case copies from its primary person."""

    id: uuid.UUID
    name: str
    pinyin: str


@dataclass
class County:
    """A provisioned county and what generation needs to know about it."""

    tenant_id: uuid.UUID
    code: str
    name: str
    townships: list[str]
    villages_by_township: dict[str, list[str]]
    # Case assignees per township: its officer and one coordinator per two villages.
    users_by_township: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    persons_by_village: dict[str, list[PersonRef]] = field(default_factory=dict)
    # Plain ID numbers, kept only for the measured county (the ID lookups need real numbers).
    resident_ids: dict[uuid.UUID, str] = field(default_factory=dict)

    @property
    def villages(self) -> list[str]:
        return [village for township in self.townships for village in self.villages_by_township[township]]


@dataclass(frozen=True, slots=True)
class Officer:
    """The township officer the API scenarios sign in as, created through the identity service."""

    user_id: uuid.UUID
    username: str
    password: str
    township: str


@dataclass
class LoadReport:
    """Rows written and seconds spent per phase."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def county_code(index: int) -> str:
    """Unique 6-digit codes under 99 (no real province), so a bench county never looks like a real one."""
    return f"99{index + 1:04d}"


def _org_csv(code: str, sizes: Sizes) -> str:
    lines = ["code,parent_code,name,kind"]
    for t in range(1, sizes.townships + 1):
        township = f"{code}{t:03d}"
        lines.append(f"{township},{code},第{t}镇,镇")
        for v in range(1, sizes.villages_per_township + 1):
            lines.append(f"{township}{v:03d},{township},第{t}镇{v}村,村")
    return "\n".join(lines) + "\n"


def _county_admin(tenant_id: uuid.UUID, code: str) -> Principal:
    """Stands in for the county administrator who sets the county up (as tests/fixtures/identity.py does)."""
    return Principal(
        kind="user",
        id=str(uuid.uuid4()),
        label="bench county admin",
        tenant_id=tenant_id,
        tenant_code=code,
        org_unit_code=code,
        roles=(ScopedRole(Role.county_admin, code),),
    )


async def _provision_one(database: Database, index: int, sizes: Sizes) -> County:
    code = county_code(index)
    name = f"基准{index + 1}县"
    async with database.sessionmaker() as session, session.begin():
        tenant = await provision_tenant(session, TenantCreate(code=code, name=name))
        # provision_tenant leaves the session scoped to the new county.
        await import_org_csv(session, county_code=code, text=_org_csv(code, sizes))
    townships = [f"{code}{t:03d}" for t in range(1, sizes.townships + 1)]
    return County(
        tenant_id=tenant.id,
        code=code,
        name=name,
        townships=townships,
        villages_by_township={
            township: [f"{township}{v:03d}" for v in range(1, sizes.villages_per_township + 1)]
            for township in townships
        },
    )


async def provision_counties(database: Database, sizes: Sizes) -> list[County]:
    """Every county through the tenant service and the org CSV import, a few at a time."""
    actor_var.set(BENCH_ACTOR)
    semaphore = asyncio.Semaphore(PROVISIONING_CONCURRENCY)

    async def provision(index: int) -> County:
        async with semaphore:
            return await _provision_one(database, index, sizes)

    return list(await asyncio.gather(*(provision(index) for index in range(sizes.tenants))))


def _officer_username(township: str) -> str:
    return f"officer{township[-3:]}"


async def create_officer(database: Database, county: County) -> Officer:
    """The signed-in user: a township officer of the county's first township, through the identity service."""
    actor_var.set(BENCH_ACTOR)
    township = county.townships[0]
    username = _officer_username(township)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant_id)
        user = await identity.create_user(
            session,
            _county_admin(county.tenant_id, county.code),
            UserCreate(
                username=username,
                display_name=f"{township}经办人",
                org_unit_code=township,
                password=PASSWORD,
                grants=[RoleGrantCreate(role=Role.township_officer, org_unit_code=township)],
            ),
        )
    return Officer(user_id=user.id, username=username, password=PASSWORD, township=township)


# --- generation ------------------------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict[Any, int], count: int) -> list[Any]:
    return rng.choices(list(weights), weights=list(weights.values()), k=count)


def name_pool(rng: random.Random, size: int = 3000) -> list[tuple[str, str, str]]:
    """(name, pinyin, initials) for `size` distinct Chinese names, keyed once through the real name keys."""
    names: set[str] = set()
    while len(names) < size:
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        names.add(rng.choice(SURNAMES) + given)
    pool = []
    for name in sorted(names):
        keys = name_search_keys(name)
        pool.append((name, keys.pinyin, keys.initials))
    return pool


class UuidMaker:
    """Random version-4 UUIDs from the seeded generator, built as asyncpg's own UUID type (a uuid.UUID), which
    is several times cheaper to make and to COPY than uuid.uuid4() for the millions of rows here."""

    _MASK = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
    _VERSION_4 = (0x4 << 76) | (0x2 << 62)

    def __init__(self, rng: random.Random) -> None:
        self._bits = rng.getrandbits

    def __call__(self) -> uuid.UUID:
        return PgUUID(((self._bits(128) & self._MASK) | self._VERSION_4).to_bytes(16, "big"))


class ResidentIdMaker:
    """Valid, unique 18-character ID numbers: a real county code, a birth date, a sequence and the check."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._divisions = [division.code for division in county_divisions()]
        self._issued: set[str] = set()

    def make(self, sex: str) -> tuple[str, date]:
        while True:
            division = self._rng.choice(self._divisions)
            birth = date(1970, 1, 1) + timedelta(days=self._rng.randrange(35 * 365))
            sequence = self._rng.randrange(0, 999, 2) + (1 if sex == "male" else 0)
            first_17 = f"{division}{birth:%Y%m%d}{sequence:03d}"
            number = first_17 + check_character(first_17)
            if number not in self._issued:
                self._issued.add(number)
                return number, birth


def users_rows(county: County, officer: Officer | None, password_hash: str, now: datetime) -> tuple[list[Any], ...]:
    """Users and their grants for one county: per township an officer and one village coordinator for every
    two villages. The officer created through the service (if in this county) is reused, not written."""
    users: list[tuple[Any, ...]] = []
    grants: list[tuple[Any, ...]] = []
    for township in county.townships:
        assignees: list[uuid.UUID] = []
        if officer is not None and officer.township == township:
            assignees.append(officer.user_id)
        else:
            user_id = uuid.uuid4()
            users.append(
                (user_id, county.tenant_id, _officer_username(township), f"{township}经办人", township)
                + (password_hash, True, 0, now, now, 1)
            )
            grants.append(
                (uuid.uuid4(), county.tenant_id, f"user:{user_id}", Role.township_officer.value, township)
                + ("system:bench-cases", now)
            )
            assignees.append(user_id)
        for village in county.villages_by_township[township][::2]:
            user_id = uuid.uuid4()
            users.append(
                (user_id, county.tenant_id, f"coordinator{village[-6:]}", f"{village}专干", village)
                + (password_hash, True, 0, now, now, 1)
            )
            grants.append(
                (uuid.uuid4(), county.tenant_id, f"user:{user_id}", Role.village_coordinator.value, village)
                + ("system:bench-cases", now)
            )
            assignees.append(user_id)
        county.users_by_township[township] = assignees
    return users, grants


def persons_rows(
    county: County,
    count: int,
    rng: random.Random,
    new_id: UuidMaker,
    names: Sequence[tuple[str, str, str]],
    ids: ResidentIdMaker,
    cipher: PersonalDataCipher,
    now: datetime,
    *,
    keep_numbers: bool,
) -> list[tuple[Any, ...]]:
    """`count` registry entries spread over the county's villages, with encrypted ID (all) and phone (60%)
    numbers and their lookup digests. Fills `county.persons_by_village` for the cases."""
    villages = county.villages
    rows: list[tuple[Any, ...]] = []
    for index in range(count):
        person_id = new_id()
        name, pinyin, initials = rng.choice(names)
        sex = "male" if rng.random() < 0.5 else "female"
        number, birth = ids.make(sex)
        village = villages[index % len(villages)]
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" if rng.random() < 0.6 else None
        flow = rng.choices(("inflow", "outflow", "within_county"), weights=(70, 20, 10))[0]
        rows.append(
            (
                person_id,
                county.tenant_id,
                name,
                pinyin,
                initials,
                sex,
                "汉族",
                birth,
                cipher.encrypt(number, context=RESIDENT_ID_CONTEXT),
                cipher.lookup_hash(number, context=RESIDENT_ID_CONTEXT),
                cipher.encrypt(phone, context=PHONE_CONTEXT) if phone else None,
                cipher.lookup_hash(phone, context=PHONE_CONTEXT) if phone else None,
                village,
                flow,
                (now - timedelta(days=rng.randrange(3 * 365))).date(),
                number[:6] if flow == "inflow" else county.code,
                county.code if flow == "inflow" else number[:6],
                rng.choices(("unmarried", "first_marriage", "remarried", "divorced"), weights=(20, 70, 6, 4))[0],
                rng.random() < 0.05,
                "active" if rng.random() < 0.95 else "departed",
                now,
                now,
                1,
            )
        )
        county.persons_by_village.setdefault(village, []).append(PersonRef(person_id, name, pinyin))
        if keep_numbers:
            county.resident_ids[person_id] = number
    return rows


class CaseGenerator:
    """Cases for one county, slice by slice. The distributions:

    - type: CASE_TYPE_WEIGHTS; stage: 55% closed, otherwise one of the type's open stages; status: open 60%,
      waiting 20%, suspended 10%, done 10% (closed cases: done, with an outcome);
    - unit: the primary person's village, or its township for 5%; assignee: one of the township's users for
      70%, unassigned otherwise; priority: low 10%, normal 70%, high 15%, urgent 5%;
    - due date: none for 8%; otherwise within ±60 days of now: open cases are past due (and flagged
      overdue) one time in four, about 10% of all cases; received 5 to 60 days before the due date.
    """

    def __init__(self, county: County, rng: random.Random, new_id: UuidMaker, now: datetime) -> None:
        self.county = county
        self.rng = rng
        self.new_id = new_id
        self.now = now
        self.counters: dict[int, int] = {}
        self._labels = {code: DEFAULT_CASE_TYPES[code].label.split(" / ")[0] for code in CASE_TYPE_WEIGHTS}
        self._open_stages = {
            code: [stage for stage in DEFAULT_CASE_TYPES[code].stages if stage != CaseStage.closed]
            for code in CASE_TYPE_WEIGHTS
        }
        self._township_of = {
            village: township for township, villages in county.villages_by_township.items() for village in villages
        }
        self._villages = [village for village in county.villages if county.persons_by_village.get(village)]

    def _number(self, received_at: datetime) -> str:
        year = received_at.astimezone(CHINA).year
        self.counters[year] = self.counters.get(year, 0) + 1
        return f"{self.county.code}-{year}-{self.counters[year]:06d}"

    def rows(self, count: int) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
        """`count` (case row, case-subject row) pairs."""
        rng, now, county = self.rng, self.now, self.county
        types = _weighted(rng, CASE_TYPE_WEIGHTS, count)
        priorities = _weighted(rng, PRIORITY_WEIGHTS, count)
        statuses = _weighted(rng, OPEN_STATUS_WEIGHTS, count)
        outcomes = _weighted(rng, OUTCOME_WEIGHTS, count)
        for index in range(count):
            case_id = self.new_id()
            village = rng.choice(self._villages)
            person = rng.choice(county.persons_by_village[village])
            township = self._township_of[village]
            unit = township if rng.random() < 0.05 else village
            case_type = types[index]
            closed = rng.random() < 0.55
            overdue = False
            if rng.random() < 0.08:
                due_at = None
                received_at = now - timedelta(seconds=rng.randrange(120 * 86400))
            else:
                if closed:
                    offset = rng.uniform(-60, 60)
                else:
                    overdue = rng.random() < 0.25
                    offset = -rng.uniform(0.01, 60) if overdue else rng.uniform(0.01, 60)
                due_at = now + timedelta(days=offset)
                received_at = min(due_at - timedelta(days=rng.uniform(5, 60)), now - timedelta(hours=1))
            if closed:
                stage, status, outcome = CaseStage.closed, CaseStatus.done, outcomes[index]
                closed_at: datetime | None = min(received_at + timedelta(days=rng.uniform(1, 40)), now)
            else:
                stage, status, outcome = rng.choice(self._open_stages[case_type]), statuses[index], None
                closed_at = None
            assignees = county.users_by_township[township]
            assignee = rng.choice(assignees) if rng.random() < 0.7 else None
            yield (
                (
                    case_id,
                    county.tenant_id,
                    self._number(received_at),
                    case_type,
                    f"{self._labels[case_type]}：{person.name}",
                    unit,
                    # StrEnum members are str: COPY writes their values.
                    stage,
                    status,
                    priorities[index],
                    assignee,
                    person.id,
                    person.name,
                    person.pinyin,
                    received_at,
                    due_at,
                    False,
                    overdue,
                    closed_at,
                    outcome,
                    "{}",
                    "system:bench-cases",
                    received_at,
                    closed_at or received_at,
                    1,
                ),
                (self.new_id(), county.tenant_id, case_id, person.id, "applicant"),
            )


# --- loading ---------------------------------------------------------------------------------------------


async def _connect(superuser_url: str) -> asyncpg.Connection:
    url = make_url(superuser_url)
    host = url.query["host"]
    connection = await asyncpg.connect(
        host=host if isinstance(host, str) else host[0], user=url.username, database=url.database
    )
    # References are generated together with the rows they point to, so the per-row FK triggers are skipped.
    await connection.execute("SET session_replication_role = replica")
    await connection.execute("SET synchronous_commit = off")
    return connection


# The tables written in bulk: their secondary indexes are dropped for the load and built again afterwards.
BULK_TABLES = ("persons", "cases", "case_subjects")
_SECONDARY_INDEXES = """
    SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY($1::text[])
      AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY 1
"""


async def drop_secondary_indexes(connection: asyncpg.Connection) -> list[tuple[str, str]]:
    """Drop the indexes of BULK_TABLES that back no constraint (primary and unique constraints stay, and so
    does every foreign key), returning (name, definition) to build them again, as pg_restore does. One B-tree
    insertion per row and index, most at random places of a UUID key, costs far more than a sorted build."""
    indexes = [(row["name"], row["definition"]) for row in await connection.fetch(_SECONDARY_INDEXES, BULK_TABLES)]
    for name, _ in indexes:
        await connection.execute(f"DROP INDEX {name}")
    return indexes


async def build_indexes(connections: list[asyncpg.Connection], indexes: list[tuple[str, str]]) -> None:
    """Build the dropped indexes again from their own definitions, spread over the connections, and check that
    the tables end with exactly the indexes they had."""
    pending = list(indexes)

    async def build(connection: asyncpg.Connection) -> None:
        await connection.execute("SET maintenance_work_mem = '256MB'")
        while pending:
            _, definition = pending.pop()
            await connection.execute(definition)

    await asyncio.gather(*(build(connection) for connection in connections))
    rebuilt = [(row["name"], row["definition"]) for row in await connections[0].fetch(_SECONDARY_INDEXES, BULK_TABLES)]
    if sorted(rebuilt) != sorted(indexes):
        raise RuntimeError(f"the rebuilt indexes differ from the migrated ones: {sorted(set(indexes) ^ set(rebuilt))}")


@dataclass(frozen=True)
class GroupJob:
    """One worker process's share: some counties, generated and written with their own connection."""

    number: int
    superuser_url: str
    counties: list[County]
    measured_code: str
    sizes: Sizes
    names: list[tuple[str, str, str]]
    seed: int
    now: datetime


@dataclass
class GroupResult:
    """Rows written, the case numbers handed out per county and year, and the measured county if it was here."""

    rows: dict[str, int]
    counters: list[tuple[uuid.UUID, int, int]]
    measured: County | None


def worker_count() -> int:
    """Generation is CPU-bound in Python: one worker process per CPU."""
    return max(1, os.cpu_count() or 1)


def worker_pool() -> ProcessPoolExecutor:
    """Worker processes forked now, before any connection, thread or event loop exists in this process:
    forking is far cheaper than spawning (which would import the whole application again in every worker)
    and the workers inherit nothing they could disturb. Create it first thing in main()."""
    pool = ProcessPoolExecutor(max_workers=worker_count(), mp_context=multiprocessing.get_context("fork"))
    pool.submit(int).result()  # with fork, the first submission starts every worker
    return pool


def load_group(job: GroupJob) -> GroupResult:
    """Entry point of a worker process: its own event loop and its own COPY connection."""
    return asyncio.run(_load_group(job))


async def _load_group(job: GroupJob) -> GroupResult:
    rng = random.Random(job.seed * 1000 + job.number)
    uuids = UuidMaker(rng)
    cipher = personal_data_cipher()
    ids = ResidentIdMaker(rng)
    written: dict[str, int] = {}
    connection = await _connect(job.superuser_url)
    # One batch may wait while the next is generated: the server ingests while this process computes.
    queue: asyncio.Queue[tuple[str, list[tuple[Any, ...]], tuple[str, ...]] | None] = asyncio.Queue(maxsize=1)

    async def writer() -> None:
        while (item := await queue.get()) is not None:
            table, records, columns = item
            await connection.copy_records_to_table(table, records=records, columns=columns)
            written[table] = written.get(table, 0) + len(records)

    task = asyncio.create_task(writer())
    started = time.perf_counter()
    waited = 0.0

    async def put(item: tuple[str, list[tuple[Any, ...]], tuple[str, ...]] | None) -> None:
        nonlocal waited
        before = time.perf_counter()
        await queue.put(item)
        waited += time.perf_counter() - before

    try:
        for county in job.counties:
            rows = persons_rows(
                county,
                job.sizes.persons_per_tenant,
                rng,
                uuids,
                job.names,
                ids,
                cipher,
                job.now,
                keep_numbers=county.code == job.measured_code,
            )
            await put(("persons", rows, PERSON_COLUMNS))
        generators = [CaseGenerator(county, rng, uuids, job.now) for county in job.counties]
        per_tenant = job.sizes.cases_per_tenant
        for round_number in range(CASE_ROUNDS):
            count = per_tenant // CASE_ROUNDS + (1 if round_number < per_tenant % CASE_ROUNDS else 0)
            if count == 0:
                continue
            pairs = [pair for generator in generators for pair in generator.rows(count)]
            rng.shuffle(pairs)
            await put(("cases", [case for case, _ in pairs], CASE_COLUMNS))
            await put(("case_subjects", [subject for _, subject in pairs], SUBJECT_COLUMNS))
            if round_number % 5 == 4:
                print(
                    f"  worker {job.number}: {written.get('cases', 0):,} cases written, "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )
        await put(None)
        await task
        print(
            f"  worker {job.number}: done in {time.perf_counter() - started:.0f} s, of which "
            f"{waited:.0f} s waiting for the server to take the previous batch",
            flush=True,
        )
    finally:
        if not task.done():
            task.cancel()
        await connection.close()
    counters = [
        (generator.county.tenant_id, year, last)
        for generator in generators
        for year, last in sorted(generator.counters.items())
    ]
    measured = next((county for county in job.counties if county.code == job.measured_code), None)
    return GroupResult(rows=written, counters=counters, measured=measured)


async def bulk_load(
    pool: ProcessPoolExecutor,
    superuser_url: str,
    counties: list[County],
    measured: County,
    officer: Officer,
    sizes: Sizes,
    seed: int,
) -> LoadReport:
    """Users in this process; persons, cases and case subjects in the worker processes of `pool`
    (`worker_pool()`), each with its share of the counties and its own COPY connection; then case counters
    and VACUUM ANALYZE.

    Fills `measured.persons_by_village` and `measured.resident_ids` from the worker that generated them.
    """
    report = LoadReport()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    connection = await _connect(superuser_url)
    try:
        started = time.perf_counter()
        password_hash = security.hash_secret(PASSWORD)
        users: list[tuple[Any, ...]] = []
        grants: list[tuple[Any, ...]] = []
        for county in counties:
            county_users, county_grants = users_rows(
                county, officer if county is measured else None, password_hash, now
            )
            users += county_users
            grants += county_grants
        await connection.copy_records_to_table("users", records=users, columns=USER_COLUMNS)
        await connection.copy_records_to_table("role_grants", records=grants, columns=GRANT_COLUMNS)
        report.rows["users"] = len(users) + 1
        report.seconds["users"] = time.perf_counter() - started

        started = time.perf_counter()
        indexes = await drop_secondary_indexes(connection)
        workers = max(1, min(len(counties), worker_count()))
        names = name_pool(rng)
        jobs = [
            GroupJob(number, superuser_url, counties[number::workers], measured.code, sizes, names, seed, now)
            for number in range(workers)
        ]
        loop = asyncio.get_running_loop()
        results = await asyncio.gather(*(loop.run_in_executor(pool, load_group, job) for job in jobs))
        for result in results:
            for table, count in result.rows.items():
                report.rows[table] = report.rows.get(table, 0) + count
            if result.measured is not None:
                measured.persons_by_village = result.measured.persons_by_village
                measured.resident_ids = result.measured.resident_ids
        counters = [counter for result in results for counter in result.counters]
        await connection.copy_records_to_table("case_counters", records=counters, columns=COUNTER_COLUMNS)
        report.seconds[f"persons and cases ({workers} processes)"] = time.perf_counter() - started

        started = time.perf_counter()
        second = await _connect(superuser_url)
        try:
            await build_indexes([connection, second], indexes)
        finally:
            await second.close()
        report.seconds[f"{len(indexes)} indexes"] = time.perf_counter() - started

        started = time.perf_counter()
        for table in ("users", "role_grants", "persons", "cases", "case_subjects", "case_counters"):
            await connection.execute(f"VACUUM (ANALYZE) {table}")
        report.seconds["vacuum analyze"] = time.perf_counter() - started
    finally:
        await connection.close()
    return report


async def load_existing(superuser_url: str) -> tuple[County, Officer, dict[str, int]]:
    """For `--reuse`: the measured county (the middle one, as a fresh run picks it), its officer and its
    persons' ID numbers (decrypted), and the row counts, read back from the database of an earlier run."""
    cipher = personal_data_cipher()
    connection = await _connect(superuser_url)
    try:
        codes = [row["code"] for row in await connection.fetch("SELECT code FROM tenants ORDER BY code")]
        if not codes:
            raise RuntimeError("no counties in the database: run without --reuse first")
        code = codes[len(codes) // 2]
        tenant = await connection.fetchrow("SELECT id, name FROM tenants WHERE code = $1", code)
        units = await connection.fetch(
            "SELECT code, parent_code FROM org_units WHERE tenant_id = $1 AND length(code) = 12 ORDER BY code",
            tenant["id"],
        )
        villages_by_township: dict[str, list[str]] = {}
        for unit in units:
            villages_by_township.setdefault(unit["parent_code"], []).append(unit["code"])
        county = County(
            tenant_id=tenant["id"],
            code=code,
            name=tenant["name"],
            townships=sorted(villages_by_township),
            villages_by_township=villages_by_township,
        )
        township = county.townships[0]
        username = _officer_username(township)
        user_id = await connection.fetchval(
            "SELECT id FROM users WHERE tenant_id = $1 AND username = $2", tenant["id"], username
        )
        persons = await connection.fetch(
            "SELECT id, name, name_pinyin, org_unit_code, resident_id_ciphertext FROM persons "
            "WHERE tenant_id = $1 AND org_unit_code LIKE $2 || '%' AND resident_id_ciphertext IS NOT NULL",
            tenant["id"],
            township,
        )
        for person in persons:
            county.persons_by_village.setdefault(person["org_unit_code"], []).append(
                PersonRef(person["id"], person["name"], person["name_pinyin"])
            )
            county.resident_ids[person["id"]] = cipher.decrypt(
                person["resident_id_ciphertext"], context=RESIDENT_ID_CONTEXT
            )
        rows = {
            table: int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
            for table in ("users", "persons", "cases", "case_subjects")
        }
    finally:
        await connection.close()
    return county, Officer(user_id=user_id, username=username, password=PASSWORD, township=township), rows
