"""Opening triage cases for routed department notifications (the router's side of backend/intake/service.py).

The router (backend/intake/routing.py) hands each county's notifications of a pass to `open_triage_cases`, in the
router's transaction scoped to the county: the registry matched for the whole group in one query, the case numbers
counted up in one statement, and the cases (with their subjects), the triage copies, the notifications' new
status, the outbox messages that start the workflows, the triage notices and the audit events (the chain head moved
once) each written together. The rows are those `cases.open_case` writes, with its checks (ADR 0013). When the
group fails, the router opens its notifications one by one (`open_triage_case`, a group of one).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal, ScopedRole
from backend.authz.vocabulary import Action, Role
from backend.calendar.service import load_calendar
from backend.case_types.definitions import CaseTypeDefinition
from backend.case_types.service import effective_case_type
from backend.cases.errors import InvalidCase
from backend.cases.plans import build_plan
from backend.cases.repository import CaseRepository
from backend.cases.schemas import Arrival
from backend.cases.service import due_on, snapshot
from backend.core import outbox
from backend.core.clock import china_day, utc_now
from backend.core.context import Actor
from backend.db.tenancy import set_tenant
from backend.intake.case_type import TRIAGE_CASE_TYPE
from backend.intake.submit import decrypt_payload
from backend.models import (
    Case,
    CasePriority,
    CaseStatus,
    CaseSubject,
    IntakeNotification,
    IntakeTriage,
    NotificationStatus,
    Person,
)
from backend.notifications import events as notification_events
from backend.notifications.service import notify_all
from backend.org.repository import OrgUnitRepository
from backend.persons.identifiers import resident_id_digest
from backend.persons.names import name_search_keys
from backend.persons.repository import PersonRepository
from backend.tenants.directory import DivisionRoute
from workflows.cases.types import DeadlinePlan

ROUTER_ID = "intake-router"
ROUTER_ACTOR = Actor(kind="system", id=ROUTER_ID, label="部门通报分拣 intake router")
SUBJECT_PARTS = {"person": "subject", "husband": "spouse", "wife": "spouse", "mother": "subject", "father": "spouse"}
# The persons a notification names, by role, in the order they become the case's subjects.
ROLE_KEYS = ("person", "husband", "wife", "mother", "father")

Routed = tuple[IntakeNotification, DivisionRoute]


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


@dataclass
class _Opened:
    notification: IntakeNotification
    route: DivisionRoute
    case: Case
    subjects: list[CaseSubject]
    matches: dict[str, str | None]


async def open_triage_case(session: AsyncSession, notification: IntakeNotification, route: DivisionRoute) -> None:
    """In the routed county: match the notification's persons by ID number, open its triage case, keep the
    county's copy of it, and mark the notification `case_opened` (the router's transaction, scoped to the
    county as well)."""
    await open_triage_cases(session, [(notification, route)])


async def open_triage_cases(session: AsyncSession, items: Sequence[Routed]) -> None:
    """`open_triage_case` for a county's notifications at once (see the module's description). Anything failing
    fails the whole group."""
    tenant_id = items[0][1].tenant_id
    assert tenant_id is not None and all(route.tenant_id == tenant_id for _, route in items)
    await set_tenant(session, tenant_id)
    definition = await effective_case_type(session, TRIAGE_CASE_TYPE)
    if not definition.enabled or definition.extra.get("opened_through") is not None:
        raise InvalidCase("case_type", "该案件类型已停用 / this case type is disabled")
    persons = await _registry_matches(session, items)
    numbers = await _case_numbers(session, items)
    units = await _units_in_reach(session, items)
    calendar = await load_calendar(session)
    due_by_day: dict[date, tuple[datetime | None, bool]] = {}
    opened: list[_Opened] = []
    for (notification, route), named, number in zip(items, persons, numbers, strict=True):
        day = china_day(notification.received_at)
        if day not in due_by_day:
            due_by_day[day] = due_on(calendar, definition, definition.stages[0], notification.received_at)
        opened.append(_triage_case(definition, notification, route, named, number, due_by_day[day], units))
    await _write(session, tenant_id, opened, lambda case: build_plan(case, definition, calendar))


async def _registry_matches(session: AsyncSession, items: Sequence[Routed]) -> list[dict[str, Person | None]]:
    """Per notification, the registered (unmerged) person each of its roles names by ID number, or None: one query
    for the group."""
    digests: list[dict[str, str]] = []
    for notification, _ in items:
        payload = decrypt_payload(notification.payload_encrypted)
        references = {role: payload[role] for role in ROLE_KEYS if isinstance(payload.get(role), dict)}
        digests.append({role: resident_id_digest(reference["resident_id"]) for role, reference in references.items()})
    found = await PersonRepository(session).by_resident_id_hashes(d for named in digests for d in named.values())
    return [{role: found.get(digest) for role, digest in named.items()} for named in digests]


async def _case_numbers(session: AsyncSession, items: Sequence[Routed]) -> list[str]:
    """The group's case numbers in its order: each year's counter (the year of arrival in China) moved once."""
    years = [china_day(notification.received_at).year for notification, _ in items]
    repository = CaseRepository(session)
    county_code = items[0][1].county_code
    numbers = {
        year: iter(await repository.next_numbers(county_code, year, years.count(year))) for year in sorted(set(years))
    }
    return [next(numbers[year]) for year in years]


def _unit_code(route: DivisionRoute) -> str:
    """The township the notification is for, or the county root when the township is not in the org tree."""
    code = route.township_code if route.township_unit_id is not None else route.county_code
    assert code is not None
    return code


async def _units_in_reach(session: AsyncSession, items: Sequence[Routed]) -> set[str]:
    """The units of the group that are active and in the router's reach (each looked up once)."""
    repository = OrgUnitRepository(session)
    usable: set[str] = set()
    for code, route in {_unit_code(route): route for _, route in items}.items():
        unit = await repository.get_by_code(code)
        if unit is not None and unit.active and router_principal(route).can(Action.case_write, unit.code):
            usable.add(code)
    return usable


def _triage_case(
    definition: CaseTypeDefinition,
    notification: IntakeNotification,
    route: DivisionRoute,
    persons: dict[str, Person | None],
    number: str,
    due: tuple[datetime | None, bool],
    units: set[str],
) -> _Opened:
    """The triage case (and its subjects) `cases.open_case` would open for the notification."""
    unit_code = _unit_code(route)
    if unit_code not in units:
        raise InvalidCase("org_unit_code", "组织机构不存在或超出您的范围 / unknown unit or outside your reach")
    matches = {role: str(person.id) if person is not None else None for role, person in persons.items()}
    named = [(role, person) for role, person in persons.items() if person is not None]
    primary = named[0][1] if named else None
    keys = name_search_keys(primary.name) if primary else None
    details = {
        "intake_notification_id": str(notification.id),
        "notification_type": notification.notification_type,
        "department": notification.department,
        "transaction_id": notification.transaction_id,
        "new_person_proposal": [role for role, person_id in matches.items() if person_id is None],
        "arrival": Arrival().model_dump(mode="json", exclude_none=True),
    }
    case = Case(
        id=uuid.uuid4(),
        tenant_id=route.tenant_id,
        number=number,
        case_type=definition.code,
        title=definition.label.split(" / ")[0] + (f"：{primary.name}" if primary else ""),
        org_unit_code=unit_code,
        stage=definition.stages[0],
        status=CaseStatus.open,
        priority=CasePriority.normal,
        primary_person_id=primary.id if primary else None,
        subject_name=primary.name if primary else "",
        subject_pinyin=keys.pinyin if keys else "",
        received_at=notification.received_at,
        stage_started_at=notification.received_at,
        due_at=due[0],
        due_provisional=due[1],
        overdue=False,
        details=details,
        created_by=router_principal(route).subject,
    )
    subjects = [
        CaseSubject(
            id=uuid.uuid4(), tenant_id=case.tenant_id, case_id=case.id, person_id=person.id, part=SUBJECT_PARTS[role]
        )
        for role, person in named
    ]
    return _Opened(notification, route, case, subjects, matches)


async def _write(
    session: AsyncSession, tenant_id: uuid.UUID, opened: list[_Opened], plan_of: Callable[[Case], DeadlinePlan]
) -> None:
    """The group's rows, each kind written together; the audit events last, so nothing fails after them. Each
    workflow starts with its case's first plan (`plan_of`), as `cases.open_case` does."""
    now = utc_now()
    session.add_all([item.case for item in opened])
    session.add_all([subject for item in opened for subject in item.subjects])
    session.add_all(
        [
            IntakeTriage(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                notification_id=item.notification.id,
                case_id=item.case.id,
                notification_type=item.notification.notification_type,
                department=item.notification.department,
                payload_encrypted=item.notification.payload_encrypted,
                matches=item.matches,
                created_at=now,
            )
            for item in opened
        ]
    )
    for item in opened:
        notification = item.notification
        notification.status = NotificationStatus.case_opened.value
        notification.routed_tenant_id = tenant_id
        notification.township_code = item.route.township_code if item.route.township_unit_id is not None else None
        notification.routed_at = now
        notification.case_id, notification.case_number = item.case.id, item.case.number
    await session.flush()
    starts: list[outbox.OutboxPayload] = [
        outbox.StartCase(
            tenant_id=tenant_id,
            tenant_code=item.route.county_code,
            case_id=item.case.id,
            case_number=item.case.number,
            plan=plan_of(item.case).model_dump(mode="json"),
        )
        for item in opened
    ]
    await outbox.enqueue_all(session, starts)
    await notify_all(session, [notification_events.triage(item.case) for item in opened])
    await audit.record_all(
        session,
        [
            audit.Entry(
                action="case.open",
                entity_type=CaseRepository.entity_type,
                entity_id=item.case.id,
                org_unit_code=item.case.org_unit_code,
                correlation_id=item.case.number,
                changes=audit.diff(None, snapshot(item.case)),
            )
            for item in opened
        ],
    )
