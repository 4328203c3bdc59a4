"""The certificate register (婚育证明登记): issue, record on arrival, inspect, renew, revoke; the computed view.

Rules (spec P03, quoting 《流动人口计划生育服务管理规范》 篇一):
- 「婚育证明有效期为三年，不得以任何理由缩短期限。」: `valid_until` is computed, never chosen. A client may send
  it as a check; anything but the computed date is refused, a shorter one with that quotation.
- Three years on means the same day of the month three years later; when that day does not exist (29 February
  in a non-leap year) the period ends on the last day of that month, as the Civil Code counts periods in years
  (民法典第二百零二条「没有对应日的，月末日为期间的最后一日」): 2024-02-29 → 2027-02-28. `valid_until` is the
  last day the certificate is valid; it is expired from the next day, in China time (UTC+8).
- 「已落实绝育措施且婚育情况未发生变化的，婚育证明长期有效。」: `permanent` only when the person's recorded
  contraception measure is sterilisation; a permanent certificate has no end date.
- 「经核实婚育情况清楚的，可由家人为其代办。」: a proxy issue names the family member.
- 「有效期满的，凭原婚育证明和本人居民身份证免费换领新证。」: renewal is a new record pointing at the old one,
  allowed from 90 days before expiry; the old one becomes `renewed`. Issue and renewal are free: there is
  no fee anywhere in this module.
- 「婚育证明首次查验后，每年至少查验一次。」: an inspection is due when a certificate in force, held by someone
  living in this county (not an outflow person, whom the residence place inspects), has no inspection in
  the last 365 days, or none at all (the first inspection on arrival).
- A person holds at most one certificate in force: a second one is refused (renew or revoke the first).
- The record is kept by the holder's unit at the time (`org_unit_code`): registers and object checks use it.

Services flush, never commit; every write is audited in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.audit.repository import AuditRepository
from backend.authz.principal import Principal
from backend.authz.service import audit_break_glass_listing
from backend.authz.vocabulary import Action
from backend.certificates.errors import (
    CertificateNotFound,
    CertificateRejected,
    CertificateStateConflict,
    NumberTaken,
    PersonNotFound,
    problem,
)
from backend.certificates.repository import (
    INSPECTION_INTERVAL_DAYS,
    CertificateFilters,
    CertificateRepository,
    CertificateRow,
)
from backend.certificates.schemas import CertificateIssue, CertificateRenew, CertificateRevoke, InspectionCreate
from backend.core.clock import china_today
from backend.core.divisions import county_of
from backend.core.errors import FieldError, StaleVersion
from backend.core.pagination import PageParams
from backend.models import (
    Certificate,
    CertificateInspection,
    CertificateStatus,
    ContraceptionMeasure,
    InspectionResult,
    Person,
    PersonStatus,
)
from backend.org.repository import OrgUnitRepository
from backend.persons.divisions import is_known_division
from backend.persons.repository import PersonRepository

VALIDITY_YEARS = 3
RENEWAL_WINDOW_DAYS = 90
# The certificate was introduced by the national measures of 1991; an earlier date is a typing error.
EARLIEST_ISSUE_DATE = date(1991, 1, 1)
TOWNSHIP_CODE_LENGTH = 9

ISSUE_ACTION = "certificate.issue"
INSPECT_ACTION = "certificate.inspect"
RENEW_ACTION = "certificate.renew"
REVOKE_ACTION = "certificate.revoke"
ENTITY_TYPE = "certificate"

_TRACKED = (
    "person_id",
    "number",
    "issue_date",
    "issuing_unit_code",
    "issuing_unit_name",
    "permanent",
    "valid_until",
    "status",
    "issued_by_proxy",
    "proxy_name",
    "renews_id",
    "org_unit_code",
)
_ENDED = frozenset({CertificateStatus.renewed, CertificateStatus.revoked})


def valid_until_for(issue_date: date) -> date:
    """The last valid day: the same day three years on, or the month's last day if it has no such day."""
    try:
        return issue_date.replace(year=issue_date.year + VALIDITY_YEARS)
    except ValueError:  # 29 February, three years on, is never in a leap year
        return issue_date.replace(year=issue_date.year + VALIDITY_YEARS, day=28)


def effective_status(certificate: Certificate, today: date) -> CertificateStatus:
    """The stored status, except that a valid certificate past its end date reads as expired."""
    if (
        certificate.status is CertificateStatus.valid
        and not certificate.permanent
        and certificate.valid_until is not None
        and certificate.valid_until < today
    ):
        return CertificateStatus.expired
    return certificate.status


@dataclass(frozen=True, slots=True)
class CertificateView:
    """A certificate as read: the row plus what is computed from today's date and its inspections."""

    certificate: Certificate
    status: CertificateStatus
    expires_in_days: int | None
    inspection_due: bool
    last_inspected_on: date | None
    next_inspection_on: date | None
    renewed_by_id: uuid.UUID | None
    issued_elsewhere: bool
    inspections: list[CertificateInspection] = field(default_factory=list)
    revocation_reason: str | None = None


def view_of(row: CertificateRow, today: date) -> CertificateView:
    """Compute the read view of one register row as of `today` (China time)."""
    certificate = row.certificate
    status = effective_status(certificate, today)
    in_force = status is CertificateStatus.valid
    expires_in_days = (
        (certificate.valid_until - today).days
        if certificate.valid_until is not None and status not in _ENDED and not certificate.permanent
        else None
    )
    inspected_here = in_force and row.resides_here
    last = row.last_inspected_on
    return CertificateView(
        certificate=certificate,
        status=status,
        expires_in_days=expires_in_days,
        inspection_due=inspected_here and (last is None or (today - last).days >= INSPECTION_INTERVAL_DAYS),
        last_inspected_on=last,
        next_inspection_on=last + timedelta(days=INSPECTION_INTERVAL_DAYS) if inspected_here and last else None,
        renewed_by_id=row.renewed_by_id,
        # The record's unit is in this county, so its first six digits are the county's code.
        issued_elsewhere=not certificate.issuing_unit_code.startswith(county_of(certificate.org_unit_code)),
    )


def snapshot(certificate: Certificate) -> dict[str, Any]:
    """The audited fields, plus the version (JSON-safe: also sent back with a stale-version answer)."""
    values = {name: getattr(certificate, name) for name in _TRACKED} | {"version": certificate.version}
    return dict(to_jsonable_python(values))


# --- lookups -----------------------------------------------------------------------------------------------


async def _locked_person_in_reach(session: AsyncSession, principal: Principal, person_id: uuid.UUID) -> Person:
    """The holder, writable by the caller, locked until commit: two officers cannot give her two certificates in
    force at once. Authorized before locking, so a caller never holds a lock on a row outside her reach."""
    persons = PersonRepository(session)
    await persons.get_in_reach(principal, Action.person_write, person_id)
    person = await persons.get(person_id, for_update=True)
    if person is None:  # pragma: no cover - persons are never deleted
        raise PersonNotFound()
    return person


async def _certificate_in_reach(
    session: AsyncSession, principal: Principal, certificate_id: uuid.UUID, action: Action
) -> Certificate:
    """The certificate if `action` is allowed on the unit keeping it; 404 otherwise (or in another county)."""
    return await CertificateRepository(session).get_in_reach(principal, action, certificate_id)


async def _view(session: AsyncSession, certificate_id: uuid.UUID, today: date) -> CertificateView:
    """The full read view: computed fields, inspections, and the revocation reason (kept in the audit trail)."""
    repository = CertificateRepository(session)
    row = await repository.row(certificate_id)
    if row is None:  # pragma: no cover - the caller has just read or written it
        raise CertificateNotFound()
    reason = None
    if row.certificate.status is CertificateStatus.revoked:
        events = await AuditRepository(session).list_for_entity(ENTITY_TYPE, str(certificate_id))
        reason = next((event.reason for event in reversed(events) if event.action == REVOKE_ACTION), None)
    return replace(
        view_of(row, today), inspections=await repository.inspections(certificate_id), revocation_reason=reason
    )


# --- issue and renewal -------------------------------------------------------------------------------------


async def _issuing_unit(
    session: AsyncSession, county_code: str, body: CertificateIssue
) -> tuple[str, str] | FieldError:
    """(code, name) of the issuing unit, or the problem with it."""
    code = body.issuing_unit_code
    if code.startswith(county_code):
        if len(code) != TOWNSHIP_CODE_LENGTH:
            return problem(
                "issuing_unit_code",
                "本县的发证单位须为乡镇（街道），即9位代码 / in this county certificates are issued by a township "
                "(a 9-digit code)",
            )
        unit = await OrgUnitRepository(session).get_by_code(code)
        if unit is None or not unit.active:
            return problem("issuing_unit_code", "本县没有该乡镇（街道） / no such township in this county")
        # The name of one of our own townships comes from the org tree, whatever the client sent.
        return code, unit.name
    if not is_known_division(county_of(code)):
        return problem("issuing_unit_code", "未知的行政区划代码 / unknown administrative division code")
    if body.issuing_unit_name is None:
        return problem(
            "issuing_unit_name",
            "外县签发的婚育证明须填写证上的发证机关名称 / give the issuing office's name as printed on a "
            "certificate issued by another county",
        )
    return code, body.issuing_unit_name


def _validity(person: Person, body: CertificateIssue) -> tuple[bool, date | None] | FieldError:
    """(permanent, valid_until) for the request, or the problem with it."""
    if body.permanent:
        if person.contraception_measure is not ContraceptionMeasure.sterilisation:
            return problem(
                "permanent",
                "仅已落实绝育措施且婚育情况未发生变化的，婚育证明长期有效；该人员未登记绝育措施 / only a person with "
                "sterilisation recorded may hold a permanent certificate, and none is recorded for this person",
            )
        if body.valid_until is not None:
            return problem("valid_until", "长期有效的婚育证明没有截止日期 / a permanent certificate has no end date")
        return True, None
    expected = valid_until_for(body.issue_date)
    if body.valid_until is not None and body.valid_until < expected:
        return problem(
            "valid_until",
            f"婚育证明有效期为三年，不得以任何理由缩短期限（应为 {expected.isoformat()}） / a certificate is valid "
            f"for three years and the period may not be shortened for any reason (expected {expected.isoformat()})",
        )
    if body.valid_until is not None and body.valid_until > expected:
        return problem(
            "valid_until",
            f"婚育证明有效期为三年（应为 {expected.isoformat()}），长期有效须标记 permanent / a certificate is valid "
            f"for three years (expected {expected.isoformat()}); mark it permanent for an unlimited one",
        )
    return False, expected


async def _new_certificate(
    session: AsyncSession,
    person: Person,
    body: CertificateIssue,
    today: date,
    *,
    renews: Certificate | None = None,
) -> Certificate:
    """Check the request and add the certificate row (flushed). Problems with fields are reported together."""
    repository = CertificateRepository(session)
    problems: list[FieldError] = []
    if body.issue_date > today:
        problems.append(problem("issue_date", "发证日期不能晚于今天 / the issue date cannot be in the future"))
    elif body.issue_date < EARLIEST_ISSUE_DATE:
        problems.append(problem("issue_date", "发证日期早于1991年，请核对 / an issue date before 1991 cannot be right"))
    elif renews is not None and body.issue_date < renews.issue_date:
        problems.append(
            problem("issue_date", "换领日期不能早于原证的发证日期 / a renewal cannot predate the certificate it renews")
        )
    if body.issued_by_proxy and body.proxy_name is None:
        problems.append(
            problem("proxy_name", "家人代办须填写代办人姓名 / give the name of the family member who applied")
        )
    if not body.issued_by_proxy and body.proxy_name is not None:
        problems.append(
            problem("proxy_name", "仅家人代办时填写代办人 / a proxy name is only given with issued_by_proxy")
        )
    issuing = await _issuing_unit(session, county_of(person.org_unit_code), body)
    if isinstance(issuing, FieldError):
        problems.append(issuing)
    validity = _validity(person, body)
    if isinstance(validity, FieldError):
        problems.append(validity)
    if problems or isinstance(issuing, FieldError) or isinstance(validity, FieldError):
        raise CertificateRejected(problems)
    if person.status is PersonStatus.merged:
        raise CertificateStateConflict(
            "PERSON_MERGED",
            "该人员记录已合并到其他记录，请在合并后的记录上办理 / "
            "This person record was merged into another; use that one",
        )
    if await repository.number_taken(body.number):
        raise NumberTaken(body.number)
    held = [c for c in await repository.in_force_for_person(person.id, today) if renews is None or c.id != renews.id]
    if held:
        raise CertificateStateConflict(
            "CERTIFICATE_IN_FORCE",
            f"该人员已有有效的婚育证明（{held[0].number}），请办理换领或先注销 / This person already holds a "
            f"certificate in force ({held[0].number}); renew or revoke it first",
        )
    permanent, valid_until = validity
    certificate = Certificate(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        person_id=person.id,
        issuing_unit_code=issuing[0],
        issuing_unit_name=issuing[1],
        # The number, dates and proxy as given; the validity as the rules computed it.
        **body.model_dump(include={"number", "issue_date", "issued_by_proxy", "proxy_name"}),
        permanent=permanent,
        valid_until=valid_until,
        status=CertificateStatus.valid,
        renews_id=renews.id if renews is not None else None,
        org_unit_code=person.org_unit_code,
    )
    repository.add(certificate)
    # Another officer may have used the same number between the check and the insert.
    await repository.flush_unique("uq_certificates_tenant_id_number", lambda: NumberTaken(body.number))
    return certificate


async def _record(
    session: AsyncSession, certificate: Certificate, action: str, changes: dict[str, Any], *, reason: str | None = None
) -> None:
    """One audit event about one certificate, filed under the unit that keeps it."""
    await audit.record_about(session, ENTITY_TYPE, certificate, action, changes, reason=reason)


async def issue_certificate(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID, body: CertificateIssue
) -> CertificateView:
    """Issue a certificate to a person of the caller's reach, or record one another county issued. Audited."""
    person = await _locked_person_in_reach(session, principal, person_id)
    today = china_today()
    certificate = await _new_certificate(session, person, body, today)
    await _record(session, certificate, ISSUE_ACTION, audit.diff(None, snapshot(certificate)))
    return await _view(session, certificate.id, today)


async def renew_certificate(
    session: AsyncSession, principal: Principal, certificate_id: uuid.UUID, body: CertificateRenew
) -> CertificateView:
    """换领: a new certificate pointing at the old one, from 90 days before expiry on; the old one is renewed."""
    old = await _certificate_in_reach(session, principal, certificate_id, Action.person_write)
    if body.version != old.version:
        raise StaleVersion(current=snapshot(old))
    today = china_today()
    status = effective_status(old, today)
    if status in _ENDED:
        raise CertificateStateConflict(
            "CERTIFICATE_NOT_IN_FORCE",
            "该婚育证明已换领或已注销，不能再换领 / This certificate was already renewed or revoked",
        )
    if old.permanent or old.valid_until is None:
        raise CertificateStateConflict(
            "RENEWAL_NOT_NEEDED", "长期有效的婚育证明无需换领 / A permanent certificate needs no renewal"
        )
    days_left = (old.valid_until - today).days
    if days_left > RENEWAL_WINDOW_DAYS:
        raise CertificateStateConflict(
            "RENEWAL_TOO_EARLY",
            f"该婚育证明 {old.valid_until.isoformat()} 到期，还有{days_left}天；到期前{RENEWAL_WINDOW_DAYS}天内方可换领"
            f" / This certificate is valid until {old.valid_until.isoformat()}, {days_left} days from now; it can be "
            f"renewed from {RENEWAL_WINDOW_DAYS} days before expiry",
        )
    # The new record is kept by the holder's unit now, which the caller must also be able to write to.
    person = await _locked_person_in_reach(session, principal, old.person_id)
    new = await _new_certificate(session, person, body, today, renews=old)
    before = snapshot(old)
    old.status = CertificateStatus.renewed
    await session.flush()
    await _record(
        session, old, RENEW_ACTION, audit.diff(before, snapshot(old)) | {"renewed_by_id": [None, str(new.id)]}
    )
    await _record(session, new, RENEW_ACTION, audit.diff(None, snapshot(new)))
    return await _view(session, new.id, today)


async def revoke_certificate(
    session: AsyncSession, principal: Principal, certificate_id: uuid.UUID, body: CertificateRevoke
) -> CertificateView:
    """注销 with a written reason (kept in the audit event). Audited."""
    certificate = await _certificate_in_reach(session, principal, certificate_id, Action.person_write)
    if body.version != certificate.version:
        raise StaleVersion(current=snapshot(certificate))
    today = china_today()
    if effective_status(certificate, today) in _ENDED:
        raise CertificateStateConflict(
            "CERTIFICATE_NOT_IN_FORCE",
            "该婚育证明已换领或已注销 / This certificate was already renewed or revoked",
        )
    before = snapshot(certificate)
    certificate.status = CertificateStatus.revoked
    await session.flush()
    await _record(session, certificate, REVOKE_ACTION, audit.diff(before, snapshot(certificate)), reason=body.reason)
    return await _view(session, certificate.id, today)


# --- inspection --------------------------------------------------------------------------------------------


def _inspection_problems(certificate: Certificate, body: InspectionCreate, today: date) -> list[FieldError]:
    problems: list[FieldError] = []
    if body.inspected_on > today:
        problems.append(problem("inspected_on", "查验日期不能晚于今天 / the inspection date cannot be in the future"))
    elif body.inspected_on < certificate.issue_date:
        problems.append(
            problem("inspected_on", "查验日期早于发证日期 / the inspection date is before the certificate was issued")
        )
    if body.result is InspectionResult.status_changed and not body.notes:
        problems.append(
            problem(
                "notes",
                "婚育或避孕节育情况发生变化的，应作相应记录：请写明变化情况 / when the marital, childbearing or "
                "contraception status changed, the change must be written down",
            )
        )
    expired_then = (
        not certificate.permanent
        and certificate.valid_until is not None
        and body.inspected_on > certificate.valid_until
    )
    if body.result is InspectionResult.valid and expired_then:
        problems.append(
            problem(
                "result",
                "查验时该证明已过有效期，结果不能为合格 / the certificate had expired on the inspection date, so the "
                "result cannot be valid",
            )
        )
    if body.result is InspectionResult.expired and not expired_then:
        problems.append(
            problem(
                "result",
                "查验时该证明仍在有效期内 / the certificate was still within its validity on the inspection date",
            )
        )
    return problems


async def inspect_certificate(
    session: AsyncSession, principal: Principal, certificate_id: uuid.UUID, body: InspectionCreate
) -> CertificateInspection:
    """Record an inspection by the signed-in officer on a certificate in reach. Audited."""
    certificate = await _certificate_in_reach(session, principal, certificate_id, Action.person_write)
    today = china_today()
    if effective_status(certificate, today) in _ENDED:
        raise CertificateStateConflict(
            "CERTIFICATE_NOT_IN_FORCE",
            "该婚育证明已换领或已注销，请查验现行证明 / "
            "This certificate was renewed or revoked; inspect the current one",
        )
    problems = _inspection_problems(certificate, body, today)
    if problems:
        raise CertificateRejected(problems)
    repository = CertificateRepository(session)
    inspection = CertificateInspection(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        certificate_id=certificate.id,
        inspected_on=body.inspected_on,
        inspector_id=uuid.UUID(principal.id) if principal.kind == "user" else None,
        inspector_name=principal.label[:100],
        org_unit_code=certificate.org_unit_code,
        result=body.result,
        notes=body.notes or None,
    )
    repository.add(inspection)
    await session.flush()
    inspected = ("inspected_on", "result", "notes", "inspector_name")
    changes = {"inspection_id": inspection.id} | {name: getattr(inspection, name) for name in inspected}
    await _record(session, certificate, INSPECT_ACTION, audit.diff(None, changes))
    return inspection


async def list_inspections(
    session: AsyncSession, principal: Principal, certificate_id: uuid.UUID
) -> list[CertificateInspection]:
    """A certificate's inspections, newest first."""
    certificate = await _certificate_in_reach(session, principal, certificate_id, Action.person_read)
    return await CertificateRepository(session).inspections(certificate.id)


# --- reading -----------------------------------------------------------------------------------------------


async def get_certificate(session: AsyncSession, principal: Principal, certificate_id: uuid.UUID) -> CertificateView:
    """One certificate with its inspections (and the revocation reason, from its audit trail)."""
    certificate = await _certificate_in_reach(session, principal, certificate_id, Action.person_read)
    return await _view(session, certificate.id, china_today())


async def list_certificates(
    session: AsyncSession, principal: Principal, filters: CertificateFilters, page: PageParams
) -> tuple[list[CertificateView], int]:
    """The register: certificates kept by units the caller may read, filtered, one page, and the total."""
    today = china_today()
    rows, total = await CertificateRepository(session).search(
        principal.scopes_for(Action.person_read), filters, today, offset=page.offset, limit=page.size
    )
    await audit_break_glass_listing(
        session,
        principal,
        Action.person_read,
        entity_type=ENTITY_TYPE,
        unit_codes={row.certificate.org_unit_code for row in rows},
    )
    return [view_of(row, today) for row in rows], total


async def list_person_certificates(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID, filters: CertificateFilters, page: PageParams
) -> tuple[list[CertificateView], int]:
    """One person's certificates (those kept by units in the caller's reach); 404 for a person out of reach."""
    await PersonRepository(session).get_in_reach(principal, Action.person_read, person_id)
    return await list_certificates(session, principal, replace(filters, person_id=person_id), page)
