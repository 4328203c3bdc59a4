"""The authorization matrix, exercised through the HTTP API: every role × every action the API declares ×
target in {own unit, child unit, sibling unit, parent unit, other county}.

Expected answers come from the role templates and the subtree rule (a grant covers its unit and everything
under it, in its own county only); a few explicit spot checks pin the templates themselves to the issue.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from backend.authz.dependencies import AUTHENTICATED
from backend.authz.vocabulary import ROLE_TEMPLATES, Action, Role
from backend.core.clock import china_today, utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import (
    Assessment,
    Case,
    CasePriority,
    CaseSignoff,
    CaseStage,
    CaseStatus,
    Channel,
    CheckRound,
    CheckRoundStatus,
    Complaint,
    ComplaintChannel,
    ComplaintKind,
    EntryKind,
    EntryReview,
    EntryState,
    FlowDirection,
    InfoQuery,
    Person,
    QuestionType,
    Sex,
    VerificationKind,
    VerificationRequest,
    VerificationState,
)
from backend.tenants.schemas import TenantCreate
from tests.backend.authz.route_table import declared_permissions
from tests.fixtures.database import unique_county_code
from tests.fixtures.identity import PASSWORD, County, add_user, build_county

# Where each role is granted, as a key of County.units; and which targets make sense from there.
ROLE_HOME = {
    Role.village_coordinator: "v11",
    Role.township_officer: "t1",
    Role.township_supervisor: "t1",
    Role.county_officer: "county",
    Role.county_supervisor: "county",
    Role.auditor: "county",
    Role.county_admin: "county",
}
TARGETS_FROM = {
    "v11": {"own": "v11", "sibling": "v12", "parent": "t1"},
    "t1": {"own": "t1", "child": "v11", "sibling": "t2", "parent": "county"},
    "county": {"own": "county", "child": "t1"},
}
TARGET_KINDS = ("own", "child", "sibling", "parent", "other_county")


@dataclass
class World:
    a: County
    b: County


@pytest.fixture(scope="session")
async def world(database: Database, app: FastAPI) -> World:
    from backend.tenants.service import provision_tenant

    async def factory(name: str = "县", code: str | None = None):  # type: ignore[no-untyped-def]
        async with database.sessionmaker() as session, session.begin():
            return await provision_tenant(session, TenantCreate(code=code or unique_county_code(), name=name))

    a, b = await build_county(database, factory, "甲县"), await build_county(database, factory, "乙县")
    for county in (a, b):
        for role, home in ROLE_HOME.items():
            await add_user(database, county, f"{county.code}-{role.value}", home, [(role, home)])
        # A plain user and a case at every unit: the objects the probes look at.
        for key in county.units:
            await add_user(database, county, f"{county.code}-resident-{key}", key)
            CASES[(county.code, key)] = await _case_at(database, county, key)
            PERSONS[(county.code, key)] = await _person_at(database, county, key)
            ROUNDS[(county.code, key)] = [await _round_at(database, county, key) for _ in range(12)]
    for county, other in ((a, b), (b, a)):
        for key in county.units:
            VERIFICATIONS[(county.code, key)] = await _verification_to(database, other, county, key)
        ASSESSMENTS[county.code] = await _assessment_of(database, other, county)
    for county in (a, b):
        for key in county.units:
            REWARD_CASES[(county.code, key)] = await _reward_case_at(database, county, key)
            COMPLAINTS[(county.code, key)] = await _complaint_at(database, county, key)
            LEDGER[(county.code, key)] = await _ledger_entry_at(database, county, key)
            ENTRIES[(county.code, key)] = await _entry_at(database, county, key)
    return World(a, b)


CASES: dict[tuple[str, str], uuid.UUID] = {}
REWARD_CASES: dict[tuple[str, str], uuid.UUID] = {}
COMPLAINTS: dict[tuple[str, str], uuid.UUID] = {}
LEDGER: dict[tuple[str, str], uuid.UUID] = {}
ENTRIES: dict[tuple[str, str], uuid.UUID] = {}
ASSESSMENTS: dict[str, uuid.UUID] = {}
VERIFICATIONS: dict[tuple[str, str], uuid.UUID] = {}
PERSONS: dict[tuple[str, str], uuid.UUID] = {}
# Check rounds at every unit: the read probe looks at the first, each allowed write records the result of the next.
ROUNDS: dict[tuple[str, str], list[uuid.UUID]] = {}


async def _round_at(database: Database, county: County, unit: str) -> uuid.UUID:
    round_id, today = uuid.uuid4(), china_today()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            CheckRound(
                id=round_id,
                tenant_id=county.tenant.id,
                person_id=PERSONS[(county.code, unit)],
                org_unit_code=county.units[unit],
                period=f"M-{round_id.hex[:8]}",
                year=today.year,
                round=1,
                rounds=1,
                window_start=today.replace(month=1, day=1),
                window_end=today.replace(month=12, day=31),
                key_subject=False,
                status=CheckRoundStatus.due,
            )
        )
    return round_id


async def _person_at(database: Database, county: County, unit: str) -> uuid.UUID:
    person_id = uuid.uuid4()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            Person(
                id=person_id,
                tenant_id=county.tenant.id,
                name="矩阵",
                name_pinyin="juzhen",
                name_initials="jz",
                sex=Sex.female,
                ethnicity="汉族",
                org_unit_code=county.units[unit],
                flow_direction=FlowDirection.inflow,
                key_subject=False,
                notes="矩阵",
            )
        )
    return person_id


async def _case_at(
    database: Database,
    county: County,
    unit: str,
    *,
    case_type: str = "complaint",
    stage: CaseStage = CaseStage.registration,
    number: str = "M",
) -> uuid.UUID:
    case_id = uuid.uuid4()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            Case(
                id=case_id,
                tenant_id=county.tenant.id,
                number=f"{county.code}-{number}-{unit}",
                case_type=case_type,
                title="矩阵",
                org_unit_code=county.units[unit],
                stage=stage,
                status=CaseStatus.open,
                priority=CasePriority.normal,
                received_at=utc_now(),
                created_by="fixture",
                details={},
            )
        )
    return case_id


async def _reward_case_at(database: Database, county: County, unit: str) -> uuid.UUID:
    """A reward case at `unit` waiting for its last signature (签字): investigated and reviewed by two residents,
    so that any prober may sign it."""
    case_id = await _case_at(database, county, unit, case_type="only_child_reward", stage=CaseStage.audit, number="R")
    other = "t2" if unit != "t2" else "t1"
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        for step, resident in (("investigate", unit), ("review", other)):
            signer = county.users[f"{county.code}-resident-{resident}"]
            session.add(
                CaseSignoff(
                    tenant_id=county.tenant.id,
                    case_id=case_id,
                    step=step,
                    stage=CaseStage.audit.value,
                    role="矩阵",
                    signer_id=signer.id,
                    signer_label=signer.username,
                    signed_at=utc_now(),
                    attestation="矩阵",
                    request_id=f"matrix-{step}",
                )
            )
    return case_id


async def _complaint_at(database: Database, county: County, unit: str) -> uuid.UUID:
    """A named complaint at `unit`, handled by nobody: only the county supervisor may know who made it."""
    case_id = await _case_at(database, county, unit, number="C")
    complaint_id = uuid.uuid4()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            Complaint(
                id=complaint_id,
                tenant_id=county.tenant.id,
                case_id=case_id,
                kind=ComplaintKind.complaint,
                channel=ComplaintChannel.hotline,
                received_at=utc_now(),
                org_unit_code=county.units[unit],
                anonymous=False,
                complainant_name="矩阵投诉人",
                summary="矩阵",
                content="矩阵",
                practices=[],
                created_by="fixture",
            )
        )
    return complaint_id


async def _ledger_entry_at(database: Database, county: County, unit: str) -> uuid.UUID:
    """An entry of the information-query ledger kept at `unit` (a newborn-name count: no person needed)."""
    entry_id = uuid.uuid4()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            InfoQuery(
                id=entry_id,
                tenant_id=county.tenant.id,
                number=f"CX-M-{county.code}-{unit}",
                org_unit_code=county.units[unit],
                requested_at=utc_now(),
                state="pending",
                purpose="newborn_name",
                requester_name="矩阵",
                documents_seen=["birth_service_certificate", "id_card"],
                application_signed=True,
                subject_name="矩阵",
                subject_consent=False,
                retain_until=date(2099, 1, 1),
                created_by="fixture",
            )
        )
    return entry_id


async def _entry_at(database: Database, county: County, unit: str) -> uuid.UUID:
    """A village entry at `unit` waiting for the township's confirmation (三级把关): a change of the unit's person."""
    entry_id = uuid.uuid4()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            EntryReview(
                id=entry_id,
                tenant_id=county.tenant.id,
                person_id=PERSONS[(county.code, unit)],
                org_unit_code=county.units[unit],
                kind=EntryKind.change,
                state=EntryState.pending,
                changes={"notes": ["矩阵", "矩阵改"]},
                entered_by="fixture",
                entered_by_label="矩阵",
            )
        )
    return entry_id


async def _verification_to(database: Database, requester: County, responder: County, unit: str) -> uuid.UUID:
    """A pending request from `requester`'s county addressed to `unit` of `responder`."""
    request_id, now = uuid.uuid4(), utc_now()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, requester.tenant.id)
        session.add(
            VerificationRequest(
                id=request_id,
                tenant_id=requester.tenant.id,
                kind=VerificationKind.request,
                correlation_id=f"XC-M-{request_id.hex[:12]}",
                state=VerificationState.pending,
                case_id=CASES[(requester.code, "t1")],
                requester_county_code=requester.code,
                requester_unit_code=requester.units["t1"],
                requester_unit_name="矩阵",
                responder_tenant_id=responder.tenant.id,
                responder_county_code=responder.code,
                responder_unit_code=responder.units[unit],
                subject_name="矩阵",
                question_type=QuestionType.other,
                question="矩阵",
                attachment_document_ids=[],
                channel=Channel.platform,
                materials_received_at=now,
                send_due_at=now,
                sent_at=now,
                sent_on_time=True,
                arrived_at=now,
                answer_due_at=now,
                expires_at=now,
                created_by="fixture",
            )
        )
    return request_id


async def _assessment_of(database: Database, assessor: County, assessed: County) -> uuid.UUID:
    """A score `assessor` published about `assessed` (two-way assessment), with one item to contest."""
    assessment_id, now = uuid.uuid4(), utc_now()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, assessor.tenant.id)
        session.add(
            Assessment(
                id=assessment_id,
                tenant_id=assessor.tenant.id,
                kind="counterpart",
                year=2026,
                assessor_county_code=assessor.code,
                assessed_county_code=assessed.code,
                assessed_tenant_id=assessed.tenant.id,
                version_number=1,
                figures={"scores": [{"items": [{"kpi_code": "feedback_rate"}]}]},
                total_score=90.0,
                vetoed=False,
                as_of=now,
                published_at=now,
                published_by="矩阵",
            )
        )
    return assessment_id


Probe = Callable[[httpx.AsyncClient, County, str], Awaitable[bool]]


def _allowed(response: httpx.Response, *, ok: int = 200) -> bool:
    if response.status_code == ok:
        return True
    # A denial never leaks: only 403 (action held nowhere) or 404 (outside reach) or 422 for bodies naming units
    # the caller may not touch.
    assert response.status_code in (403, 404, 422), (response.status_code, response.text)
    return False


async def probe_org_read(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get(f"/api/v1/org-units/{county.units[unit]}"))


async def probe_users_manage(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    resident = county.users[f"{county.code}-resident-{unit}"]
    return _allowed(await client.get(f"/api/v1/admin/users/{resident.id}"))


async def probe_audit_read(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    resident = county.users[f"{county.code}-resident-{unit}"]
    response = await client.get("/api/v1/audit/events", params={"entity_type": "user", "entity_id": str(resident.id)})
    return _allowed(response) and len(response.json()) > 0


async def probe_clients_manage(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get("/api/v1/admin/api-clients"))


async def probe_breakglass_request(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    response = await client.post(
        "/api/v1/break-glass",
        json={"org_unit_code": county.units[unit], "reason": "矩阵测试：核查重复登记", "minutes": 5},
    )
    allowed = _allowed(response, ok=201)
    if allowed:
        await client.post(f"/api/v1/break-glass/{response.json()['id']}/revoke")
    return allowed


async def probe_tenant_provision(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get("/api/v1/platform/tenants"))


async def probe_case_read(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get(f"/api/v1/cases/{CASES[(county.code, unit)]}"))


async def probe_case_write(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    response = await client.post("/api/v1/cases", json={"case_type": "complaint", "org_unit_code": county.units[unit]})
    return _allowed(response, ok=201)


async def probe_case_assign(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.post(f"/api/v1/cases/{CASES[(county.code, unit)]}/assign", json={"assignee_id": None}))


async def probe_config_manage(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get("/api/v1/calendar/county-holidays"))


async def probe_person_read(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get(f"/api/v1/persons/{PERSONS[(county.code, unit)]}"))


async def probe_person_write(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    # A PATCH that changes nothing keeps the version, so every role can send the same one.
    return _allowed(
        await client.patch(f"/api/v1/persons/{PERSONS[(county.code, unit)]}", json={"notes": "矩阵", "version": 1})
    )


async def probe_verification_answer(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get(f"/api/v1/verification/inbox/{VERIFICATIONS[(county.code, unit)]}"))


async def probe_verification_request(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    # An off-platform township (65xxxx is a real county, never a test tenant), a fresh one per call so the
    # one-open rule never answers instead of authorization.
    response = await client.post(
        "/api/v1/verification/requests",
        json={
            "case_id": str(CASES[(county.code, unit)]),
            "subject_name": "矩阵",
            "responder_division_code": f"65{uuid.uuid4().int % 10_000:04d}001",
            "question": "矩阵测试",
            "dispatch": {"channel": "phone", "arrived_at": utc_now().isoformat(), "evidence": "通话记录"},
        },
    )
    return _allowed(response, ok=201)


async def probe_verification_record_incoming(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    """Recording a request that came by phone from an off-platform county, for the unit's township: the
    township officers (verification.answer) of that township or above, never another county's."""
    response = await client.post(
        "/api/v1/verification/incoming",
        json={
            "responder_unit_code": county.units[unit][:9],
            "requester_unit_name": "矩阵外县",
            "requester_division_code": "650102001",
            "subject_name": "矩阵",
            "question": "矩阵测试",
            "channel": "phone",
            "arrived_at": utc_now().isoformat(),
            "evidence": "通话记录",
        },
    )
    return _allowed(response, ok=201)


async def probe_service_read(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get(f"/api/v1/check-rounds/{ROUNDS[(county.code, unit)][0]}"))


async def probe_service_write(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    pool = ROUNDS[(county.code, unit)]
    body = {
        "checked_on": china_today().isoformat(),
        "pregnancy": "not_pregnant",
        "iud": "in_place",
        "gynaecology": "normal",
        "provider_name": "矩阵服务站",
    }
    allowed = _allowed(await client.post(f"/api/v1/check-rounds/{pool[-1]}/result", json=body), ok=201)
    if allowed:
        pool.pop()
    return allowed


async def probe_campaign_plan(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    """A campaign is planned for a township or the county; a village target is planned by its township for that
    village alone (no role holds campaign.plan at a village)."""
    code = county.units[unit]
    planner, villages = (code[:9], [code]) if len(code) == 12 else (code, [])
    today = china_today().isoformat()
    body = {
        "name": "矩阵清查",
        "kind": "monthly",
        "period_start": today,
        "period_end": today,
        "org_unit_code": planner,
        "unit_codes": villages,
    }
    return _allowed(await client.post("/api/v1/campaigns", json=body), ok=201)


async def probe_document_read(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    params = {"owner_kind": "person", "owner_id": str(PERSONS[(county.code, unit)])}
    return _allowed(await client.get("/api/v1/documents", params=params))


async def probe_document_write(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    body = {
        "kind": "responsibility_letter",
        "title": "矩阵责任书",
        "parties": [{"role": "township", "name": "甲"}, {"role": "landlord", "name": "乙"}],
        "signed_on": "2026-01-01",
        "valid_from": "2026-01-01",
        "org_unit_code": county.units[unit],
    }
    return _allowed(await client.post("/api/v1/agreements", json=body), ok=201)


async def probe_document_destroy(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get("/api/v1/document-retention"))


async def probe_intake_submit(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    # Department API clients only: no user role holds it (tests/backend/intake covers the clients).
    return _allowed(await client.post("/api/v1/notifications:batch", json={"notifications": [{}]}), ok=202)


async def probe_intake_read_status(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get(f"/api/v1/notifications/{uuid.uuid4()}"))


async def probe_person_read_identifiers(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    """Reading an entry of the information-query ledger (it names requesters and the persons asked about)."""
    return _allowed(await client.get(f"/api/v1/info-queries/{LEDGER[(county.code, unit)]}"))


async def probe_report_read(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get("/api/v1/kpis", params={"unit": county.units[unit]}))


async def probe_report_publish(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    body = {"period": "2026-01", "unit": county.units[unit], "correction_reason": "矩阵测试更正"}
    return _allowed(await client.post("/api/v1/reports/month/publish", json=body), ok=201)


async def probe_kpi_configure(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get("/api/v1/kpis/targets"))


async def probe_kpi_overview(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get("/api/v1/platform/kpis"))


async def probe_assessment_read(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get("/api/v1/assessments/2026/scheme"))


async def probe_assessment_manage(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    body = {"correction_reason": "矩阵测试更正"}
    return _allowed(await client.post("/api/v1/assessments/2026/townships/publish", json=body), ok=201)


async def probe_assessment_contest(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    body = {"item": "feedback_rate", "reason": "矩阵测试异议"}
    return _allowed(
        await client.post(f"/api/v1/assessments/results/{ASSESSMENTS[county.code]}/contests", json=body), ok=201
    )


async def probe_register_export(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    # The registry export (the registers check register.export in their service: tests/backend/registers).
    return _allowed(
        await client.get("/api/v1/persons:export", params={"org_unit": county.units[unit], "format": "csv"})
    )


async def probe_archive_manage(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    return _allowed(await client.get("/api/v1/archive/volumes", params={"org_unit_code": county.units[unit]}))


async def probe_entry_confirm(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    """Confirming a village entry on a version nobody holds: allowed, it answers 409 and leaves the entry waiting."""
    response = await client.post(f"/api/v1/entry-reviews/{ENTRIES[(county.code, unit)]}/confirm", json={"version": 0})
    return _allowed(response, ok=409)


PROBES: dict[str, Probe] = {
    Action.person_read_identifiers: probe_person_read_identifiers,
    Action.verification_answer: probe_verification_answer,
    Action.verification_request: probe_verification_request,
    Action.person_read: probe_person_read,
    Action.person_write: probe_person_write,
    Action.config_manage: probe_config_manage,
    Action.case_read: probe_case_read,
    Action.case_write: probe_case_write,
    Action.case_assign: probe_case_assign,
    Action.org_read: probe_org_read,
    Action.users_manage: probe_users_manage,
    Action.audit_read: probe_audit_read,
    Action.clients_manage: probe_clients_manage,
    Action.breakglass_request: probe_breakglass_request,
    Action.tenant_provision: probe_tenant_provision,
    Action.document_read: probe_document_read,
    Action.service_read: probe_service_read,
    Action.service_write: probe_service_write,
    Action.campaign_plan: probe_campaign_plan,
    Action.document_write: probe_document_write,
    Action.document_destroy: probe_document_destroy,
    Action.intake_submit: probe_intake_submit,
    Action.intake_read_status: probe_intake_read_status,
    Action.report_read: probe_report_read,
    Action.report_publish: probe_report_publish,
    Action.kpi_configure: probe_kpi_configure,
    Action.kpi_overview: probe_kpi_overview,
    Action.assessment_read: probe_assessment_read,
    Action.assessment_manage: probe_assessment_manage,
    Action.assessment_contest: probe_assessment_contest,
    Action.register_export: probe_register_export,
    Action.archive_manage: probe_archive_manage,
    Action.entry_confirm: probe_entry_confirm,
}
# Actions that are not about a place: checked once, from the role's own unit.
UNSCOPED = {
    Action.clients_manage,
    Action.tenant_provision,
    Action.config_manage,
    Action.intake_submit,
    Action.intake_read_status,
    Action.document_destroy,
    Action.kpi_configure,
    Action.kpi_overview,
    Action.assessment_read,
    Action.assessment_manage,
    Action.assessment_contest,
}


def expected(role: Role, action: Action, home_code: str, target_kind: str, target_code: str) -> bool:
    if action not in ROLE_TEMPLATES[role] or target_kind == "other_county":
        return False
    covered = target_code.startswith(home_code)
    if action == Action.breakglass_request:
        # Break-glass is for a township or village of one's own county that one cannot read already; never
        # for the whole county at once.
        return not covered and len(target_code) > len(home_code[:6])
    return covered


# Routes with a probe of their own besides their action's main probe: same expectations.
EXTRA_PROBES: dict[str, tuple[Action, Probe]] = {
    "verification_record_incoming": (Action.verification_answer, probe_verification_record_incoming),
}


def test_every_declared_action_has_a_probe(app: FastAPI) -> None:
    declared = {permission for permission in declared_permissions(app) if permission != AUTHENTICATED}
    assert declared - set(PROBES) == set(), "add a probe for every action a route declares"


def _cases() -> list[tuple[Role, str, str]]:
    return [
        (role, action, kind)
        for role, action, kind in itertools.product(ROLE_HOME, PROBES, TARGET_KINDS)
        if kind in TARGETS_FROM[ROLE_HOME[role]] or kind == "other_county"
        if not (action in UNSCOPED and kind != "own")
    ]


@pytest.mark.parametrize(("role", "action", "target_kind"), _cases(), ids=lambda v: str(getattr(v, "value", v)))
async def test_matrix(world: World, sign_in, role: Role, action: str, target_kind: str) -> None:  # type: ignore[no-untyped-def]
    home = ROLE_HOME[role]
    client = await sign_in(world.a, f"{world.a.code}-{role.value}", PASSWORD)
    if target_kind == "other_county":
        county, unit = world.b, TARGETS_FROM[home]["own"]
    else:
        county, unit = world.a, TARGETS_FROM[home][target_kind]
    home_code, target_code = world.a.units[home], county.units[unit]
    want = expected(role, Action(action), home_code, target_kind, target_code)
    assert await PROBES[action](client, county, unit) is want


async def probe_case_approve(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    """Signing the approval step (签字) of a reward case: nothing is relayed, so the case waits for it again."""
    case_id = REWARD_CASES[(county.code, unit)]
    version = (await client.get(f"/api/v1/cases/{case_id}")).json().get("version", 1)
    response = await client.post(
        f"/api/v1/cases/{case_id}/actions",
        json={"version": version, "action": "sign", "step": "sign", "attest": True},
    )
    return _allowed(response, ok=202)


# Actions no route declares (a service checks them on the object): each with its own probe.
async def probe_complaint_identity(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    """Reading who made a complaint (投诉人身份): anyone else reads 「保密」."""
    response = await client.get(f"/api/v1/complaints/{COMPLAINTS[(county.code, unit)]}")
    if response.status_code != 200:
        return False
    shown = response.json()["complainant_name"]
    assert shown in ("矩阵投诉人", "保密")
    return bool(shown == "矩阵投诉人")


NEEDS = {Action.case_approve: Action.case_write, Action.complaint_identity: Action.case_read}
SERVICE_PROBES: dict[Action, Probe] = {
    Action.case_approve: probe_case_approve,
    Action.complaint_identity: probe_complaint_identity,
}


@pytest.mark.parametrize(
    ("role", "action", "target_kind"),
    [
        (role, action, kind)
        for role, action, kind in itertools.product(ROLE_HOME, SERVICE_PROBES, TARGET_KINDS)
        if kind in TARGETS_FROM[ROLE_HOME[role]] or kind == "other_county"
    ],
    ids=lambda v: str(getattr(v, "value", v)),
)
async def test_matrix_service_checked_actions(
    world: World, sign_in, role: Role, action: Action, target_kind: str
) -> None:  # type: ignore[no-untyped-def]
    home = ROLE_HOME[role]
    client = await sign_in(world.a, f"{world.a.code}-{role.value}", PASSWORD)
    if target_kind == "other_county":
        county, unit = world.b, TARGETS_FROM[home]["own"]
    else:
        county, unit = world.a, TARGETS_FROM[home][target_kind]
    # Signing needs the case (case.write), reading a complainant the complaint (case.read), and each its own grant.
    want = all(
        expected(role, needed, world.a.units[home], target_kind, county.units[unit])
        for needed in (NEEDS[action], action)
    )
    assert await SERVICE_PROBES[action](client, county, unit) is want


# Spot checks that pin the role templates to the words.
@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.auditor, Action.person_read, True),
        (Role.auditor, Action.case_audit, True),
        (Role.auditor, Action.case_write, False),
        (Role.auditor, Action.person_write, False),
        (Role.auditor, Action.users_manage, False),
        (Role.village_coordinator, Action.case_assign, False),
        (Role.township_supervisor, Action.case_assign, True),
        (Role.county_admin, Action.person_read, False),
        (Role.county_admin, Action.users_manage, True),
        (Role.platform_admin, Action.person_read, False),
        (Role.township_officer, Action.verification_answer, True),
        (Role.county_admin, Action.document_read, False),
        (Role.county_admin, Action.document_destroy, True),
        (Role.auditor, Action.document_write, False),
        (Role.township_supervisor, Action.case_approve, True),
        (Role.county_supervisor, Action.case_approve, True),
        (Role.township_officer, Action.case_approve, False),
        (Role.village_coordinator, Action.case_approve, False),
        (Role.auditor, Action.case_approve, False),
        (Role.county_supervisor, Action.complaint_identity, True),
        (Role.township_supervisor, Action.complaint_identity, False),
        (Role.auditor, Action.complaint_identity, False),
        (Role.village_coordinator, Action.report_read, True),
        (Role.township_officer, Action.report_publish, False),
        (Role.township_supervisor, Action.report_publish, True),
        (Role.county_admin, Action.report_read, False),
        (Role.county_admin, Action.kpi_configure, True),
        (Role.platform_admin, Action.kpi_overview, True),
        (Role.platform_admin, Action.report_read, False),
        (Role.county_officer, Action.assessment_manage, False),
        (Role.county_supervisor, Action.assessment_contest, True),
        (Role.county_admin, Action.archive_manage, True),
        (Role.county_supervisor, Action.archive_manage, True),
        (Role.township_supervisor, Action.archive_manage, False),
        (Role.auditor, Action.archive_manage, False),
        (Role.village_coordinator, Action.entry_confirm, False),
        (Role.township_officer, Action.entry_confirm, True),
        (Role.township_supervisor, Action.entry_confirm, True),
        (Role.auditor, Action.entry_confirm, False),
    ],
)
def test_role_template_spot_checks(role: Role, action: Action, allowed: bool) -> None:
    assert (action in ROLE_TEMPLATES[role]) is allowed


@pytest.mark.parametrize(
    ("role", "probe", "target_kind"),
    [
        (role, probe, kind)
        for role, probe, kind in itertools.product(ROLE_HOME, EXTRA_PROBES, TARGET_KINDS)
        if kind in TARGETS_FROM[ROLE_HOME[role]] or kind == "other_county"
        # Requests are recorded for a township: a county-level target has none of its own.
        if TARGETS_FROM[ROLE_HOME[role]].get("own" if kind == "other_county" else kind) != "county"
    ],
    ids=lambda v: str(getattr(v, "value", v)),
)
async def test_matrix_extra_routes(world: World, sign_in, role: Role, probe: str, target_kind: str) -> None:  # type: ignore[no-untyped-def]
    action, run = EXTRA_PROBES[probe]
    home = ROLE_HOME[role]
    client = await sign_in(world.a, f"{world.a.code}-{role.value}", PASSWORD)
    if target_kind == "other_county":
        county, unit = world.b, TARGETS_FROM[home]["own"]
    else:
        county, unit = world.a, TARGETS_FROM[home][target_kind]
    want = expected(role, action, world.a.units[home], target_kind, county.units[unit][:9])
    assert await run(client, county, unit) is want


async def test_incoming_off_platform_requests_belong_to_the_responder_only(world: World, database: Database) -> None:
    """RLS: a request A's township recorded from an off-platform county is A's row alone (tenant and responder
    are both A); under B's tenant setting it does not exist, and B cannot write one in A's name."""
    request_id, now = uuid.uuid4(), utc_now()
    a, b = world.a, world.b
    row = {
        "id": request_id,
        "kind": VerificationKind.request,
        "correlation_id": f"LH-M-{request_id.hex[:12]}",
        "state": VerificationState.pending,
        "requester_unit_name": "矩阵外县",
        "requester_off_platform": True,
        "responder_county_code": a.code,
        "responder_unit_code": a.units["t1"],
        "subject_name": "矩阵",
        "question_type": QuestionType.other,
        "question": "矩阵",
        "attachment_document_ids": [],
        "channel": Channel.phone,
        "materials_received_at": now,
        "send_due_at": now,
        "sent_at": now,
        "sent_on_time": True,
        "arrived_at": now,
        "answer_due_at": now,
        "expires_at": now,
        "created_by": "fixture",
    }
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, a.tenant.id)
        session.add(VerificationRequest(tenant_id=a.tenant.id, responder_tenant_id=a.tenant.id, **row))
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, b.tenant.id)
        seen = await session.execute(select(VerificationRequest.id).where(VerificationRequest.id == request_id))
        assert seen.scalar_one_or_none() is None
    with pytest.raises(DBAPIError):
        async with database.sessionmaker() as session, session.begin():
            await set_tenant(session, b.tenant.id)
            other = row | {"id": uuid.uuid4(), "correlation_id": f"LH-M-{uuid.uuid4().hex[:12]}"}
            session.add(VerificationRequest(tenant_id=a.tenant.id, responder_tenant_id=a.tenant.id, **other))
