"""Department notifications in the county (triage): routed into a triage case, then verified, accepted into the
registry or rejected by the county's officer (核实, 采纳, 退回).

The router (backend/intake/routing.py) opens the triage cases (backend/intake/opening.py) for notifications whose
county is on this instance; everything here is the officer's side, in the county's own transaction and audit chain. The
submit side is backend/intake/submit.py, the status callbacks backend/intake/webhooks.py.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases import service as cases
from backend.cases.errors import CaseNotFound
from backend.cases.schemas import CaseActionRequest, CaseCreate, CaseSubjectIn
from backend.core.clock import utc_now
from backend.db.tenancy import current_tenant_id
from backend.intake.errors import TriageNotFound, TriageStateError
from backend.intake.repository import NotificationRepository, TriageRepository
from backend.intake.schemas import NotificationType
from backend.intake.submit import decrypt_payload
from backend.intake.webhooks import enqueue_status_event
from backend.models import (
    Case,
    CaseOutcome,
    IntakeTriage,
    MaritalStatus,
    NotificationStatus,
    Person,
    PersonChild,
    PersonStatus,
)
from backend.persons.repository import PersonRepository
from backend.persons.resident_id import mask_resident_id
from backend.persons.schemas import PersonDepart
from backend.persons.service import depart_person
from workflows.cases.types import CaseAction

IDENTIFIERS_VIEWED = "intake.view_identifiers"
# The persons a notification names, by role (backend/intake/schemas.py `subjects()`).
PERSON_KEYS = ("person", "mother", "father", "husband", "wife")


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
