"""Opening a case (开案): the case type, the unit, how and when the request arrived (the norm's clock start) and the
person as applicant, optionally with a spouse, both found by ID number. Same service as POST /api/v1/cases (which
also looks the subjects up by ID number); the case workflow is started after commit through the outbox, as for the
API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.case_types.service import effective_case_types
from backend.cases import service
from backend.cases.auth import CasesWrite
from backend.cases.schemas import CaseCreate
from backend.core.clock import CHINA
from backend.core.errors import DomainError
from backend.db.session import SessionDep
from backend.models import Person
from backend.org import service as org
from backend.persons import service as persons
from backend.submissions.service import once, parse_token
from frontend.forms import REQUIRED, Form
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
    "arrival": "arrival_channel",
    "arrival.channel": "arrival_channel",
    "arrival.at": "arrival_at",
    "arrival.evidence": "arrival_evidence",
    "received_at": "arrival_at",
    "subjects.0.person_id": "applicant_resident_id",
    "subjects.0.resident_id": "applicant_resident_id",
    "subjects.1.resident_id": "spouse_resident_id",
}


def _form_errors(raw: dict[str, str]) -> dict[str, str]:
    """Each error at its input: the service's field names mapped, the form's own kept, the rest for the form."""
    errors: dict[str, str] = {}
    for key, message in raw.items():
        errors.setdefault(_ERROR_FIELDS.get(key, key if key in FORM_FIELDS else "form"), message)
    return errors


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


def _body(values: dict[str, str], person: Person | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The case as the form describes it, and the form's own refusals (no applicant, an unreadable time)."""
    checks: dict[str, str] = {}
    subjects: list[dict[str, Any]] = []
    if person is not None:
        subjects.append({"person_id": str(person.id), "part": "applicant"})
    elif values["applicant_resident_id"]:
        subjects.append({"resident_id": values["applicant_resident_id"], "part": "applicant"})
    else:
        checks["applicant_resident_id"] = REQUIRED
    if values["spouse_resident_id"]:
        subjects.append({"resident_id": values["spouse_resident_id"], "part": "spouse"})
    arrival: dict[str, Any] = {"channel": values["arrival_channel"] or "in_person"}
    if values["arrival_at"]:
        try:
            # The time as read from the evidence, in China time (the officer's clock).
            arrival["at"] = datetime.fromisoformat(values["arrival_at"]).replace(tzinfo=CHINA)
        except ValueError:
            checks["arrival_at"] = "时间格式不正确 / invalid time"
    if values["arrival_evidence"]:
        arrival["evidence"] = values["arrival_evidence"]
    body = {
        "case_type": values["case_type"],
        "org_unit_code": values["org_unit_code"],
        "subjects": subjects,
        "arrival": arrival,
    }
    return {key: value for key, value in body.items() if value != ""}, checks


@router.post("/cases/new", response_class=HTMLResponse)
async def open_case(request: Request, session: SessionDep, principal: CasesWrite) -> Response:
    form = await Form.read(request, (*FORM_FIELDS, "form_token"))
    token = parse_token(form.values.pop("form_token"))
    person = await _applicant(session, principal, form.values["person_id"]) if form.values["person_id"] else None
    data, checks = _body(form.values, person)

    async def open_it(case_create: CaseCreate) -> str:
        case = await service.open_case(session, principal, case_create)
        return f"/cases/{case.id}?opened=1"

    return await form.submit(
        session,
        CaseCreate,
        # Once per form: a double click opens one case, and the second click lands on it.
        lambda case_create: once(session, principal, token, "case.open", lambda: open_it(case_create)),
        data=data,
        checks=checks,
        done=lambda url: url,
        again=lambda errors: _form(
            request, session, principal, person=person, values=form.values, errors=_form_errors(errors), status_code=422
        ),
        depth=None,
    )
