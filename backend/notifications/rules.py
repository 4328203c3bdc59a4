"""Who is told of an event: one rule per kind, evaluated in the county whose people are to act.

- case assigned: the assignee;
- verification request arrived (inbox item): the assignee if the request already has one, else the officers of the
  receiving township, else (no officer there) its supervisors;
- answer received: the requesting case's assignee, else the officers of the requesting unit;
- reminder and overdue: the assignee, else the officers of the case's unit;
- escalation: rung 2 the supervisors of the case's township, rung 3 (or a case at county level) the county's
  supervisors;
- department notification awaiting triage: the officers of the unit the notification was routed to;
- case entrusted (委托, P21): the officers and the supervisors of the receiving township, who may accept it.
- certificate inspection due (the follow-up sweep opened its case): the officers of the person's township;
- agreement expiring (the sweep opened its renewal case): the officers of the agreement's (its person's) unit;
- import finished: the user who started it (told of her own action: she is the one to read its report);
- report published: the supervisors whose grant lies in the report's unit (its township's for a township report,
  every township's and the county's for the county's).

"Officers of a unit" are the users holding an officer role granted on the unit's township (the county's officers
for a unit at county level); a sibling township's officers and other counties' users are never named. The one who
caused the event is not told about her own action.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from backend.authz.vocabulary import Role
from backend.core.divisions import county_of, township_of
from backend.notifications.schemas import NotificationEvent, NotificationKind


class NotificationRepository(Protocol):
    """What the rules ask of the county's users and cases (backend/notifications/repository.py answers): the rules
    stay domain vocabulary, with no session of their own."""

    async def holders(self, roles: Sequence[str], unit_codes: Sequence[str]) -> list[uuid.UUID]: ...

    async def active_user(self, user_id: uuid.UUID) -> bool: ...

    async def case_assignee(self, case_id: uuid.UUID) -> uuid.UUID | None: ...

    async def holders_under(self, roles: Sequence[str], root: str) -> list[uuid.UUID]: ...


ASSIGNEE_FIRST = frozenset(
    {
        NotificationKind.inbox_item,
        NotificationKind.answer_received,
        NotificationKind.reminder,
        NotificationKind.overdue,
    }
)

NAMED = frozenset({NotificationKind.case_assigned, NotificationKind.import_finished})
SUPERVISORS = (Role.township_supervisor.value, Role.county_supervisor.value)


async def _officers(repository: NotificationRepository, unit_code: str) -> list[uuid.UUID]:
    """The officers of the unit's township, or its supervisors when it has none; at county level the county's."""
    township = township_of(unit_code)
    if township is not None:
        officers = await repository.holders([Role.township_officer.value], [township])
        return officers or await repository.holders([Role.township_supervisor.value], [township])
    county = county_of(unit_code)
    officers = await repository.holders([Role.county_officer.value], [county])
    return officers or await repository.holders([Role.county_supervisor.value], [county])


async def _supervisors(repository: NotificationRepository, unit_code: str, level: int) -> list[uuid.UUID]:
    township = township_of(unit_code)
    if level == 2 and township is not None:
        return await repository.holders([Role.township_supervisor.value], [township])
    return await repository.holders([Role.county_supervisor.value], [county_of(unit_code)])


async def recipients(repository: NotificationRepository, event: NotificationEvent) -> list[uuid.UUID]:
    """The users of the transaction's county to tell of `event`, by its kind's rule."""
    if event.case_id is not None and event.assignee_id is None:
        event = event.model_copy(update={"assignee_id": await repository.case_assignee(event.case_id)})
    if event.kind in NAMED:
        named = [event.assignee_id] if event.assignee_id is not None else []
    elif event.kind is NotificationKind.entrustment_received:
        roles = [Role.township_officer.value, Role.township_supervisor.value]
        named = await repository.holders(roles, [event.unit_code])
    elif event.kind is NotificationKind.report_published:
        named = await repository.holders_under(SUPERVISORS, event.unit_code)
    elif event.kind is NotificationKind.escalation:
        named = await _supervisors(repository, event.unit_code, event.level)
    elif event.kind in ASSIGNEE_FIRST and event.assignee_id is not None:
        named = [event.assignee_id]
    else:  # an unassigned item, and triage
        named = await _officers(repository, event.unit_code)
    return [user_id for user_id in named if user_id != event.actor_id and await repository.active_user(user_id)]
