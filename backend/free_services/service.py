"""Free technical services (免费技术服务项目, spec P09): the items, each service delivered, and the free-service rate.

Rules this module keeps:
- The six national items (backend/free_services/items.py) are always there and cannot be changed; a county adds its
  own (config.manage), with a code no national item uses, and may switch them off (never deletes them: services
  recorded under them keep their name).
- A service is recorded for an active person in the caller's reach (service.write on her unit), under an active
  item, by a named provider, not in the future, with who bears the cost (现居住地县级财政 by default: 「已婚育龄
  流动人口的计划生育技术服务费用纳入现居住地财政预算」) and, when known, the amount for the provincial settlement.
- 免费服务落实率 of a unit: of the married women of reproductive age living there now (the county's age band), the
  share who received at least one free service in the period.

Functions flush, never commit; every write is audited.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.core.divisions import LEVEL_NAMES
from backend.core.errors import FieldError, NotFound, StaleVersion
from backend.core.pagination import PageParams
from backend.followups.config import rules_or_defaults
from backend.followups.rules import birth_date_bounds
from backend.free_services.errors import FreeServiceItemNotFound, FreeServiceRejected, ItemCodeTaken, problem
from backend.free_services.items import NATIONAL_ITEMS
from backend.free_services.repository import ItemRepository, ServiceRepository
from backend.free_services.schemas import (
    FreeServiceItemRead,
    FreeServiceRate,
    ItemCreate,
    ItemUpdate,
    ServiceCreate,
    ServiceRead,
)
from backend.models import FreeService, FreeServiceItem, Person, PersonStatus
from backend.org.repository import OrgUnitRepository
from backend.org.rollup import UnitRollup
from backend.persons.repository import PersonRepository

ITEM_ENTITY = ItemRepository.entity_type
SERVICE_ENTITY = ServiceRepository.entity_type


def _item_read(item: FreeServiceItem) -> FreeServiceItemRead:
    return FreeServiceItemRead(
        code=item.code, name=item.name, national=False, note=item.note, active=item.active, version=item.version
    )


async def list_items(session: AsyncSession, *, active_only: bool = False) -> list[FreeServiceItemRead]:
    """The national items, then the county's own (all, or the active ones)."""
    national = [FreeServiceItemRead(code=code, name=name, national=True) for code, name in NATIONAL_ITEMS.items()]
    own = [_item_read(item) for item in await ItemRepository(session).listed() if item.active or not active_only]
    return national + own


async def add_item(session: AsyncSession, principal: Principal, body: ItemCreate) -> FreeServiceItemRead:
    """A county item beside the national ones."""
    repository = ItemRepository(session)
    if body.code in NATIONAL_ITEMS or await repository.by_code(body.code) is not None:
        raise ItemCodeTaken()
    item = FreeServiceItem(id=uuid.uuid4(), tenant_id=repository.tenant_id, **body.model_dump(), active=True)
    repository.add(item)
    await repository.flush_unique("uq_free_service_items_tenant_id_code", ItemCodeTaken)
    await audit.record(
        session,
        action="free_services.item_add",
        entity_type=ITEM_ENTITY,
        entity_id=item.code,
        org_unit_code=principal.tenant_code,
        changes=audit.diff(None, body.model_dump()),
    )
    return _item_read(item)


async def update_item(session: AsyncSession, principal: Principal, code: str, body: ItemUpdate) -> FreeServiceItemRead:
    """Rename or switch a county item on or off (optimistic lock on `version`); national items cannot change."""
    item = await ItemRepository(session).by_code(code, for_update=True)
    if item is None:
        raise FreeServiceItemNotFound()
    if body.version != item.version:
        raise StaleVersion(current=_item_read(item).model_dump(mode="json"))
    before = {"name": item.name, "note": item.note, "active": item.active}
    for name, value in body.model_dump(exclude_unset=True, exclude={"version"}).items():
        setattr(item, name, value)
    await session.flush()
    changes = audit.diff(before, {"name": item.name, "note": item.note, "active": item.active})
    if changes:
        await audit.record(
            session,
            action="free_services.item_update",
            entity_type=ITEM_ENTITY,
            entity_id=item.code,
            org_unit_code=principal.tenant_code,
            changes=changes,
        )
    return _item_read(item)


async def _person(session: AsyncSession, principal: Principal, body: ServiceCreate) -> Person | FieldError:
    person, field = await PersonRepository(session).by_reference(body.person_id, body.resident_id)
    if field is None:
        return problem("resident_id", "请填写服务对象的身份证号码", "give the person's ID number")
    if person is None or not principal.can(Action.service_write, person.org_unit_code):
        return problem(field, "服务对象不存在或不在您的范围内", "no such person in your reach")
    if person.status is not PersonStatus.active:
        return problem(field, "服务对象已注销或已合并", "the person's record is no longer active")
    return person


async def record_service(session: AsyncSession, principal: Principal, body: ServiceCreate) -> ServiceRead:
    """A free service delivered, audited."""
    found = await _person(session, principal, body)
    problems = [found] if isinstance(found, FieldError) else []
    if body.item_code not in NATIONAL_ITEMS:
        item = await ItemRepository(session).by_code(body.item_code)
        if item is None or not item.active:
            problems.append(problem("item_code", "不是本县的免费服务项目", "not a free service item of this county"))
    if body.served_on > china_today():
        problems.append(problem("served_on", "服务日期不能晚于今天", "the service date is in the future"))
    if problems or not isinstance(found, Person):
        raise FreeServiceRejected(problems)
    repository = ServiceRepository(session)
    service = FreeService(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        person_id=found.id,
        org_unit_code=found.org_unit_code,
        **body.model_dump(exclude={"person_id", "resident_id"}),
        recorded_by_id=principal.id,
        recorded_by_label=principal.label[:100],
    )
    repository.add(service)
    await repository.flush()
    recorded = body.model_dump(mode="json", exclude={"resident_id", "notes"}) | {"person_id": str(found.id)}
    await audit.record_about(session, SERVICE_ENTITY, service, "free_services.record", audit.diff(None, recorded))
    return ServiceRead.model_validate(service).model_copy(update={"person_name": found.name})


async def list_services(
    session: AsyncSession,
    principal: Principal,
    paging: PageParams,
    org_unit: str | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
) -> tuple[list[ServiceRead], int]:
    """A page of the services in the caller's reach, newest first."""
    repository = ServiceRepository(session)
    statement = repository.search(principal.scopes_for(Action.service_read), org_unit, period_from, period_to)
    total = await repository.count(statement.order_by(None))
    rows = await repository.rows(statement, offset=paging.offset, limit=paging.size)
    return [
        ServiceRead.model_validate(service).model_copy(update={"person_name": name}) for service, name in rows
    ], total


async def free_service_rates(
    session: AsyncSession,
    principal: Principal,
    period_from: date | None,
    period_to: date | None,
    org_unit: str | None = None,
) -> list[FreeServiceRate]:
    """免费服务落实率 of each village in reach, and of each township and the county the caller reads whole."""
    units = await OrgUnitRepository(session).all_by_code()
    if org_unit is not None and (org_unit not in units or not principal.can(Action.service_read, org_unit)):
        raise NotFound()
    rules = await rules_or_defaults(session)
    bounds = birth_date_bounds(period_to or china_today(), rules.min_age, rules.max_age)
    roots = principal.scopes_for(Action.service_read)
    repository = ServiceRepository(session)
    eligible_by_unit = await repository.eligible_counts(roots, *bounds, org_unit)
    served_by_unit = await repository.served_counts(roots, *bounds, org_unit, period_from, period_to)
    eligible: Counter[str] = Counter()
    served: Counter[str] = Counter()
    rollup = UnitRollup(principal, Action.service_read, org_unit)
    for unit, count in eligible_by_unit.items():
        for code in rollup.units_of(unit):
            eligible[code] += count
            served[code] += served_by_unit.get(unit, 0)
    return [
        FreeServiceRate(
            org_unit_code=code,
            org_unit_name=units[code].name if code in units else code,
            level=LEVEL_NAMES[len(code)],
            eligible=eligible[code],
            served=served[code],
            rate=round(served[code] / eligible[code], 4) if eligible[code] else None,
        )
        for code in sorted(eligible)
    ]
