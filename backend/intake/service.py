"""Department notifications in the county (triage): routed into a triage case, then verified, accepted into the
registry or rejected by the county's officer (核实, 采纳, 退回).

The router (backend/intake/routing.py) calls `open_triage_case` for a notification whose county is on this
instance; everything else here is the officer's side, in the county's own transaction and audit chain. The
submit side is backend/intake/submit.py, the status callbacks backend/intake/webhooks.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal, ScopedRole
from backend.authz.vocabulary import Action, Role
from backend.case_types.service import effective_case_type
from backend.cases import service as cases
from backend.cases.errors import CaseNotFound, InvalidCase
from backend.cases.repository import CaseRepository
from backend.cases.schemas import Arrival, CaseActionRequest, CaseCreate, CaseSubjectIn
from backend.cases.service import compute_due_at
from backend.core import outbox
from backend.core.clock import china_day, utc_now
from backend.core.context import Actor
from backend.db.tenancy import current_tenant_id, set_tenant
from backend.intake.case_type import TRIAGE_CASE_TYPE
from backend.intake.errors import TriageNotFound, TriageStateError
from backend.intake.repository import NotificationRepository, TriageRepository
from backend.intake.schemas import NotificationType
from backend.intake.submit import decrypt_payload
from backend.intake.webhooks import enqueue_status_event
from backend.models import (
    Case,
    CaseOutcome,
    CasePriority,
    CaseStatus,
    CaseSubject,
    IntakeNotification,
    IntakeTriage,
    MaritalStatus,
    NotificationStatus,
    Person,
    PersonChild,
    PersonStatus,
)
from backend.notifications import events as notification_events
from backend.notifications.service import notify_all
from backend.org.repository import OrgUnitRepository
from backend.persons.identifiers import resident_id_digest
from backend.persons.names import name_search_keys
from backend.persons.repository import PersonRepository
from backend.persons.resident_id import mask_resident_id
from backend.persons.schemas import PersonDepart
from backend.persons.service import depart_person
from backend.tenants.directory import DivisionRoute
from workflows.cases.types import CaseAction

ROUTER_ID = "intake-router"
ROUTER_ACTOR = Actor(kind="system", id=ROUTER_ID, label="部门通报分拣 intake router")
SUBJECT_PARTS = {"person": "subject", "husband": "spouse", "wife": "spouse", "mother": "subject", "father": "spouse"}
ROLE_KEYS = {"person": "person", "husband": "husband", "wife": "wife", "mother": "mother", "father": "father"}

IDENTIFIERS_VIEWED = "intake.view_identifiers"
# The persons a notification names, by role (backend/intake/schemas.py `subjects()`).
PERSON_KEYS = ("person", "mother", "father", "husband", "wife")


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


async def open_triage_case(session: AsyncSession, notification: IntakeNotification, route: DivisionRoute) -> None:
    """In the routed county: match the notification's persons by ID number, open its triage case, keep the
    county's copy of it, and mark the notification `case_opened` (the router's transaction, scoped to the
    county as well). The router's one-by-one path: `open_triage_cases` for one notification."""
    await open_triage_cases(session, [(notification, route)])


async def open_triage_cases(session: AsyncSession, items: Sequence[tuple[IntakeNotification, DivisionRoute]]) -> None:
    """`open_triage_case` for a county's group of notifications at once, with the same checks and the same rows: the
    registry matched for the whole group in one query, the case numbers counted up in one statement, and the cases
    (with their subjects), the triage copies, the outbox messages that start the workflows and the audit events
    (the chain head moved once) each written together. Anything failing fails the whole group (the router then
    routes its notifications one by one)."""
    tenant_id = items[0][1].tenant_id
    assert tenant_id is not None and all(route.tenant_id == tenant_id for _, route in items)
    await set_tenant(session, tenant_id)
    definition = await effective_case_type(session, TRIAGE_CASE_TYPE)
    if not definition.enabled or definition.extra.get("opened_through") is not None:
        raise InvalidCase("case_type", "该案件类型已停用 / this case type is disabled")
    payloads = [decrypt_payload(notification.payload_encrypted) for notification, _ in items]
    references = [
        {
            role: resident_id_digest(reference["resident_id"])
            for role in ROLE_KEYS
            if isinstance(reference := payload.get(role), dict)
        }
        for payload in payloads
    ]
    found = await PersonRepository(session).by_resident_id_hashes(d for digests in references for d in digests.values())
    units = OrgUnitRepository(session)
    unit_ok: dict[str, bool] = {}
    stage = definition.stages[0]
    due_by_day: dict[date, tuple[datetime | None, bool]] = {}
    arrival = Arrival().model_dump(mode="json", exclude_none=True)
    year_counts: dict[int, int] = {}
    for notification, _ in items:
        year = china_day(notification.received_at).year
        year_counts[year] = year_counts.get(year, 0) + 1
    county_code = items[0][1].county_code
    repository = CaseRepository(session)
    numbers = {
        year: iter(await repository.next_numbers(county_code, year, n)) for year, n in sorted(year_counts.items())
    }
    opened: list[tuple[IntakeNotification, DivisionRoute, Case, dict[str, str | None]]] = []
    subjects: list[CaseSubject] = []
    for (notification, route), digests in zip(items, references, strict=True):
        principal = router_principal(route)
        unit_code = route.township_code if route.township_unit_id is not None else route.county_code
        assert unit_code is not None
        if unit_code not in unit_ok:
            unit = await units.get_by_code(unit_code)
            unit_ok[unit_code] = unit is not None and unit.active and principal.can(Action.case_write, unit.code)
        if not unit_ok[unit_code]:
            raise InvalidCase("org_unit_code", "组织机构不存在或超出您的范围 / unknown unit or outside your reach")
        persons = {role: found.get(digest) for role, digest in digests.items()}
        matches = {role: str(person.id) if person is not None else None for role, person in persons.items()}
        named = [(role, person) for role, person in persons.items() if person is not None]
        primary = named[0][1] if named else None
        keys = name_search_keys(primary.name) if primary else None
        received_at = notification.received_at
        day = china_day(received_at)
        if day not in due_by_day:
            due_by_day[day] = await compute_due_at(session, definition, stage, received_at)
        due_at, provisional = due_by_day[day]
        details = {
            "intake_notification_id": str(notification.id),
            "notification_type": notification.notification_type,
            "department": notification.department,
            "transaction_id": notification.transaction_id,
            "new_person_proposal": [role for role, person_id in matches.items() if person_id is None],
        }
        case = Case(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            number=next(numbers[day.year]),
            case_type=definition.code,
            title=definition.label.split(" / ")[0] + (f"：{primary.name}" if primary else ""),
            org_unit_code=unit_code,
            stage=stage,
            status=CaseStatus.open,
            priority=CasePriority.normal,
            primary_person_id=primary.id if primary else None,
            subject_name=primary.name if primary else "",
            subject_pinyin=keys.pinyin if keys else "",
            received_at=received_at,
            stage_started_at=received_at,
            due_at=due_at,
            due_provisional=provisional,
            overdue=False,
            details={**details, "arrival": arrival},
            created_by=principal.subject,
        )
        subjects += [
            CaseSubject(
                id=uuid.uuid4(), tenant_id=tenant_id, case_id=case.id, person_id=person.id, part=SUBJECT_PARTS[role]
            )
            for role, person in named
        ]
        opened.append((notification, route, case, matches))
    session.add_all([case for _, _, case, _ in opened])
    session.add_all(subjects)
    now = utc_now()
    session.add_all(
        [
            IntakeTriage(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                notification_id=notification.id,
                case_id=case.id,
                notification_type=notification.notification_type,
                department=notification.department,
                payload_encrypted=notification.payload_encrypted,
                matches=matches,
                created_at=now,
            )
            for notification, _, case, matches in opened
        ]
    )
    for notification, route, case, _ in opened:
        notification.status = NotificationStatus.case_opened.value
        notification.routed_tenant_id = tenant_id
        notification.township_code = route.township_code if route.township_unit_id is not None else None
        notification.routed_at = now
        notification.case_id, notification.case_number = case.id, case.number
    await session.flush()
    starts: list[outbox.OutboxPayload] = [
        outbox.StartCase(tenant_id=tenant_id, tenant_code=county_code, case_id=case.id, case_number=case.number)
        for _, _, case, _ in opened
    ]
    await outbox.enqueue_all(session, starts)
    await notify_all(session, [notification_events.triage(case) for _, _, case, _ in opened])
    await audit.record_all(
        session,
        [
            audit.Entry(
                action="case.open",
                entity_type=CaseRepository.entity_type,
                entity_id=case.id,
                org_unit_code=case.org_unit_code,
                correlation_id=case.number,
                changes=audit.diff(None, cases.snapshot(case)),
            )
            for _, _, case, _ in opened
        ],
    )


# --- officer triage --------------------------------------------------------------------------------------


async def _triage(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, action: Action
) -> tuple[Case, IntakeTriage]:
    try:
        case = await cases.get_case(session, principal, case_id, action)
    except CaseNotFound:  # the same answer as for a case that is not a triage case
        raise TriageNotFound() from None
    triage = await TriageRepository(session).by_case(case.id)
    if triage is None:
        raise TriageNotFound()
    return case, triage


def masked_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The notification with its persons' ID numbers masked (`110101********4518`)."""
    masked = dict(payload)
    for key in PERSON_KEYS:
        person = payload.get(key)
        if isinstance(person, dict) and isinstance(person.get("resident_id"), str):
            masked[key] = {**person, "resident_id": mask_resident_id(person["resident_id"])}
    return masked


async def payload_shown(
    session: AsyncSession, principal: Principal, case: Case, triage: IntakeTriage
) -> dict[str, Any]:
    """The notification as the department sent it, for someone to read: the persons' ID numbers in full for a
    holder of person.read_identifiers on the case's unit, the read audited (`intake.view_identifiers`, without
    the numbers); masked for anyone else."""
    payload = decrypt_payload(triage.payload_encrypted)
    shown = [key for key in PERSON_KEYS if isinstance(payload.get(key), dict) and payload[key].get("resident_id")]
    if not principal.can(Action.person_read_identifiers, case.org_unit_code):
        return masked_payload(payload)
    if shown:
        await audit.record(
            session,
            action=IDENTIFIERS_VIEWED,
            entity_type="intake_triage",
            entity_id=triage.id,
            org_unit_code=case.org_unit_code,
            correlation_id=case.number,
            changes={"fields": [f"{key}.resident_id" for key in shown]},
        )
    return payload


async def read_triage(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> tuple[IntakeTriage, dict[str, Any]]:
    """A triage case's notification as `payload_shown` gives it."""
    case, triage = await _triage(session, principal, case_id, Action.case_read)
    return triage, await payload_shown(session, principal, case, triage)


async def verify(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> IntakeTriage:
    """The officer checked the notification against the registry and the person (核实)."""
    case, triage = await _triage(session, principal, case_id, Action.case_write)
    if triage.decision is not None:
        raise TriageStateError("已处理 / already decided")
    if triage.verified_at is None:
        triage.verified_at, triage.verified_by = utc_now(), principal.subject
        await session.flush()
        await audit.record(
            session,
            action="intake.verify",
            entity_type="intake_triage",
            entity_id=triage.id,
            org_unit_code=case.org_unit_code,
            correlation_id=case.number,
            changes={"verified_at": [None, triage.verified_at.isoformat()]},
        )
    return triage


async def _decide(
    session: AsyncSession,
    principal: Principal,
    case: Case,
    triage: IntakeTriage,
    decision: NotificationStatus,
    reason: str | None,
) -> None:
    notification = await NotificationRepository(session).get_routed_here(triage.notification_id)
    if notification is None:  # the policy and the county filter both hide it: should never happen
        raise TriageNotFound()
    now = utc_now()
    triage.decision, triage.decision_reason = decision.value, reason
    triage.decided_at, triage.decided_by = now, principal.subject
    notification.status, notification.decided_at = decision.value, now
    notification.rejection_reason = reason if decision == NotificationStatus.rejected else None
    enqueue_status_event(session, notification, origin_tenant_id=current_tenant_id(session))
    await session.flush()
    await audit.record(
        session,
        action=f"intake.{'accept' if decision == NotificationStatus.verified else 'reject'}",
        entity_type="intake_triage",
        entity_id=triage.id,
        org_unit_code=case.org_unit_code,
        correlation_id=case.number,
        reason=reason,
        changes={"decision": [None, decision.value]},
    )
    outcome = CaseOutcome.registered if decision == NotificationStatus.verified else CaseOutcome.refused
    await cases.request_action(
        session,
        principal,
        case,
        CaseActionRequest(version=case.version, action=CaseAction.close, outcome=outcome, reason=reason),
    )


async def reject(session: AsyncSession, principal: Principal, case_id: uuid.UUID, reason: str) -> IntakeTriage:
    """Reject with a reason the department reads through the status endpoint and its callback."""
    case, triage = await _triage(session, principal, case_id, Action.case_write)
    if triage.decision is not None:
        raise TriageStateError("已处理 / already decided")
    await _decide(session, principal, case, triage, NotificationStatus.rejected, reason)
    return triage


async def accept(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> tuple[IntakeTriage, list[Case]]:
    """Accept a verified notification: update the registry for the matched persons and open follow-ups."""
    case, triage = await _triage(session, principal, case_id, Action.case_write)
    if triage.decision is not None:
        raise TriageStateError("已处理 / already decided")
    if triage.verified_at is None:
        raise TriageStateError("须先核实 / verify the notification first")
    payload = decrypt_payload(triage.payload_encrypted)
    persons = PersonRepository(session)
    matched: dict[str, Person] = {}
    for role, person_id in triage.matches.items():
        if person_id and (person := await persons.get(uuid.UUID(person_id))) is not None:
            matched[role] = person
    follow_ups = await _apply_to_registry(
        session, principal, case, NotificationType(triage.notification_type), payload, matched
    )
    await _decide(session, principal, case, triage, NotificationStatus.verified, None)
    return triage, follow_ups


async def _update_person(session: AsyncSession, person: Person, changes: dict[str, Any], case: Case) -> None:
    before = {name: getattr(person, name) for name in changes}
    for name, value in changes.items():
        setattr(person, name, value)
    await session.flush()
    await _audit_person(session, person, case, "person.update", audit.diff(before, changes))


async def _audit_person(
    session: AsyncSession, person: Person, case: Case, action: str, changes: dict[str, Any] | None
) -> None:
    """A change of a person's record made by accepting the triage case's notification."""
    await audit.record(
        session,
        action=action,
        entity_type="person",
        entity_id=person.id,
        org_unit_code=person.org_unit_code,
        correlation_id=case.number,
        reason="部门通报核实 / verified department notification",
        changes=changes,
    )


async def _apply_to_registry(
    session: AsyncSession,
    principal: Principal,
    case: Case,
    notification_type: NotificationType,
    payload: dict[str, Any],
    matched: dict[str, Person],
) -> list[Case]:
    """What an accepted notification changes: residence (arrivals), departure (a cancelled residence),
    marital status and spouse, children; and the follow-up case it calls for (a certificate inspection for
    a new arrival, an inflow registration for a person not yet in the registry)."""
    follow_ups: list[Case] = []

    async def open_follow_up(case_type: str, person: Person | None) -> None:
        subjects = [CaseSubjectIn(person_id=person.id)] if person is not None else []
        follow_ups.append(
            await cases.open_case(
                session,
                principal,
                CaseCreate(
                    case_type=case_type,
                    org_unit_code=case.org_unit_code,
                    subjects=subjects,
                    details={"source_case": case.number, "intake_notification": payload["transaction_id"]},
                ),
            )
        )

    arrivals = (
        NotificationType.residence_registered,
        NotificationType.residence_permit_issued,
        NotificationType.household_moved,
    )
    if notification_type in arrivals:
        person = matched.get("person")
        division = payload.get("residence_division_code") or payload.get("to_division_code")
        if person is not None:
            await _update_person(
                session, person, {"residence_division_code": division, "residence_address": payload["address"]}, case
            )
            await open_follow_up("certificate_inspection", person)
        else:
            await open_follow_up("inflow_registration", None)
    elif notification_type == NotificationType.residence_cancelled:
        person = matched.get("person")
        if person is not None and person.status == PersonStatus.active:
            reason = payload.get("reason") or "暂住登记注销"
            departed_on = date.fromisoformat(payload["cancelled_on"])
            await depart_person(
                session,
                principal,
                person,
                PersonDepart(departed_on=departed_on, reason=f"{payload['issuing_office']}通报：{reason}"[:200]),
            )
    elif notification_type in (NotificationType.marriage_registered, NotificationType.divorce_registered):
        status = (
            MaritalStatus.first_marriage
            if notification_type == NotificationType.marriage_registered
            else MaritalStatus.divorced
        )
        husband, wife = matched.get("husband"), matched.get("wife")
        for person, spouse in ((husband, wife), (wife, husband)):
            if person is not None:
                spouse_id = spouse.id if spouse is not None and status == MaritalStatus.first_marriage else None
                await _update_person(session, person, {"marital_status": status, "spouse_id": spouse_id}, case)
    elif notification_type == NotificationType.birth_reported:
        mother = matched.get("mother")
        if mother is not None:
            order = len(await PersonRepository(session).children_of(mother.id))
            session.add(
                PersonChild(
                    id=uuid.uuid4(),
                    tenant_id=mother.tenant_id,
                    person_id=mother.id,
                    birth_order=int(order) + 1,
                    birth_date=date.fromisoformat(payload["birth_date"]),
                    sex=payload["child_sex"],
                    name=payload.get("child_name"),
                )
            )
            child = {"birth_order": int(order) + 1, "birth_date": payload["birth_date"]}
            await _audit_person(session, mother, case, "person.child_add", {"children": [None, child]})
        else:
            await open_follow_up("inflow_registration", None)
    return follow_ups
