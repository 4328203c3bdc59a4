"""Person pages: the registry list and the inflow / outflow registration form, with every refused field shown
next to the field (ID check digit, division codes from a picker); from the person's page, deregistration (注销),
merging a duplicate record into another, and undoing a merge (county supervisors). Same services as
/api/v1/persons (registration, /depart, /merge, /unmerge)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.core.errors import DomainError
from backend.core.pagination import PageParams
from backend.db.engine import Database
from backend.db.session import SessionDep, get_database
from backend.models import FlowDirection
from backend.org import service as org
from backend.persons import service
from backend.persons.auth import PersonsRead, PersonsWrite
from backend.persons.divisions import division_table
from backend.persons.errors import InvalidResidentId
from backend.persons.resident_id import parse_resident_id
from backend.persons.schemas import PersonCreate, PersonDepart, PersonMerge, PersonUnmerge
from backend.verification import flow_notices
from frontend.forms import field_errors
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

# The form's fields, in the order the registers list them; empty inputs are "not given".
FORM_FIELDS = (
    "name",
    "resident_id",
    "sex",
    "phone",
    "org_unit_code",
    "flow_date",
    "registration_division_code",
    "registration_address",
    "residence_division_code",
    "residence_address",
    "flow_origin_destination",
    "landlord_or_employer",
    "marital_status",
)
_PICKER_LIMIT = 20
# Fields the registry can check as plain text when the form as a whole did not parse.
_TEXT_CHECKED = ("name", "resident_id", "phone", "org_unit_code", "registration_division_code")
_ID_LIKE = re.compile(r"^[0-9]{15,17}[0-9Xx]?$")


@router.get("/persons", response_class=HTMLResponse)
async def person_list(
    request: Request,
    session: SessionDep,
    principal: PersonsRead,
    q: Annotated[str, Query(max_length=50)] = "",
    direction: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    text = q.strip()
    id_like = bool(_ID_LIKE.match(text))
    query = service.PersonQuery(
        flow_direction=FlowDirection(direction) if direction in FlowDirection.__members__ else None,
        q=None if id_like or not text else text,
        resident_id=text if id_like else None,
    )
    try:
        result = await service.list_persons(session, principal, query, PageParams(page=page, size=25))
    except DomainError as error:
        return render(
            request,
            "persons/list.html",
            {
                "result": None,
                "q": q,
                "direction": direction,
                "can_write": principal.holds(Action.person_write),
                "errors": field_errors(error),
            },
            status_code=422,
        )
    return render(
        request,
        "persons/list.html",
        {
            "result": result,
            "q": q,
            "direction": direction,
            "can_write": principal.holds(Action.person_write),
            "errors": {},
        },
    )


async def _units(session: AsyncSession, principal: Principal) -> list[tuple[str, str]]:
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.person_write))
    return [(unit.code, f"{unit.name}（{unit.code}）") for unit in units if unit.active]


async def _form(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    direction: FlowDirection,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "persons/form.html",
        {
            "direction": direction.value,
            "values": values or {},
            "errors": errors or {},
            "units": await _units(session, principal),
        },
        status_code=status_code,
    )


def _direction(value: str) -> FlowDirection:
    return FlowDirection(value) if value in FlowDirection.__members__ else FlowDirection.inflow


@router.get("/persons/new", response_class=HTMLResponse)
async def registration_form(
    request: Request, session: SessionDep, principal: PersonsWrite, direction: str = "inflow"
) -> HTMLResponse:
    return await _form(request, session, principal, _direction(direction))


@router.post("/persons/new", response_class=HTMLResponse)
async def register(
    request: Request, session: SessionDep, database: Annotated[Database, Depends(get_database)], principal: PersonsWrite
) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FORM_FIELDS}
    direction = _direction(str(form.get("flow_direction", "")))
    body: dict[str, Any] = {name: value for name, value in values.items() if value}
    body["flow_direction"] = direction.value
    if direction is FlowDirection.inflow and values["org_unit_code"] and not values["residence_division_code"]:
        body["residence_division_code"] = values["org_unit_code"]  # an inflow person lives in the managing village
    try:
        person_create = PersonCreate.model_validate(body)
    except ValidationError as invalid:
        errors = {
            str(error["loc"][0]): "格式不正确 / invalid format" if error["type"] != "missing" else "必填 / required"
            for error in invalid.errors()
        }
        # Every problem at once: the registry's own checks on the text fields that are well-formed.
        checkable = {name: body[name] for name in _TEXT_CHECKED if name in body and name not in errors}
        _, problems = service.check_person_fields(checkable, rules=await service.load_rules(session, principal))
        for problem in problems:
            errors.setdefault(str(problem.loc[-1]), problem.msg)
        return await _form(request, session, principal, direction, values=values, errors=errors, status_code=422)
    try:
        async with session.begin_nested():
            returning = await flow_notices.was_departed(session, person_create.resident_id)
            person, merged = await service.register_person(session, principal, person_create)
            if not merged or returning:  # the registration county is notified, as through the API
                await flow_notices.notify_registration_place(
                    session, database, person, "inflow_registered", person.flow_date, principal.subject
                )
    except DomainError as error:
        errors = field_errors(error)
        return await _form(request, session, principal, direction, values=values, errors=errors, status_code=422)
    # To the person's page, not a search for her name: names stay out of URLs (and access logs).
    return RedirectResponse(f"/persons/{person.id}?registered={'merged' if merged else 'new'}", status_code=303)


@router.get("/persons/check-resident-id", response_class=HTMLResponse)
async def check_resident_id(request: Request, principal: PersonsWrite) -> HTMLResponse:
    """The ID field's check as the user leaves it (HTMX): the registry's own parser, so the message is the one
    the registration would give. Nothing is looked up or stored."""
    raw = str(request.query_params.get("resident_id", "")).strip()[:40]
    message = ""
    birth_date = sex = None
    if raw:
        try:
            parsed = parse_resident_id(raw, today=china_today())
            birth_date, sex = parsed.birth_date, parsed.sex
        except InvalidResidentId as refused:
            message = refused.fields[0].msg
    return render(request, "persons/resident_id_check.html", {"message": message, "birth_date": birth_date, "sex": sex})


@router.get("/divisions", response_class=HTMLResponse)
async def division_options(request: Request, principal: PersonsWrite) -> HTMLResponse:
    """The division-code picker's suggestions: codes starting with, or names containing, what was typed (the
    picker sends its own field, so the first query value is the text)."""
    needle = next(iter(request.query_params.values()), "").strip()[:30]
    matches = []
    if needle:
        for division in division_table().values():
            if division.is_current and (division.code.startswith(needle) or needle in division.name):
                matches.append(division)
                if len(matches) >= _PICKER_LIMIT:
                    break
    return render(request, "persons/division_options.html", {"divisions": matches})


_CONFIRM = "请勾选确认 / tick the box to confirm"
_REASON = "请写明理由（至少2个字） / give the reason (at least 2 characters)"


def _checked(
    form: Any, prefix: str, model: type[PersonDepart | PersonMerge | PersonUnmerge], body: dict[str, Any]
) -> Any:
    """The parsed body, or the form's errors keyed `<prefix>_<field>`; the confirmation box is required too."""
    errors: dict[str, str] = {}
    if str(form.get("confirm", "")) != "1":
        errors[f"{prefix}_confirm"] = _CONFIRM
    try:
        parsed = model.model_validate({key: value for key, value in body.items() if value not in ("", None)})
    except ValidationError as invalid:
        for error in invalid.errors():
            name = str(error["loc"][0])
            message = (
                _REASON
                if name == "reason"
                else ("必填 / required" if error["type"] == "missing" else "格式不正确 / invalid format")
            )
            errors.setdefault(f"{prefix}_{name}", message)
        return errors
    return errors or parsed


async def _refused(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    prefix: str,
    errors: dict[str, str],
    values: dict[str, str],
) -> HTMLResponse:
    """The person's page again, the refused form's values and errors keyed `<prefix>_<field>`."""
    from frontend.pages.certificates import _person_page

    shown = {f"{prefix}_{name}": value for name, value in values.items()}
    return await _person_page(request, session, principal, person_id, values=shown, errors=errors, status_code=422)


def _prefixed(error: DomainError, prefix: str) -> dict[str, str]:
    return {f"{prefix}_{key}": message for key, message in field_errors(error).items()}


@router.post("/persons/{person_id}/depart", response_class=HTMLResponse)
async def depart(
    request: Request,
    session: SessionDep,
    database: Annotated[Database, Depends(get_database)],
    principal: PersonsWrite,
    person_id: uuid.UUID,
) -> Response:
    person = await service.person_in_reach(session, principal, person_id, Action.person_write)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in ("departed_on", "reason", "version")}
    body = _checked(form, "depart", PersonDepart, values)
    if isinstance(body, dict):
        return await _refused(request, session, principal, person_id, "depart", body, values)
    try:
        async with session.begin_nested():
            await service.depart_person(session, principal, person, body)
            # The registration county hears of the departure, as through the API.
            await flow_notices.notify_registration_place(
                session, database, person, "inflow_left", body.departed_on, principal.subject
            )
    except DomainError as error:
        return await _refused(request, session, principal, person_id, "depart", _prefixed(error, "depart"), values)
    return RedirectResponse(f"/persons/{person_id}?done=departed", status_code=303)


@router.post("/persons/{person_id}/merge", response_class=HTMLResponse)
async def merge(request: Request, session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID) -> Response:
    source = await service.person_in_reach(session, principal, person_id, Action.person_write)
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in ("into_id", "reason")}
    body = _checked(form, "merge", PersonMerge, values)
    if isinstance(body, dict):
        if "merge_into_id" in body:
            body["merge_into_id"] = "请选择要保留的记录 / choose the record that stays"
        return await _refused(request, session, principal, person_id, "merge", body, values)
    try:
        async with session.begin_nested():
            _, target = await service.merge_persons(session, principal, source, body)
    except DomainError as error:
        return await _refused(request, session, principal, person_id, "merge", _prefixed(error, "merge"), values)
    return RedirectResponse(f"/persons/{target.id}?done=merged", status_code=303)


@router.post("/persons/{person_id}/unmerge", response_class=HTMLResponse)
async def unmerge(request: Request, session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID) -> Response:
    source = await service.person_in_reach(session, principal, person_id, Action.person_write)
    form = await request.form()
    values = {"reason": str(form.get("reason", "")).strip()}
    body = _checked(form, "unmerge", PersonUnmerge, values)
    if isinstance(body, dict):
        return await _refused(request, session, principal, person_id, "unmerge", body, values)
    try:
        async with session.begin_nested():
            await service.unmerge_person(session, principal, source, body)
    except DomainError as error:
        return await _refused(request, session, principal, person_id, "unmerge", _prefixed(error, "unmerge"), values)
    return RedirectResponse(f"/persons/{person_id}?done=unmerged", status_code=303)
