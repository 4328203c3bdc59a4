"""Person pages: the registry list, the inflow / outflow registration form with every refused field shown next to
the field (ID check digit, division codes from a picker), and the person's page with her certificates and the
forms for deregistration (注销), merging a duplicate record into another, and undoing a merge (county
supervisors); the edit form of her record. Same services as /api/v1/persons (registration, PATCH, /depart, /merge,
/unmerge); every form goes through frontend/forms.py."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases import views as case_views
from backend.cases.repository import CaseFilters
from backend.certificates import service as certificates
from backend.certificates.repository import CertificateFilters
from backend.core.clock import china_today, utc_now
from backend.core.errors import DomainError
from backend.core.pagination import PageParams
from backend.data_review import service as data_review
from backend.db.session import SessionDep
from backend.models import FlowDirection, Person, PersonStatus
from backend.org import service as org
from backend.persons import merging, service
from backend.persons.auth import PersonsRead, PersonsWrite
from backend.persons.divisions import division_table
from backend.persons.errors import InvalidResidentId
from backend.persons.resident_id import parse_resident_id
from backend.persons.schemas import PersonCreate, PersonDepart, PersonMerge, PersonUnmerge, PersonUpdate
from backend.persons.validation import check_text_fields
from frontend.forms import FieldErrors, Form, field_errors
from frontend.pages.common import case_type_labels, unit_names
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

# The form's fields, by its two fieldsets (基本信息, 流动信息); empty inputs are "not given".
FORM_FIELDS = (
    *("name", "resident_id", "sex", "phone", "marital_status"),
    *("org_unit_code", "flow_date", "registration_division_code", "registration_address", "residence_division_code"),
    *("residence_address", "flow_origin_destination", "landlord_or_employer"),
)
_PICKER_LIMIT = 20
_ID_LIKE = re.compile(r"^[0-9]{15,17}[0-9Xx]?$")
# The forms on the person's page, each with its own prefix for its values and errors.
_ACTION_FORMS = ("depart_", "merge_", "unmerge_")
# The edit form: what the registration form asks, but the ID number (a new number is a new registration); an input
# left empty clears its field, but the name, which every record has.
EDIT_FIELDS = tuple(name for name in FORM_FIELDS if name not in ("resident_id", "sex"))
_EDIT_EMPTY_IS_NONE = frozenset({"marital_status", "flow_date", "org_unit_code"})
_PERSON_CASES = 50
_CONFIRM = "请勾选确认 / tick the box to confirm"
_REASON = "请写明理由（至少2个字） / give the reason (at least 2 characters)"


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
    context = {"q": q, "direction": direction, "can_write": principal.holds(Action.person_write)}
    try:
        result = await service.list_persons(session, principal, query, PageParams(page=page, size=25))
    except DomainError as error:
        context |= {"result": None, "errors": field_errors(error)}
        return render(request, "persons/list.html", context, status_code=422)
    return render(request, "persons/list.html", {**context, "result": result, "errors": {}})


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
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.person_write))
    return render(
        request,
        "persons/form.html",
        {
            "direction": direction.value,
            "values": values or {},
            "errors": errors or {},
            "units": [(unit.code, f"{unit.name}（{unit.code}）") for unit in units if unit.active],
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
async def register(request: Request, session: SessionDep, principal: PersonsWrite) -> Response:
    form = await Form.read(request, (*FORM_FIELDS, "flow_direction"))
    direction = _direction(form.values.pop("flow_direction"))
    data = form.given(flow_direction=direction.value)
    if direction is FlowDirection.inflow and "org_unit_code" in data and "residence_division_code" not in data:
        data["residence_division_code"] = data["org_unit_code"]  # the form's managing village is where she lives
    # A form that does not parse as a whole still shows the registry's own checks of its well-formed text fields.
    refused = form.parse(PersonCreate, data)
    checks = None
    if isinstance(refused, FieldErrors):
        problems = await check_text_fields(session, principal, data, refused=refused)
        checks = {str(problem.loc[-1]): problem.msg for problem in reversed(problems)}
    return await form.submit(
        session,
        PersonCreate,
        lambda body: service.register_person(session, principal, body),
        data=data,
        checks=checks,
        # To the person's page, not a search for her name: names stay out of URLs (and access logs).
        done=lambda registration: (
            f"/persons/{registration.person.id}?registered={'merged' if registration.merged_into_existing else 'new'}"
        ),
        again=lambda errors: _form(
            request, session, principal, direction, values=form.values, errors=errors, status_code=422
        ),
    )


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


async def person_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The person's page: her record, her certificates, and the forms that change them (the refused one with its
    values and errors)."""
    person = await service.person_in_reach(session, principal, person_id, Action.person_read)
    read = await service.person_read(session, principal, person, reveal_identifiers=True)
    views, _ = await certificates.list_person_certificates(
        session, principal, person_id, CertificateFilters(), PageParams(page=1, size=50)
    )
    can_write = principal.can(Action.person_write, person.org_unit_code)
    # Merge and unmerge: the duplicates to offer, and the record this one was merged into.
    duplicates = (
        await merging.duplicate_candidates(session, principal, person)
        if can_write and person.status is PersonStatus.active
        else []
    )
    merged_into = await _in_reach(session, principal, person.merged_into_id)
    spouse = await _in_reach(session, principal, person.spouse_id)
    cases: list[Any] = []
    if principal.holds(Action.case_read):
        filters = CaseFilters(roots=principal.scopes_for(Action.case_read), person_ids=[person_id], sort="-received_at")
        cases, _ = await case_views.list_cases(session, principal, filters, offset=0, limit=_PERSON_CASES)
    return render(
        request,
        "persons/detail.html",
        {
            "person": read,
            "certificates": views,
            "can_write": can_write,
            "duplicates": duplicates,
            "merged_into": merged_into,
            "spouse": spouse,
            "cases": cases,
            "entries": await data_review.entries_of_person(session, person),
            "case_types": await case_type_labels(session) if cases else {},
            "unit_names": await _place_names(session, read.registration_division_code, read.residence_division_code),
            "now": utc_now(),
            "can_unmerge": person.status is PersonStatus.merged
            and merged_into is not None
            and merging.may_unmerge(principal, person, merged_into),
            "can_open_case": principal.holds(Action.case_write),
            "values": values or {},
            # The certificate form's errors, and those of the deregister / merge / unmerge forms (prefixed).
            "errors": {key: message for key, message in (errors or {}).items() if not key.startswith(_ACTION_FORMS)},
            "action_errors": {key: message for key, message in (errors or {}).items() if key.startswith(_ACTION_FORMS)},
        },
        status_code=status_code,
    )


async def _place_names(session: AsyncSession, *codes: str | None) -> dict[str, str]:
    """The county's units by name, and the divisions elsewhere among `codes` (户籍地 in another county)."""
    names = await unit_names(session)
    table = division_table()
    for code in codes:
        if code and code not in names and code[:6] in table:
            county = table[code[:6]].name  # the table holds counties; a township or village there shows its code
            names[code] = county if len(code) == 6 else f"{county} {code}"
    return names


async def _in_reach(session: AsyncSession, principal: Principal, person_id: uuid.UUID | None) -> Person | None:
    """A related record (spouse, the record this one was merged into) when the reader may see it; None otherwise
    (shown without a link)."""
    if person_id is None:
        return None
    try:
        return await service.person_in_reach(session, principal, person_id, Action.person_read)
    except DomainError:
        return None


async def _edit_form(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    person = await service.person_in_reach(session, principal, person_id, Action.person_write)
    # The full phone number to holders of person.read_identifiers (audited, as on the person's page), masked to others.
    read = await service.person_read(session, principal, person, reveal_identifiers=values is None)
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.person_write))
    shown = values or {name: "" if getattr(read, name) is None else str(getattr(read, name)) for name in EDIT_FIELDS}
    return render(
        request,
        "persons/edit.html",
        {
            "person": read,
            "values": {**shown, "version": (values or {}).get("version", str(read.version))},
            "errors": errors or {},
            "units": [(unit.code, f"{unit.name}（{unit.code}）") for unit in units if unit.active],
        },
        status_code=status_code,
    )


@router.get("/persons/{person_id}/edit", response_class=HTMLResponse)
async def edit_form(request: Request, session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID) -> Response:
    return await _edit_form(request, session, principal, person_id)


@router.post("/persons/{person_id}/edit", response_class=HTMLResponse)
async def edit(request: Request, session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID) -> Response:
    """The changed record through the service the API's PATCH uses (the version read with the form: a record
    changed meanwhile is refused, nothing written); each refusal at its field."""
    person = await service.person_in_reach(session, principal, person_id, Action.person_write)
    form = await Form.read(request, (*EDIT_FIELDS, "version"))
    data: dict[str, Any] = {
        name: (None if name in _EDIT_EMPTY_IS_NONE and value == "" else value)
        for name, value in form.values.items()
        if name != "version"
    }
    if data["phone"] and data["phone"] == (await service.person_read(session, principal, person)).phone:
        del data["phone"]  # the masked number shown to a reader without person.read_identifiers, left as it was
    data["version"] = form.values["version"] or None
    return await form.submit(
        session,
        PersonUpdate,
        lambda body: service.update_person(session, principal, person, body),
        data=data,
        done=f"/persons/{person_id}?done=edited",
        again=lambda errors: _edit_form(
            request, session, principal, person_id, values=form.values, errors=errors, status_code=422
        ),
    )


async def _action(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    schema: type[BaseModel],
    perform: Callable[[Any], Awaitable[Any]],
    *,
    names: tuple[str, ...],
    prefix: str,
    done: str | Callable[[Any], str],
    messages: dict[str, str] | None = None,
) -> Response:
    """One of the person page's confirmed forms (deregister, merge, unmerge): the box ticked and the reason given,
    the service in a savepoint, then `done`, or the person's page again with the form's values and errors."""
    form = await Form.read(request, (*names, "confirm"), prefix=prefix)
    form.messages.update({"reason": _REASON, **(messages or {})})
    shown = {f"{prefix}{name}": value for name, value in form.values.items() if name != "confirm"}
    return await form.submit(
        session,
        schema,
        perform,
        data=form.given(*names),
        checks={f"{prefix}confirm": _CONFIRM} if form.values["confirm"] != "1" else None,
        done=done,
        again=lambda errors: person_page(
            request, session, principal, person_id, values=shown, errors=errors, status_code=422
        ),
    )


@router.post("/persons/{person_id}/depart", response_class=HTMLResponse)
async def depart(request: Request, session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID) -> Response:
    person = await service.person_in_reach(session, principal, person_id, Action.person_write)
    return await _action(
        request,
        session,
        principal,
        person_id,
        PersonDepart,
        lambda body: service.depart_person(session, principal, person, body),
        names=("departed_on", "reason", "version"),
        prefix="depart_",
        done=f"/persons/{person_id}?done=departed",
    )


@router.post("/persons/{person_id}/merge", response_class=HTMLResponse)
async def merge(request: Request, session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID) -> Response:
    source = await service.person_in_reach(session, principal, person_id, Action.person_write)
    return await _action(
        request,
        session,
        principal,
        person_id,
        PersonMerge,
        lambda body: merging.merge_persons(session, principal, source, body),
        names=("into_id", "reason"),
        prefix="merge_",
        done=lambda merged: f"/persons/{merged[1].id}?done=merged",
        messages={"into_id": "请选择要保留的记录 / choose the record that stays"},
    )


@router.post("/persons/{person_id}/unmerge", response_class=HTMLResponse)
async def unmerge(request: Request, session: SessionDep, principal: PersonsWrite, person_id: uuid.UUID) -> Response:
    source = await service.person_in_reach(session, principal, person_id, Action.person_write)
    return await _action(
        request,
        session,
        principal,
        person_id,
        PersonUnmerge,
        lambda body: merging.unmerge_person(session, principal, source, body),
        names=("reason",),
        prefix="unmerge_",
        done=f"/persons/{person_id}?done=unmerged",
    )


@router.get("/persons/{person_id}", response_class=HTMLResponse)
async def person_detail(
    request: Request, session: SessionDep, principal: PersonsRead, person_id: uuid.UUID
) -> HTMLResponse:
    return await person_page(request, session, principal, person_id)
