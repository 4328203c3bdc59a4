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

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from backend.authz.dependencies import AUTHENTICATED
from backend.authz.vocabulary import ROLE_TEMPLATES, Action, Role
from backend.core.clock import utc_now
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import (
    Case,
    CasePriority,
    CaseStage,
    CaseStatus,
    Channel,
    FlowDirection,
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
    for county, other in ((a, b), (b, a)):
        for key in county.units:
            VERIFICATIONS[(county.code, key)] = await _verification_to(database, other, county, key)
    return World(a, b)


CASES: dict[tuple[str, str], uuid.UUID] = {}
VERIFICATIONS: dict[tuple[str, str], uuid.UUID] = {}
PERSONS: dict[tuple[str, str], uuid.UUID] = {}


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


async def _case_at(database: Database, county: County, unit: str) -> uuid.UUID:
    case_id = uuid.uuid4()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            Case(
                id=case_id,
                tenant_id=county.tenant.id,
                number=f"{county.code}-M-{unit}",
                case_type="complaint",
                title="矩阵",
                org_unit_code=county.units[unit],
                stage=CaseStage.registration,
                status=CaseStatus.open,
                priority=CasePriority.normal,
                received_at=utc_now(),
                created_by="fixture",
                details={},
            )
        )
    return case_id


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


async def probe_register_export(client: httpx.AsyncClient, county: County, unit: str) -> bool:
    # The registry export (the registers check register.export in their service: tests/backend/registers).
    return _allowed(
        await client.get("/api/v1/persons:export", params={"org_unit": county.units[unit], "format": "csv"})
    )


PROBES: dict[str, Probe] = {
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
    Action.document_write: probe_document_write,
    Action.document_destroy: probe_document_destroy,
    Action.intake_submit: probe_intake_submit,
    Action.intake_read_status: probe_intake_read_status,
    Action.register_export: probe_register_export,
}
# Actions that are not about a place: checked once, from the role's own unit.
UNSCOPED = {
    Action.clients_manage,
    Action.tenant_provision,
    Action.config_manage,
    Action.intake_submit,
    Action.intake_read_status,
    Action.document_destroy,
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
