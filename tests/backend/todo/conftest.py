"""Two counties with officers and supervisors in two townships each (the notification tests' counties), the relay,
and rows of each to-do kind written as their domains write them (a triage case with its department notification's
copy, a follow-up case of the sweep, a reward case waiting for its review)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import Case, CaseSignoff, CaseStage, CaseStatus, IntakeTriage
from tests.backend.notifications.conftest import counties, people, relay
from tests.fixtures.identity import County

__all__ = ["counties", "people", "relay"]


async def add_case(
    database: Database,
    county: County,
    case_type: str,
    *,
    unit: str = "t1",
    due_in: timedelta = timedelta(days=5),
    assignee: str | None = None,
    stage: CaseStage = CaseStage.verification,
    title: str = "待办事项",
    escalation_level: int = 0,
) -> Case:
    """A case as its domain opens it (the follow-up sweep, the intake router, the rewards procedure)."""
    now = datetime.now(UTC)
    case = Case(
        id=uuid.uuid4(),
        tenant_id=county.tenant.id,
        number=f"T{uuid.uuid4().hex[:10].upper()}",
        case_type=case_type,
        title=title,
        org_unit_code=county.units.get(unit, unit),
        stage=stage,
        status=CaseStatus.open,
        assignee_id=county.users[assignee].id if assignee else None,
        received_at=now - timedelta(days=1),
        due_at=now + due_in,
        overdue=due_in < timedelta(0),
        escalation_level=escalation_level,
        created_by="test",
    )
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(case)
    return case


async def add_triage(database: Database, county: County, unit: str = "t1", **values: object) -> Case:
    """A department notification routed to the township, awaiting triage."""
    case = await add_case(database, county, "department_notification", unit=unit, **values)  # type: ignore[arg-type]
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            IntakeTriage(
                id=uuid.uuid4(),
                tenant_id=county.tenant.id,
                notification_id=uuid.uuid4(),
                case_id=case.id,
                notification_type="residence_registered",
                department="police",
                payload_encrypted=b"-",
                matches={},
                created_at=datetime.now(UTC),
            )
        )
    return case


async def sign(database: Database, county: County, case: Case, step: str, signer: str, stage: str) -> None:
    """A signature on the case's chain."""
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        session.add(
            CaseSignoff(
                id=uuid.uuid4(),
                tenant_id=county.tenant.id,
                case_id=case.id,
                step=step,
                stage=stage,
                role=step,
                signer_id=county.users[signer].id,
                signer_label=signer,
                signed_at=datetime.now(UTC),
                attestation="-",
                request_id=uuid.uuid4().hex,
            )
        )


async def send_request(client: httpx.AsyncClient, unit: str, target: str) -> dict[str, Any]:
    """A case opened at `unit` by the signed-in officer, and a verification request of it to township `target`."""
    case = await client.post("/api/v1/cases", json={"case_type": "complaint", "org_unit_code": unit})
    assert case.status_code == 201, case.text
    body = {"case_id": case.json()["id"], "subject_name": "甲", "responder_division_code": target, "question": "请核实"}
    response = await client.post("/api/v1/verification/requests", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def todo(client: httpx.AsyncClient, kind: str | None = None) -> dict[str, Any]:
    """The signed-in user's to-do list (of one kind)."""
    response = await client.get("/api/v1/me/todo", params={"kind": kind} if kind else None)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def references(client: httpx.AsyncClient, kind: str | None = None) -> list[str]:
    return [item["reference"] for item in (await todo(client, kind))["items"]]
