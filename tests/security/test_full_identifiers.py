"""Every full-ID read is audited, or the route masks (issue #16).

The response models are walked for fields that can hold a full ID or phone number (`resident_id`,
`subject_resident_id`, `phone`, and the free-form objects known to carry a department's payload or a register's
cells). Every route answering one is listed below with how it protects the number, and a probe calls the routes
with real data: an answer that holds a full number must come with an audit event of the read (a
`*.view_identifiers` or `register.export` event in the caller's county).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.intake.routing import IntakeRouter, RouterSettings
from backend.models import AuditEvent, IntakeTriage
from tests.backend.intake.conftest import residence
from tests.backend.persons.factories import make_id
from tests.backend.verification.conftest import add_person, open_first_child_case
from tests.fixtures.identity import County, SignIn, add_user
from tests.security.conftest import probe_county

IDENTIFIER_FIELD = re.compile(r"resident_id|phone")
# Free-form objects of the responses: those that can carry identifiers, and why the others cannot.
FREE_FORM_WITH_IDENTIFIERS = {"TriageRead.payload", "RegisterPage.items"}
FREE_FORM_WITHOUT_IDENTIFIERS = {
    "TriageRead.matches": "role -> matched person id",
    "CaseRead.details": "the case type's own fields as the officer typed them",
    "CaseActionAccepted.result": "the workflow's decision",
    "TimelineEntry.details": "audit changes: identifiers redacted by backend/audit/service.py",
    "AuditEventRead.changes": "identifiers redacted by backend/audit/service.py",
    "PersonHistoryEntry.changes": "identifiers redacted by backend/audit/service.py",
    "ImportReport.errors": "row, field and message; never the value",
    "AgreementRead.parties": "a party's role and name",
    "MeRead.roles": "role and unit code",
    "MeRead.break_glass": "unit code and expiry",
    "KpiRowRead.details": "kinds, units, stages and dates of the row (backend/reports/service.py), never whom",
    "ItemScore.rows": "the same KPI rows, shared between two counties: no personal data",
    "SchemeRead.items": "assessment items: KPI code, weight, target",
    "CampaignRead.criteria": "which registry entries a campaign draws: months unseen, kinds, no person",
    "CampaignDetail.criteria": "the same criteria",
    "EntryReviewRead.changes": "the audit diff of a village entry, identifiers redacted (backend/persons/records.py)",
}

# How each route answering an identifier protects it: `masks` (always masked), `audits` (in full for those who may,
# each such read audited; masked for others).
ROUTES: dict[str, str] = {
    "GET /api/v1/persons": "masks",
    "POST /api/v1/persons": "masks",
    "GET /api/v1/persons/{person_id}": "audits",
    "PATCH /api/v1/persons/{person_id}": "masks",
    "POST /api/v1/persons/{person_id}/depart": "masks",
    "GET /api/v1/persons/{person_id}/duplicates": "masks",
    "POST /api/v1/persons/{person_id}/merge": "masks",
    "POST /api/v1/persons/{person_id}/unmerge": "masks",
    "GET /api/v1/intake/triages/{case_id}": "audits",
    "POST /api/v1/intake/triages/{case_id}/verify": "masks",
    "POST /api/v1/intake/triages/{case_id}/accept": "masks",
    "POST /api/v1/intake/triages/{case_id}/reject": "masks",
    "GET /api/v1/registers/{register}": "audits",
    "POST /api/v1/verification/requests": "masks",
    "POST /api/v1/verification/notices": "masks",
    "GET /api/v1/verification/outbox": "masks",
    "GET /api/v1/verification/outbox/{request_id}": "audits",
    "POST /api/v1/verification/outbox/{request_id}/withdraw": "masks",
    "POST /api/v1/verification/outbox/{request_id}/answer": "masks",
    "GET /api/v1/verification/inbox": "masks",
    "POST /api/v1/verification/incoming": "masks",
    "GET /api/v1/verification/inbox/{request_id}": "audits",
    "POST /api/v1/verification/inbox/{request_id}/answer": "masks",
    "POST /api/v1/verification/inbox/{request_id}/file": "masks",
    "POST /api/v1/verification/inbox/{request_id}/reject": "masks",
    "POST /api/v1/verification/inbox/{request_id}/claim": "masks",
    "POST /api/v1/verification/inbox/{request_id}/assign": "masks",
    # The user's own mobile number for SMS: masked (138****5678) even to her
    # (tests/backend/notifications/delivery/test_preferences.py).
    "GET /api/v1/me/notification-preferences": "masks",
    "PUT /api/v1/me/notification-preferences": "masks",
}
FULL_RESIDENT_ID = re.compile(r"^[0-9]{17}[0-9X]$")
FULL_PHONE = re.compile(r"^1[3-9][0-9]{9}$")
READ_AUDITS = ("person.view_identifiers", "verification.view_identifiers", "intake.view_identifiers")


def _carriers(document: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(routes whose answer can hold a full identifier, free-form fields not classified above)."""
    schemas = document["components"]["schemas"]
    unclassified: set[str] = set()

    def holds(schema: dict[str, Any], owner: str, seen: frozenset[str]) -> bool:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return False
            return holds(schemas[name], name, seen | {name})
        variants = [variant for key in ("anyOf", "oneOf", "allOf") for variant in schema.get(key, [])]
        found = any(holds(variant, owner, seen) for variant in variants)
        for prop, sub in schema.get("properties", {}).items():
            where = f"{owner}.{prop}"
            extra = _resolve(schemas, sub).get("additionalProperties")
            items = _resolve(schemas, sub).get("items", {})
            free_form = extra is True or extra == {} or items.get("additionalProperties") not in (None, False)
            if IDENTIFIER_FIELD.search(prop) or where in FREE_FORM_WITH_IDENTIFIERS:
                found = True
            elif free_form and where not in FREE_FORM_WITHOUT_IDENTIFIERS:
                unclassified.add(where)
            found = holds(sub, owner, seen) or found
        if isinstance(schema.get("items"), dict):
            found = holds(schema["items"], owner, seen) or found
        return found

    routes = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for answer in operation.get("responses", {}).values():
                for content in answer.get("content", {}).values():
                    if "schema" in content and holds(content["schema"], "", frozenset()):
                        routes.add(f"{method.upper()} {path}")
    return routes, unclassified


def _resolve(schemas: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_route_answering_a_full_identifier_says_how_it_protects_it(app: FastAPI) -> None:
    routes, unclassified = _carriers(app.openapi())
    assert not unclassified, f"free-form response fields: say whether they can carry identifiers: {unclassified}"
    assert routes == set(ROUTES), (
        f"not listed: {sorted(routes - set(ROUTES))}; listed but carrying none: {sorted(set(ROUTES) - routes)}"
    )


def _identifiers(body: Any, key: str = "") -> list[str]:
    """Every identifier value in an answer: fields named like one, and the cells of a register's ID columns."""
    if isinstance(body, dict):
        return [value for name, item in body.items() for value in _identifiers(item, name)]
    if isinstance(body, list):
        return [value for item in body for value in _identifiers(item, key)]
    return [body] if isinstance(body, str) and IDENTIFIER_FIELD.search(key) else []


async def _read_audits(database: Database, county: County) -> int:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        statement = select(func.count()).where(
            AuditEvent.tenant_id == county.tenant.id,
            AuditEvent.action.in_(READ_AUDITS) | AuditEvent.action.like("register.%"),
        )
        return int(await session.scalar(statement) or 0)


async def assert_masks_or_audits(
    database: Database, county: County, client: httpx.AsyncClient, route: str, path: str, json: Any = None
) -> httpx.Response:
    """Call the route; fail when it answers a full identifier without an audit event of the read, or when the
    route is declared `masks` and answers one at all."""
    before = await _read_audits(database, county)
    method = route.split(" ", 1)[0]
    response = await client.request(method, path, json=json)
    assert response.status_code < 300, (route, response.text)
    values = _identifiers(response.json())
    assert values, f"{route}: the probe found no identifier to check"
    in_full = [value for value in values if FULL_RESIDENT_ID.match(value) or FULL_PHONE.match(value)]
    if ROUTES[route] == "masks":
        assert not in_full, f"{route} answers full identifiers: {in_full}"
    elif in_full:
        assert await _read_audits(database, county) > before, f"{route} showed {in_full} without an audit event"
    return response


@pytest.fixture
async def counties(database: Database) -> tuple[County, County]:
    a, b = await probe_county(database, "甲探测县"), await probe_county(database, "乙探测县")
    for county in (a, b):
        await add_user(database, county, "t1.coordinator", "v11", [(Role.village_coordinator, "v11")])
    return a, b


async def test_person_routes(counties: tuple[County, County], sign_in: SignIn, database: Database) -> None:
    county = counties[0]
    officer = await sign_in(county, "officer")
    body = {
        "name": "赵敏",
        "resident_id": make_id(sex="female"),
        "phone": "13912345678",
        "org_unit_code": county.units["v11"],
        "flow_direction": "inflow",
        "registration_division_code": "330106",
    }
    created = await assert_masks_or_audits(database, county, officer, "POST /api/v1/persons", "/api/v1/persons", body)
    person = created.json()
    await assert_masks_or_audits(database, county, officer, "GET /api/v1/persons", "/api/v1/persons")
    shown = await assert_masks_or_audits(
        database, county, officer, "GET /api/v1/persons/{person_id}", f"/api/v1/persons/{person['id']}"
    )
    await assert_masks_or_audits(
        database,
        county,
        officer,
        "PATCH /api/v1/persons/{person_id}",
        f"/api/v1/persons/{person['id']}",
        {"version": shown.json()["version"], "notes": "复核"},
    )


async def test_register_page(counties: tuple[County, County], sign_in: SignIn, database: Database) -> None:
    county = counties[0]
    officer = await sign_in(county, "officer")
    await officer.post(
        "/api/v1/persons",
        json={
            "name": "钱红",
            "resident_id": make_id(sex="female"),
            "org_unit_code": county.units["v11"],
            "flow_direction": "inflow",
            "flow_date": "2026-01-05",
            "registration_division_code": "330106",
        },
    )
    page = await assert_masks_or_audits(
        database, county, officer, "GET /api/v1/registers/{register}", "/api/v1/registers/inflow"
    )
    assert any(FULL_RESIDENT_ID.match(value) for value in _identifiers(page.json())), "an officer sees them in full"
    coordinator = await sign_in(county, "t1.coordinator")
    masked = await coordinator.get("/api/v1/registers/inflow")
    assert not any(FULL_RESIDENT_ID.match(value) for value in _identifiers(masked.json()))


async def test_verification_routes(counties: tuple[County, County], sign_in: SignIn, database: Database) -> None:
    a, b = counties
    wife = await add_person(database, a, "王芳", registration=b.units["v11"], resident_id=make_id(sex="female"))
    requester = await sign_in(a, "t1.officer")
    case = await open_first_child_case(requester, a, [wife])
    sent = await assert_masks_or_audits(
        database,
        a,
        requester,
        "POST /api/v1/verification/requests",
        "/api/v1/verification/requests",
        {"case_id": case["id"], "person_id": str(wife.id), "question": "请核实其婚育情况"},
    )
    request_id = sent.json()["id"]
    outbox = "/api/v1/verification/outbox"
    await assert_masks_or_audits(database, a, requester, f"GET {outbox}", outbox)
    await assert_masks_or_audits(
        database,
        a,
        requester,
        "GET /api/v1/verification/outbox/{request_id}",
        f"/api/v1/verification/outbox/{request_id}",
    )
    responder = await sign_in(b, "t1.officer")
    inbox = "/api/v1/verification/inbox"
    await assert_masks_or_audits(database, b, responder, f"GET {inbox}", inbox)
    item = await assert_masks_or_audits(
        database,
        b,
        responder,
        "GET /api/v1/verification/inbox/{request_id}",
        f"/api/v1/verification/inbox/{request_id}",
    )
    assert FULL_RESIDENT_ID.match(item.json()["subject_resident_id"]), "the one request is shown in full"
    await assert_masks_or_audits(
        database,
        b,
        responder,
        "POST /api/v1/verification/inbox/{request_id}/claim",
        f"/api/v1/verification/inbox/{request_id}/claim",
    )
    await assert_masks_or_audits(
        database,
        b,
        responder,
        "POST /api/v1/verification/inbox/{request_id}/answer",
        f"/api/v1/verification/inbox/{request_id}/answer",
        {"answer": "经核实，该妇女初婚，未生育。"},
    )
    await assert_masks_or_audits(
        database,
        b,
        responder,
        "POST /api/v1/verification/incoming",
        "/api/v1/verification/incoming",
        {
            "responder_unit_code": b.units["t1"],
            "requester_unit_name": "某省某县卫生健康局",
            "subject_name": "孙丽",
            "subject_resident_id": make_id(sex="female"),
            "question": "请核实其婚育情况",
            "channel": "phone",
            "arrived_at": "2026-11-02T10:00:00+08:00",
            "evidence": "通话记录第12页",
        },
    )


async def test_triage_routes(
    counties: tuple[County, County], sign_in: SignIn, database: Database, app: FastAPI
) -> None:
    county = counties[0]
    admin = await sign_in(county, "admin")
    created = (
        await admin.post(
            "/api/v1/admin/api-clients",
            json={"name": "公安", "department": "police", "scopes": ["intake:police", "intake:read_status"]},
        )
    ).json()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as police:
        token = await police.post(
            "/api/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": created["client_id"],
                "client_secret": created["client_secret"],
            },
        )
        police.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        for _ in range(2):
            accepted = await police.post("/api/v1/notifications", json=residence(county.code))
            assert accepted.status_code == 202, accepted.text
    await IntakeRouter(database, RouterSettings(batch_size=50)).drain()
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        case_ids = [str(row.case_id) for row in (await session.scalars(select(IntakeTriage))).all()]
    assert len(case_ids) == 2
    officer = await sign_in(county, "t1.officer")
    first, second = case_ids
    read = "GET /api/v1/intake/triages/{case_id}"
    shown = await assert_masks_or_audits(database, county, officer, read, f"/api/v1/intake/triages/{first}")
    assert FULL_RESIDENT_ID.match(shown.json()["payload"]["person"]["resident_id"])
    coordinator = await sign_in(county, "t1.coordinator")
    hidden = await coordinator.get(f"/api/v1/intake/triages/{first}")
    if hidden.status_code == 200:  # a coordinator of the village may read the case, not the identifiers
        assert not FULL_RESIDENT_ID.match(hidden.json()["payload"]["person"]["resident_id"])
    for action in ("verify", "accept"):
        route = f"POST /api/v1/intake/triages/{{case_id}}/{action}"
        await assert_masks_or_audits(database, county, officer, route, f"/api/v1/intake/triages/{first}/{action}")
    await assert_masks_or_audits(
        database,
        county,
        officer,
        "POST /api/v1/intake/triages/{case_id}/reject",
        f"/api/v1/intake/triages/{second}/reject",
        {"reason": "查无此人"},
    )
