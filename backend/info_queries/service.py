"""The population-information query ledger (人口信息查询, seeds-spec P19): 审核、告知、登记、查询.

- **Recording** (审核、告知、登记): a purpose from the norm's list, refused otherwise with the list named; the documents
  the purpose needs, each missing one named; the requester's signature on the application form after being told the
  duties; the person asked about within the caller's reach (a count needs only a name). Nothing is recorded when
  refused at the door.
- **Answering** (查询): only the fields the norm allows for the purpose (backend/info_queries/rules.py); relatives are
  told nothing without the subject's consent. Or refusing with a written reason.
- **The ledger** (登记表): in date order, kept two years (`retain_until`); after that a supervisor approves its
  destruction: the personal content is erased, the number, dates, purpose and outcome stay.

Functions take (session, principal, ...), audit every write, flush and never commit.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_day, china_today, utc_now
from backend.core.errors import StaleVersion
from backend.info_queries import rules
from backend.info_queries.errors import ApplicationScanMissing, InvalidInfoQuery, QueryClosed
from backend.info_queries.repository import InfoQueryRepository
from backend.info_queries.schemas import InfoQueryCreate, InfoQueryRead, InfoQueryRefuse, VersionBody
from backend.models import InfoQuery, Person
from backend.org.repository import OrgUnitRepository
from backend.persons.identifiers import phone_of, resident_id_of
from backend.persons.repository import PersonRepository

ENTITY_TYPE = InfoQueryRepository.entity_type
PURPOSE_REFUSED = "查询事由须为规定的事由之一（{zh}）/ the purpose must be one the norm allows ({en})"


def entry_read(query: InfoQuery) -> InfoQueryRead:
    read = InfoQueryRead.model_validate(query)
    purpose = rules.PURPOSES.get(query.purpose)
    read.purpose_label = purpose.label if purpose else query.purpose
    return read


async def _record(session: AsyncSession, query: InfoQuery, action: str, changes: dict[str, Any]) -> None:
    await audit.record_about(session, ENTITY_TYPE, query, action, changes, correlation_id=query.number)


def _check_request(body: InfoQueryCreate) -> rules.Purpose:
    purpose = rules.PURPOSES.get(body.purpose)
    if purpose is None:
        zh = "、".join(item.label.split(" / ")[0] for item in rules.PURPOSES.values())
        raise InvalidInfoQuery("purpose", PURPOSE_REFUSED.format(zh=zh, en=", ".join(rules.PURPOSES)))
    missing = rules.missing_documents(body.purpose, list(body.documents_seen))
    if missing:
        names = "、".join(rules.DOCUMENTS[code].split(" / ")[0] for code in missing)
        raise InvalidInfoQuery("documents_seen", f"缺少证明材料：{names} / missing documents: {', '.join(missing)}")
    if not body.application_signed:
        raise InvalidInfoQuery(
            "application_signed",
            "须告知注意事项并由查询人签署《人口信息查询申请表》/ the requester signs the application after being told",
        )
    return purpose


async def record_query(session: AsyncSession, principal: Principal, body: InfoQueryCreate) -> InfoQueryRead:
    """审核、告知、登记: a query the norm allows, with its documents and the signed application, in the ledger."""
    purpose = _check_request(body)
    unit = await OrgUnitRepository(session).get_by_code(body.org_unit_code)
    if unit is None or not principal.can(Action.person_read_identifiers, unit.code):
        raise InvalidInfoQuery("org_unit_code", "组织机构不存在或超出您的范围 / unknown unit or outside your reach")
    subject: Person | None = None
    if purpose.fields != rules.STATISTICS:
        if body.subject_person_id is None:
            raise InvalidInfoQuery("subject_person_id", "请选择被查询人 / choose the person asked about")
        subject = await PersonRepository(session).get(body.subject_person_id)
        if subject is None or not principal.can(Action.person_read, subject.org_unit_code):
            raise InvalidInfoQuery("subject_person_id", "人员不存在或无权查看 / no such person in your reach")
    elif not body.subject_name:
        raise InvalidInfoQuery("subject_name", "请填写查询的姓名 / give the name asked about")
    requested_at = body.requested_at or utc_now()
    if requested_at.tzinfo is None or requested_at > utc_now():
        raise InvalidInfoQuery("requested_at", "须为带时区的过去时间 / a past time with a time zone")
    start = china_day(requested_at)
    repository = InfoQueryRepository(session)
    query_id = uuid.uuid4()
    query = InfoQuery(
        id=query_id,
        tenant_id=repository.tenant_id,
        number=f"CX-{start.year}-{query_id.hex[:10].upper()}",
        org_unit_code=unit.code,
        requested_at=requested_at,
        state="pending",
        purpose=body.purpose,
        requester_name=body.requester_name,
        requester_unit=body.requester_unit,
        documents_seen=list(body.documents_seen),
        application_signed=True,
        subject_person_id=subject.id if subject else None,
        subject_name=subject.name if subject else body.subject_name,
        subject_sex=subject.sex.value if subject else None,
        subject_consent=body.subject_consent,
        retain_until=date(start.year + rules.RETENTION_YEARS, start.month, min(start.day, 28)),
        created_by=principal.subject,
    )
    repository.add(query)
    await repository.flush()
    await _record(session, query, "info_query.record", audit.diff(None, {"purpose": body.purpose, "state": "pending"}))
    return entry_read(query)


async def get_query(session: AsyncSession, principal: Principal, query_id: uuid.UUID, action: Action) -> InfoQuery:
    return await InfoQueryRepository(session).get_in_reach(principal, action, query_id)


def _open(query: InfoQuery, version: int) -> None:
    if query.version != version:
        raise StaleVersion(current={"version": query.version})
    if query.state != "pending":
        raise QueryClosed("该查询已办结 / the query is already answered, refused or destroyed")


async def _answer(session: AsyncSession, query: InfoQuery, purpose: rules.Purpose) -> dict[str, Any]:
    """Only the fields the norm allows for the purpose."""
    if purpose.fields == rules.STATISTICS:
        return {"count": await InfoQueryRepository(session).same_name_count(query.subject_name or "")}
    assert query.subject_person_id is not None  # record_query required the person
    persons = PersonRepository(session)
    person = await persons.get(query.subject_person_id)
    if person is None:
        raise QueryClosed("被查询人已不在登记中 / the person is no longer registered")
    known: dict[str, Any] = {
        "name": person.name,
        "sex": person.sex.value,
        "age": china_today().year - person.birth_date.year if person.birth_date else None,
        "ethnicity": person.ethnicity,
        "registration_address": person.registration_address or person.registration_division_code,
        "residence_address": person.residence_address or person.residence_division_code,
    }
    if "resident_id" in purpose.fields:
        known["resident_id"] = resident_id_of(person)
    if "phone" in purpose.fields:
        known["phone"] = phone_of(person)
    if "family" in purpose.fields:
        spouse = await persons.get(person.spouse_id) if person.spouse_id else None
        children = await persons.children_of(person.id)
        known["family"] = {
            "spouse": spouse.name if spouse else None,
            "children": [{"sex": child.sex.value, "birth_year": child.birth_date.year} for child in children],
        }
    return {name: known[name] for name in purpose.fields}


async def answer_query(
    session: AsyncSession, principal: Principal, query_id: uuid.UUID, body: VersionBody
) -> InfoQueryRead:
    """查询: the answer, limited to the purpose's fields; relatives only with the subject's consent; only once the
    scan of the signed application form is uploaded (a document of the entry, through the documents module)."""
    query = await get_query(session, principal, query_id, Action.person_read_identifiers)
    _open(query, body.version)
    if not await InfoQueryRepository(session).application_scans(query.id):
        raise ApplicationScanMissing()
    purpose = rules.PURPOSES[query.purpose]
    if purpose.needs_consent and not query.subject_consent:
        raise QueryClosed(
            "查找亲友须先征得被查询人同意 / looking for relatives needs the consent of the person asked about"
        )
    query.answer = await _answer(session, query, purpose)
    query.state, query.handled_by, query.handled_at = "answered", principal.subject, utc_now()
    await InfoQueryRepository(session).flush()
    # The audit event names the fields told, never their values.
    await _record(session, query, "info_query.answer", {"fields": sorted(query.answer), "state": "answered"})
    return entry_read(query)


async def refuse_query(
    session: AsyncSession, principal: Principal, query_id: uuid.UUID, body: InfoQueryRefuse
) -> InfoQueryRead:
    """Refuse with a written reason (不予查询并说明理由)."""
    query = await get_query(session, principal, query_id, Action.person_read_identifiers)
    _open(query, body.version)
    query.state, query.refusal_reason = "refused", body.reason
    query.handled_by, query.handled_at = principal.subject, utc_now()
    await InfoQueryRepository(session).flush()
    await _record(session, query, "info_query.refuse", {"state": ["pending", "refused"], "reason": body.reason})
    return entry_read(query)


async def destroy_entry(
    session: AsyncSession, principal: Principal, query_id: uuid.UUID, body: VersionBody
) -> InfoQueryRead:
    """After its two years, a supervisor approves the destruction of an entry: its personal content is erased."""
    query = await get_query(session, principal, query_id, Action.case_assign)
    if query.version != body.version:
        raise StaleVersion(current={"version": query.version})
    if query.state == "destroyed":
        raise QueryClosed("该登记已销毁 / the entry is already destroyed")
    if query.retain_until > china_today():
        raise QueryClosed(
            f"查询登记保存2年，{query.retain_until}前不能销毁 / the ledger is kept two years: not before "
            f"{query.retain_until}"
        )
    before = query.state
    query.state, query.destroyed_at, query.destroy_approved_by = "destroyed", utc_now(), principal.subject
    query.requester_name = query.requester_unit = query.subject_name = query.subject_sex = None
    query.subject_person_id, query.answer, query.refusal_reason = None, None, None
    await InfoQueryRepository(session).flush()
    await _record(session, query, "info_query.destroy", {"state": [before, "destroyed"]})
    return entry_read(query)


async def ledger(
    session: AsyncSession, principal: Principal, *, offset: int, limit: int
) -> tuple[list[InfoQueryRead], int]:
    rows, total = await InfoQueryRepository(session).ledger(
        principal.scopes_for(Action.person_read_identifiers), offset=offset, limit=limit
    )
    return [entry_read(row) for row in rows], total
