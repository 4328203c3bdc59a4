"""Monthly random re-check lists (倒查、随机抽查, seeds-spec P25):
「对辖区的房屋采集信息进行分组倒查，随机抽查，对采集的信息进行倒查，及时对在采集中的错误信息进行更证」.

- A township (entry.confirm over the village) draws a village's list of a month once: a random sample of the
  village's registry entries registered, changed, corrected or departed that month (by the audit log; entries not
  yet confirmed are left out), of the county's size (`recheck_share_percent` of them, at least `recheck_minimum`,
  all when fewer).
- The draw is reproducible: the list keeps the seed and the entries it was drawn from in id order, and the sample is
  `random.Random(seed).sample(population, sample_size)`; every read says whether drawing again gives the same
  sample (`draw_reproduces`), which is what an auditor checks.
- Each sampled entry gets one finding: correct, corrected (the corrections are applied through the registry's own
  service, audited as `person.correct` with the list's month), or could not be verified; each finding is audited
  (`recheck.finding`), as is the draw (`recheck.draw`). The counts per list feed the accuracy rate (准确率).
Flushes, never commits.
"""

from __future__ import annotations

import math
import random
import secrets
import uuid
from collections import Counter
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.service import authorize_unit
from backend.authz.vocabulary import Action
from backend.core.clock import china_today, start_of_day, utc_now
from backend.core.errors import StaleVersion
from backend.county_settings.schemas import CountySettings
from backend.county_settings.service import county_settings
from backend.data_review.errors import FutureMonth, NotAVillage, RecheckDrawn, RecheckItemDone, RecheckNotFound
from backend.data_review.repository import RecheckRepository
from backend.data_review.schemas import RecheckDraw, RecheckFindingCreate, RecheckItemRead, RecheckListRead
from backend.models import RecheckFinding, RecheckItem, RecheckList
from backend.org.errors import OrgUnitNotFound
from backend.org.service import get_unit
from backend.persons import service as persons

VILLAGE_CODE_LENGTH = 12


def list_size(population: int, settings: CountySettings) -> int:
    """How many entries a list samples: the county's share of the population, at least its minimum, at most all."""
    wanted = max(settings.recheck_minimum, math.ceil(population * settings.recheck_share_percent / 100))
    return min(population, wanted)


def sample_of(seed: str, population: list[str], size: int) -> list[str]:
    """The draw: reproducible from the seed and the population (in id order) alone."""
    return random.Random(seed).sample(population, size)


def _first_day(month: str) -> date:
    year, number = (int(part) for part in month.split("-"))
    return date(year, number, 1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


async def draw_list(session: AsyncSession, principal: Principal, body: RecheckDraw) -> RecheckListRead:
    """Draw the village's list of the month (once: 409 after), audited with its seed."""
    village = body.org_unit_code
    if len(village) != VILLAGE_CODE_LENGTH:
        raise NotAVillage()
    await authorize_unit(
        session,
        principal,
        Action.entry_confirm,
        village,
        entity_type="org_unit",
        entity_id=village,
        not_found=OrgUnitNotFound(),
    )
    await get_unit(session, village)
    month = _first_day(body.month)
    if month > china_today().replace(day=1):
        raise FutureMonth()
    repository = RecheckRepository(session)
    if await repository.of_month(village, month) is not None:
        raise RecheckDrawn()
    population = await repository.changed_entries(village, start_of_day(month), start_of_day(_next_month(month)))
    size = list_size(len(population), await county_settings(session))
    seed = secrets.token_hex(16)
    now = utc_now()
    recheck = RecheckList(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        org_unit_code=village,
        month=month,
        seed=seed,
        population=population,
        sample_size=size,
        drawn_by=principal.subject,
        drawn_by_label=principal.label[:100],
        created_at=now,
    )
    repository.add(recheck)
    await repository.flush_unique("uq_recheck_lists_tenant_id_org_unit_code_month", RecheckDrawn)
    for person_id in sample_of(seed, population, size):
        repository.add(
            RecheckItem(
                tenant_id=repository.tenant_id,
                list_id=recheck.id,
                person_id=uuid.UUID(person_id),
                org_unit_code=village,
                corrected_fields=[],
                created_at=now,
            )
        )
    await repository.flush()
    await audit.record_about(
        session,
        RecheckRepository.entity_type,
        recheck,
        "recheck.draw",
        {
            "month": [None, body.month],
            "seed": [None, seed],
            "population": [None, len(population)],
            "sample_size": [None, size],
        },
    )
    return (await _reads(session, [recheck]))[0]


async def _reads(session: AsyncSession, rechecks: list[RecheckList]) -> list[RecheckListRead]:
    items: dict[uuid.UUID, list[RecheckItemRead]] = {recheck.id: [] for recheck in rechecks}
    for item, name in await RecheckRepository(session).items_of(items):
        items[item.list_id].append(_item_read(item, name))
    reads = []
    for recheck in rechecks:
        found = Counter(item.finding for item in items[recheck.id] if item.finding is not None)
        drawn = sorted(str(item.person_id) for item in items[recheck.id])
        reads.append(
            RecheckListRead(
                id=recheck.id,
                org_unit_code=recheck.org_unit_code,
                month=f"{recheck.month:%Y-%m}",
                seed=recheck.seed,
                population=recheck.population,
                sample_size=recheck.sample_size,
                draw_reproduces=sorted(sample_of(recheck.seed, recheck.population, recheck.sample_size)) == drawn,
                drawn_by_label=recheck.drawn_by_label,
                created_at=recheck.created_at,
                items=items[recheck.id],
                checked=sum(found.values()),
                correct=found[RecheckFinding.correct],
                corrected=found[RecheckFinding.corrected],
                unverifiable=found[RecheckFinding.unverifiable],
            )
        )
    return reads


def _item_read(item: RecheckItem, name: str) -> RecheckItemRead:
    return RecheckItemRead(
        id=item.id,
        person_id=item.person_id,
        person_name=name,
        finding=item.finding,
        corrected_fields=item.corrected_fields,
        note=item.note,
        checked_by_label=item.checked_by_label,
        checked_at=item.checked_at,
        version=item.version,
    )


async def list_rechecks(
    session: AsyncSession, principal: Principal, month: str | None, *, offset: int, limit: int
) -> tuple[list[RecheckListRead], int]:
    """One page of the lists in the subtrees where the principal reads persons (optionally of one month)."""
    rechecks, total = await RecheckRepository(session).listed(
        principal.scopes_for(Action.person_read),
        _first_day(month) if month else None,
        offset=offset,
        limit=limit,
    )
    return await _reads(session, rechecks), total


async def get_recheck(session: AsyncSession, principal: Principal, list_id: uuid.UUID) -> RecheckListRead:
    """One list in the caller's reach (404 otherwise)."""
    recheck = await RecheckRepository(session).get_in_reach(principal, Action.person_read, list_id)
    return (await _reads(session, [recheck]))[0]


async def record_finding(
    session: AsyncSession, principal: Principal, list_id: uuid.UUID, item_id: uuid.UUID, body: RecheckFindingCreate
) -> RecheckListRead:
    """Record what the re-check found of one entry (once); a correction is applied to the record through the
    registry's service and audited there as `person.correct`."""
    repository = RecheckRepository(session)
    recheck = await repository.get_in_reach(principal, Action.entry_confirm, list_id, visible_with=Action.person_read)
    item = await repository.item(list_id, item_id)
    if item is None:
        raise RecheckNotFound()
    if item.finding is not None:
        raise RecheckItemDone()
    if item.version != body.version:
        raise StaleVersion(current={"version": item.version})
    if body.finding == RecheckFinding.corrected and body.corrections is not None:
        person = await persons.person_in_reach(session, principal, item.person_id, Action.person_write)
        await persons.update_person(
            session,
            principal,
            person,
            body.corrections,
            action="person.correct",
            reason=f"抽查更正 / re-check correction ({recheck.month:%Y-%m})",
        )
        item.corrected_fields = sorted(body.corrections.model_dump(exclude_unset=True, exclude={"version"}))
    item.finding = body.finding
    item.note = body.note
    item.checked_by = principal.subject
    item.checked_by_label = principal.label[:100]
    item.checked_at = item.updated_at = utc_now()
    await repository.flush()
    await audit.record_about(
        session,
        "recheck_item",
        item,
        "recheck.finding",
        {"finding": [None, body.finding.value], "corrected_fields": [None, item.corrected_fields]},
        reason=body.note,
    )
    return (await _reads(session, [recheck]))[0]
