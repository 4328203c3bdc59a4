"""Data for bench/reports.py: bench/cases_data.py's counties, users, persons and cases, plus what supervision counts
besides cases, generated inside PostgreSQL (INSERT ... SELECT as the superuser, which bypasses row-level security
as a bulk load must; foreign-key triggers off, as in cases_data):

- verification requests and notices: `requests_per_tenant` rows sent by each county (80% requests, 20% notices),
  to another county of the instance at random (some land on the sender itself: requests within the county), one
  in ten to a county off the platform; materials received within the last 15 months, arrival up to 12 days later,
  answer due 21 days after arrival; 70% answered, 5% sent back, 10% pending, 10% expired, 5% withdrawn; 85% sent
  on time; answered at a random moment up to 20 days after arrival (on time when by the due moment);
- marriage-and-childbearing certificates for 60% of the women (issued within the last three years, valid three
  years), and an inspection within the last 15 months for 70% of the certificates of inflow women;
- the county supervisor the cockpit and report scenarios sign in as, through the identity service.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from backend.authz.vocabulary import Role
from backend.core.context import actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.identity import service as identity
from backend.identity.schemas import RoleGrantCreate, UserCreate
from bench.cases_data import BENCH_ACTOR, PASSWORD, County, _connect, _county_admin

OFF_PLATFORM_COUNTY = "650102"  # a real county code; bench counties are 99xxxx

VERIFICATION_SQL = (
    """
WITH counties AS (
    SELECT array_agg(id ORDER BY code) AS ids, array_agg(code ORDER BY code) AS codes, count(*)::int AS n FROM tenants
),
drawn AS (
    SELECT t.id AS tenant_id, t.code AS county, g AS serial,
           random() AS r_kind, random() AS r_state, random() AS r_sent, random() AS r_off, random() AS r_answer,
           1 + floor(random() * c.n)::int AS responder_index,
           1 + floor(random() * $2)::int AS requester_township, 1 + floor(random() * $2)::int AS responder_township,
           now() - random() * interval '450 days' AS materials, random() * interval '12 days' AS travel,
           c.ids AS ids, c.codes AS codes
    FROM tenants t CROSS JOIN counties c CROSS JOIN generate_series(1, $1) AS g
),
shaped AS (
    SELECT d.*,
           CASE WHEN r_off < 0.1 THEN NULL ELSE ids[responder_index] END AS responder_tenant_id,
           CASE WHEN r_off < 0.1 THEN '"""
    + OFF_PLATFORM_COUNTY
    + """' ELSE codes[responder_index] END AS responder_county,
           materials + travel AS arrived,
           materials + travel + interval '21 days' AS due,
           CASE WHEN r_state < 0.70 THEN 'answered' WHEN r_state < 0.75 THEN 'rejected'
                WHEN r_state < 0.85 THEN 'pending' WHEN r_state < 0.95 THEN 'expired' ELSE 'withdrawn' END AS state
    FROM drawn d
)
INSERT INTO verification_requests (
    id, tenant_id, kind, correlation_id, state, requester_county_code, requester_unit_code, requester_unit_name,
    requester_off_platform, responder_tenant_id, responder_county_code, responder_unit_code, responder_unit_name,
    subject_name, question_type, question, attachment_document_ids, channel, materials_received_at, send_due_at,
    sent_at, sent_on_time, arrived_at, answer_due_at, answer_due_provisional, expires_at, responder_overdue,
    responder_escalation_level, answered_at, answered_on_time, close_reason, created_by, version, created_at, updated_at
)
SELECT gen_random_uuid(), tenant_id,
       (CASE WHEN r_kind < 0.8 THEN 'request' ELSE 'notice' END)::verification_kind,
       'XC-B-' || county || '-' || serial, state::verification_state,
       county, county || lpad(requester_township::text, 3, '0'), '第' || requester_township || '镇', false,
       responder_tenant_id, responder_county, responder_county || lpad(responder_township::text, 3, '0'),
       '第' || responder_township || '镇', '基准对象', 'marital_childbearing'::verification_question, '核实婚育情况',
       '{}'::uuid[], 'platform'::verification_channel, materials, materials + interval '9 days', arrived,
       r_sent < 0.85, arrived, due, false, due + interval '14 days', false, 0,
       CASE WHEN state IN ('answered', 'rejected') THEN arrived + r_answer * interval '20 days' END,
       CASE WHEN state IN ('answered', 'rejected') THEN arrived + r_answer * interval '20 days' <= due
            WHEN state = 'expired' THEN false END,
       CASE WHEN state = 'rejected' THEN '材料不全' END,
       'system:bench-reports', 1, materials, materials
FROM shaped
"""
)

CERTIFICATES_SQL = """
INSERT INTO certificates (
    id, tenant_id, person_id, number, issue_date, issuing_unit_code, issuing_unit_name, permanent, valid_until,
    status, issued_by_proxy, org_unit_code, version, created_at, updated_at
)
SELECT gen_random_uuid(), p.tenant_id, p.id, 'HY-' || substr(p.id::text, 1, 13), issued, left(p.org_unit_code, 9),
       '第1镇计生办', false, (issued + interval '3 years')::date, 'valid'::certificate_status, false,
       p.org_unit_code, 1, now(), now()
FROM (SELECT *, (now() - random() * interval '1095 days')::date AS issued FROM persons
      WHERE sex = 'female' AND random() < 0.6) AS p
"""

INSPECTIONS_SQL = """
INSERT INTO certificate_inspections (id, tenant_id, certificate_id, inspected_on, inspector_name, org_unit_code, result)
SELECT gen_random_uuid(), c.tenant_id, c.id, (now() - random() * interval '450 days')::date, '基准查验员',
       c.org_unit_code, 'valid'::inspection_result
FROM certificates c JOIN persons p ON p.id = c.person_id
WHERE p.flow_direction = 'inflow' AND random() < 0.7
"""


@dataclass(frozen=True, slots=True)
class Supervisor:
    username: str
    password: str


async def create_supervisor(database: Database, county: County) -> Supervisor:
    """The signed-in county supervisor of the measured county, through the identity service."""
    actor_var.set(BENCH_ACTOR)
    username = "county.supervisor"
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant_id)
        await identity.create_user(
            session,
            _county_admin(county.tenant_id, county.code),
            UserCreate(
                username=username,
                display_name="县级负责人",
                org_unit_code=county.code,
                password=PASSWORD,
                grants=[RoleGrantCreate(role=Role.county_supervisor, org_unit_code=county.code)],
            ),
        )
    return Supervisor(username, PASSWORD)


async def load_supervision_rows(superuser_url: str, requests_per_tenant: int, townships: int) -> dict[str, float]:
    """Verification rows, certificates and inspections, then VACUUM ANALYZE; seconds per step."""
    seconds: dict[str, float] = {}
    connection = await _connect(superuser_url)
    try:
        for name, sql, arguments in (
            ("verification rows", VERIFICATION_SQL, (requests_per_tenant, townships)),
            ("certificates", CERTIFICATES_SQL, ()),
            ("inspections", INSPECTIONS_SQL, ()),
        ):
            started = time.perf_counter()
            await connection.execute(sql, *arguments)
            seconds[name] = time.perf_counter() - started
        started = time.perf_counter()
        for table in ("verification_requests", "certificates", "certificate_inspections"):
            await connection.execute(f"VACUUM (ANALYZE) {table}")
        seconds["vacuum analyze"] = time.perf_counter() - started
    finally:
        await connection.close()
    return seconds


async def row_counts(superuser_url: str) -> dict[str, int]:
    connection = await _connect(superuser_url)
    try:
        return {
            table: int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
            for table in (
                "tenants",
                "cases",
                "persons",
                "verification_requests",
                "certificates",
                "certificate_inspections",
            )
        }
    finally:
        await connection.close()


async def measured_county(superuser_url: str) -> tuple[uuid.UUID, str]:
    """For --reuse: the measured county (the middle one, as a fresh run picks it)."""
    connection = await _connect(superuser_url)
    try:
        codes = [row["code"] for row in await connection.fetch("SELECT code FROM tenants ORDER BY code")]
        if not codes:
            raise RuntimeError("no counties in the database: run without --reuse first")
        code = codes[len(codes) // 2]
        tenant_id = await connection.fetchval("SELECT id FROM tenants WHERE code = $1", code)
        return tenant_id, code
    finally:
        await connection.close()
