"""Opening a case (开案): the case type, the unit, how and when the request arrived (the norm's clock start) and the
person as applicant, optionally with a spouse found by ID number. Same service as POST /api/v1/cases; the case
workflow is started after commit through the outbox, as for the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases import service
from backend.cases.auth import CasesWrite
from backend.cases.case_type_config import effective_case_types
from backend.cases.schemas import CaseCreate
from backend.core.clock import CHINA
from backend.core.errors import DomainError
from backend.db.session import SessionDep
from backend.db.tenancy import current_tenant_id
from backend.models import Person, PersonStatus
from backend.org import service as org
from backend.persons import service as persons
from backend.persons.resident_id import normalise_resident_id
from frontend.forms import field_errors
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

FORM_FIELDS = (
    "person_id",
    "applicant_resident_id",
    "case_type",
    "org_unit_code",
    "arrival_channel",
    "arrival_at",
    "arrival_evidence",
    "spouse_resident_id",
)
# The service's field names (CaseCreate and its checks) → the form's inputs, so each error sits by its field.
_ERROR_FIELDS = {
    "case_type": "case_type",
    "org_unit_code": "org_unit_code",
    "arrival.channel": "arrival_channel",
    "arrival.at": "arrival_at",
    "arrival.evidence": "arrival_evidence",
    "received_at": "arrival_at",
    "subjects.0.person_id": "applicant_resident_id",
    "subjects.1.person_id": "spouse_resident_id",
}
_NOT_FOUND = "未找到该身份证号码的人员，或不在您的范围内 / no person with this ID number in your reach"


def _form_errors(raw: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for key, message in raw.items():
        errors.setdefault(_ERROR_FIELDS.get(key, "form"), message)
    return errors


async def _person_by_resident_id(session: AsyncSession, principal: Principal, raw: str) -> Person | None:
    """The registered (not merged) person with this ID number whom the caller may read, if any."""
    digest = persons.resident_id_digest(normalise_resident_id(raw))
    rows = await session.execute(
        select(Person).where(
            Person.tenant_id == current_tenant_id(session),
            Person.resident_id_hash == digest,
            Person.status != PersonStatus.merged,
        )
    )
    for person in rows.scalars().all():
        if principal.can(Action.person_read, person.org_unit_code):
            return person
    return None


async def _applicant(session: AsyncSession, principal: Principal, person_id: str) -> Person | None:
    try:
        return await persons.person_in_reach(session, principal, uuid.UUID(person_id), Action.person_read)
    except (ValueError, DomainError):
        return None


async def _form(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    person: Person | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    types = await effective_case_types(session)
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.case_write))
    return render(
        request,
        "cases/open.html",
        {
            "person": person,
            "values": values,
            "errors": errors or {},
            "case_types": [(code, definition.label) for code, definition in types.items() if definition.enabled],
            "units": [(unit.code, f"{unit.name}（{unit.code}）") for unit in units if unit.active],
        },
        status_code=status_code,
    )


@router.get("/cases/new", response_class=HTMLResponse)
async def open_form(request: Request, session: SessionDep, principal: CasesWrite, person_id: str = "") -> Response:
    person = None
    if person_id:
        # 404 for a person outside the caller's reach, as on the person's page.
        try:
            parsed = uuid.UUID(person_id)
        except ValueError:
            return RedirectResponse("/cases/new", status_code=303)
        person = await persons.person_in_reach(session, principal, parsed, Action.person_read)
    values = {"arrival_channel": "in_person"}
    if person is not None:
        values |= {"person_id": str(person.id), "org_unit_code": person.org_unit_code}
    return await _form(request, session, principal, person=person, values=values)


@router.post("/cases/new", response_class=HTMLResponse)
async def open_case(request: Request, session: SessionDep, principal: CasesWrite) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip()[:200] for name in FORM_FIELDS}
    errors: dict[str, str] = {}
    person = await _applicant(session, principal, values["person_id"]) if values["person_id"] else None
    if person is None and values["applicant_resident_id"]:
        person = await _person_by_resident_id(session, principal, values["applicant_resident_id"])
    if person is None:
        errors["applicant_resident_id"] = _NOT_FOUND if values["applicant_resident_id"] else "必填 / required"
    subjects: list[dict[str, Any]] = [{"person_id": str(person.id), "part": "applicant"}] if person else []
    if values["spouse_resident_id"]:
        spouse = await _person_by_resident_id(session, principal, values["spouse_resident_id"])
        if spouse is None:
            errors["spouse_resident_id"] = _NOT_FOUND
        elif person is not None and spouse.id == person.id:
            errors["spouse_resident_id"] = "配偶不能是申请人本人 / the spouse cannot be the applicant"
        else:
            subjects.append({"person_id": str(spouse.id), "part": "spouse"})
    arrival: dict[str, Any] = {"channel": values["arrival_channel"] or "in_person"}
    if values["arrival_at"]:
        try:
            # The time as read from the evidence, in China time (the officer's clock).
            arrival["at"] = datetime.fromisoformat(values["arrival_at"]).replace(tzinfo=CHINA)
        except ValueError:
            errors["arrival_at"] = "时间格式不正确 / invalid time"
    if values["arrival_evidence"]:
        arrival["evidence"] = values["arrival_evidence"]
    body = {
        "case_type": values["case_type"],
        "org_unit_code": values["org_unit_code"],
        "subjects": subjects,
        "arrival": arrival,
    }
    try:
        case_create = CaseCreate.model_validate(body)
    except ValidationError as invalid:
        for error in invalid.errors():
            field = _ERROR_FIELDS.get(".".join(str(part) for part in error["loc"]), "form")
            message = "必填 / required" if not values.get(field) else "格式不正确 / invalid format"
            errors.setdefault(field, message)
        case_create = None
    if errors or case_create is None:
        errors = errors or {"form": "输入无效 / invalid input"}
        return await _form(request, session, principal, person=person, values=values, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            case = await service.open_case(session, principal, case_create)
    except DomainError as error:
        errors = _form_errors(field_errors(error))
        return await _form(request, session, principal, person=person, values=values, errors=errors, status_code=422)
    return RedirectResponse(f"/cases/{case.id}?opened=1", status_code=303)
