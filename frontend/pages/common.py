"""What the page handlers share: people's names, the units a form may choose, working-day countdowns, and the
page number and count of a list. (Forms themselves go through frontend/forms.py.)"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.calendar.service import load_calendar
from backend.case_types.service import effective_case_types
from backend.core.clock import china_day, utc_now
from backend.identity.repository import IdentityRepository
from backend.models import User
from backend.org import service as org


async def users_by_id(session: AsyncSession, principal: Principal, action: Action) -> dict[uuid.UUID, User]:
    """The users of the subtrees where the caller holds `action`, to show names instead of ids."""
    users = await IdentityRepository(session).users_in_subtrees(principal.scopes_for(action))
    return {user.id: user for user in users}


async def unit_options(session: AsyncSession, principal: Principal, action: Action) -> list[tuple[str, str]]:
    """The active units where the caller holds `action`, in code order, as a select's (code, "name（code）")."""
    units = await org.list_units_in_scopes(session, principal.scopes_for(action))
    return [(unit.code, f"{unit.name}（{unit.code}）") for unit in units if unit.active]


async def unit_names(session: AsyncSession) -> dict[str, str]:
    """Every unit of the county by code (inactive ones too: old records keep their units), to show names."""
    return {unit.code: unit.name for unit in await org.list_units_in_scopes(session, [""], active_only=False)}


async def case_type_labels(session: AsyncSession) -> dict[str, str]:
    """The county's label of every case type ("中文 / English", or the county's own), to name a case's type."""
    return {code: definition.label for code, definition in (await effective_case_types(session)).items()}


async def working_days_left(session: AsyncSession, due_at: datetime | None) -> int | None:
    """Working days from today to the due day on the county's calendar; negative once the due day has passed."""
    if due_at is None:
        return None
    calendar = await load_calendar(session)
    return int(calendar.working_days_between(china_day(utc_now()), china_day(due_at)))


MAX_PAGE = 100_000  # beyond any real list; keeps OFFSET inside PostgreSQL's bigint for a hand-edited URL


def page_number(raw: str | None) -> int:
    """The `page` query parameter of a list page: 1 for anything that is not a page number."""
    return min(int(raw), MAX_PAGE) if raw is not None and raw.isdigit() and int(raw) > 0 else 1


def page_count(total: int, size: int) -> int:
    """How many pages `total` rows fill at `size` a page; an empty list still has its one page."""
    return max(1, (total + size - 1) // size)
