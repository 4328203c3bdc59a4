"""The intake router: after commit, each `received` notification is routed to its county and township,
matched against the registry by ID number, and gets a triage case — or goes to the holding queue when its
county is not on this instance.

Exactly once: the router claims notifications with FOR UPDATE SKIP LOCKED in the platform context, and in
the same transaction (scoped to the county as well) opens the case, writes the county's triage copy and
moves the notification to `case_opened`. A crash before commit undoes all of it and the notification is
claimed again; a crash after commit leaves nothing to do. `intake_triages.notification_id` is unique as a
second guard. A notification that fails (e.g. the county's unit is gone) is retried with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal, ScopedRole
from backend.authz.vocabulary import Role
from backend.cases.schemas import CaseCreate, CaseSubjectIn
from backend.cases.service import open_case
from backend.core.clock import utc_now
from backend.core.context import Actor, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context, set_tenant
from backend.intake.case_type import TRIAGE_CASE_TYPE
from backend.intake.repository import NotificationRepository, WebhookRepository
from backend.intake.service import decrypt_payload, enqueue_status_event
from backend.models import IntakeNotification, IntakeTriage, NotificationStatus
from backend.persons.repository import PersonRepository
from backend.persons.service import resident_id_digest
from backend.tenants.directory import DivisionRoute, route_division

log = logging.getLogger(__name__)

ROUTER_ID = "intake-router"
ROUTER_ACTOR = Actor(kind="system", id=ROUTER_ID, label="部门通报分拣 intake router")
SUBJECT_PARTS = {"person": "subject", "husband": "spouse", "wife": "spouse", "mother": "subject", "father": "spouse"}
ROLE_KEYS = {"person": "person", "husband": "husband", "wife": "wife", "mother": "mother", "father": "father"}


@dataclass
class RouterSettings:
    batch_size: int = 50
    idle_poll_seconds: float = 0.5
    base_backoff_seconds: float = 2.0
    max_backoff_seconds: float = 600.0


def router_principal(route: DivisionRoute) -> Principal:
    """Opens triage cases anywhere in the routed county, nothing else (like the follow-up planner)."""
    return Principal(
        kind="api_client",
        id=ROUTER_ID,
        label=ROUTER_ACTOR.label,
        tenant_id=route.tenant_id,
        tenant_code=route.county_code,
        org_unit_code=route.county_code,
        roles=(ScopedRole(Role.county_officer, route.county_code),),
    )


async def _open_triage(session: AsyncSession, notification: IntakeNotification, route: DivisionRoute) -> None:
    assert route.tenant_id is not None
    await set_tenant(session, route.tenant_id)
    payload = decrypt_payload(notification.payload_encrypted)
    persons = PersonRepository(session)
    matches: dict[str, str | None] = {}
    subjects: list[CaseSubjectIn] = []
    for role in ROLE_KEYS:
        reference = payload.get(role)
        if not isinstance(reference, dict):
            continue
        person = await persons.by_resident_id_hash(resident_id_digest(reference["resident_id"]))
        matches[role] = str(person.id) if person is not None else None
        if person is not None:
            subjects.append(CaseSubjectIn(person_id=person.id, part=SUBJECT_PARTS[role]))
    unit_code = route.township_code if route.township_unit_id is not None else route.county_code
    assert unit_code is not None
    case = await open_case(
        session,
        router_principal(route),
        CaseCreate(
            case_type=TRIAGE_CASE_TYPE,
            org_unit_code=unit_code,
            subjects=subjects,
            received_at=notification.received_at,
            details={
                "intake_notification_id": str(notification.id),
                "notification_type": notification.notification_type,
                "department": notification.department,
                "transaction_id": notification.transaction_id,
                "new_person_proposal": [role for role, person_id in matches.items() if person_id is None],
            },
        ),
    )
    session.add(
        IntakeTriage(
            id=uuid.uuid4(),
            tenant_id=route.tenant_id,
            notification_id=notification.id,
            case_id=case.id,
            notification_type=notification.notification_type,
            department=notification.department,
            payload_encrypted=notification.payload_encrypted,
            matches=matches,
            created_at=utc_now(),
        )
    )
    now = utc_now()
    notification.status = NotificationStatus.case_opened.value
    notification.routed_tenant_id = route.tenant_id
    notification.township_code = route.township_code if route.township_unit_id is not None else None
    notification.routed_at = now
    notification.case_id, notification.case_number = case.id, case.number
    await session.flush()


class IntakeRouter:
    def __init__(self, database: Database, settings: RouterSettings | None = None) -> None:
        self.database = database
        self.settings = settings or RouterSettings()

    def _backoff(self, attempts: int) -> timedelta:
        seconds = min(self.settings.base_backoff_seconds * 2 ** (attempts - 1), self.settings.max_backoff_seconds)
        return timedelta(seconds=seconds)

    async def route_batch(self) -> int:
        """Route up to batch_size due notifications in one transaction; returns how many were claimed."""
        actor_var.set(ROUTER_ACTOR)
        async with self.database.sessionmaker() as session, session.begin():
            await set_platform_context(session)
            claimed = await NotificationRepository(session).claim_pending(utc_now(), self.settings.batch_size)
            routes: dict[str, DivisionRoute] = {}
            webhooks = WebhookRepository(session)
            subscribed: dict[str, bool] = {}
            for notification in claimed:
                route = routes.get(notification.division_code)
                if route is None:
                    route = routes[notification.division_code] = await route_division(
                        self.database, notification.division_code
                    )
                try:
                    async with session.begin_nested():
                        if route.on_platform:
                            await _open_triage(session, notification, route)
                        else:
                            notification.status = NotificationStatus.held.value
                            await session.flush()
                except Exception as error:
                    log.warning(
                        "intake notification not routed; will retry",
                        extra={"notification_id": str(notification.id), "error": repr(error)},
                    )
                    await session.refresh(notification)
                    notification.route_attempts += 1
                    notification.route_error = f"{type(error).__name__}: {error}"[:2000]
                    notification.available_at = utc_now() + self._backoff(notification.route_attempts)
                    await session.flush()
                    continue
                if notification.client_id not in subscribed:
                    subscribed[notification.client_id] = await webhooks.subscription(notification.client_id) is not None
                if subscribed[notification.client_id]:
                    enqueue_status_event(session, notification, origin_tenant_id=None)
            await session.flush()
            return len(claimed)

    async def drain(self) -> int:
        """Route everything due now; returns how many notifications were claimed."""
        total = 0
        while (claimed := await self.route_batch()) > 0:
            total += claimed
        return total

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                claimed = await self.route_batch()
            except Exception:
                log.exception("intake routing pass failed")
                claimed = 0
            if claimed == 0:
                try:
                    await asyncio.wait_for(stop.wait(), self.settings.idle_poll_seconds)
                except TimeoutError:
                    pass
