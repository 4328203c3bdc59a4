"""Person detail and certificate pages (婚育证明): issue under a person, then inspect (查验), renew (换领) and
revoke (注销, with a reason).
Same services as /api/v1/persons/{id}/certificates and /api/v1/certificates (checked and audited there)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.certificates import service
from backend.certificates.auth import PersonRead, PersonWrite
from backend.certificates.repository import CertificateFilters
from backend.certificates.schemas import CertificateIssue, CertificateRenew, CertificateRevoke, InspectionCreate
from backend.core.errors import DomainError
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.models import CertificateStatus, Person, PersonStatus
from backend.persons import service as persons
from frontend.pages.common import field_errors
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

_ACTION_FORMS = ("depart_", "merge_", "unmerge_")
_ISSUE_FIELDS = ("number", "issue_date", "issuing_unit_code", "issuing_unit_name", "proxy_name")


def _form_values(form: Any, names: tuple[str, ...]) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip() for name in names}


def _validation_errors(invalid: ValidationError) -> dict[str, str]:
    return {
        str(error["loc"][0]): "必填 / required" if error["type"] == "missing" else "格式不正确 / invalid format"
        for error in invalid.errors()
    }


def _parse(model: type[BaseModel], values: dict[str, Any]) -> BaseModel | dict[str, str]:
    try:
        return model.model_validate({key: value for key, value in values.items() if value not in ("", None)})
    except ValidationError as invalid:
        return _validation_errors(invalid)


async def _person_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    person = await persons.person_in_reach(session, principal, person_id, Action.person_read)
    read = await persons.person_read(session, principal, person, reveal_identifiers=True)
    views, _ = await service.list_person_certificates(
        session, principal, person_id, CertificateFilters(), PageParams(page=1, size=50)
    )
    can_write = principal.can(Action.person_write, person.org_unit_code)
    # Merge and unmerge (persons' pages): the duplicates to offer, and the record this one was merged into.
    duplicates = (
        await persons.duplicate_candidates(session, principal, person)
        if can_write and person.status is PersonStatus.active
        else []
    )
    merged_into: Person | None = None
    if person.merged_into_id is not None:
        try:
            merged_into = await persons.person_in_reach(session, principal, person.merged_into_id, Action.person_read)
        except DomainError:
            merged_into = None  # out of this reader's reach: shown without a link
    return render(
        request,
        "persons/detail.html",
        {
            "person": read,
            "certificates": views,
            "can_write": can_write,
            "duplicates": duplicates,
            "merged_into": merged_into,
            "can_unmerge": person.status is PersonStatus.merged
            and merged_into is not None
            and persons.may_unmerge(principal, person, merged_into),
            "can_open_case": principal.holds(Action.case_write),
            "values": values or {},
            # The certificate form's errors, and those of the deregister / merge / unmerge forms (prefixed).
            "errors": {key: message for key, message in (errors or {}).items() if not key.startswith(_ACTION_FORMS)},
            "action_errors": {key: message for key, message in (errors or {}).items() if key.startswith(_ACTION_FORMS)},
        },
        status_code=status_code,
    )


@router.get("/persons/{person_id}", response_class=HTMLResponse)
async def person_detail(
    request: Request, session: SessionDep, principal: PersonRead, person_id: uuid.UUID
) -> HTMLResponse:
    return await _person_page(request, session, principal, person_id)


@router.post("/persons/{person_id}/certificates", response_class=HTMLResponse)
async def issue(request: Request, session: SessionDep, principal: PersonWrite, person_id: uuid.UUID) -> Response:
    form = await request.form()
    values = _form_values(form, _ISSUE_FIELDS)
    body = _parse(CertificateIssue, {**values, "issued_by_proxy": bool(values["proxy_name"])})
    if isinstance(body, dict):
        return await _person_page(request, session, principal, person_id, values=values, errors=body, status_code=422)
    try:
        async with session.begin_nested():
            view = await service.issue_certificate(session, principal, person_id, body)  # type: ignore[arg-type]
    except DomainError as error:
        errors = field_errors(error)
        return await _person_page(request, session, principal, person_id, values=values, errors=errors, status_code=422)
    return RedirectResponse(f"/certificates/{view.certificate.id}?done=issued", status_code=303)


@router.get("/certificates", response_class=HTMLResponse)
async def certificate_list(
    request: Request,
    session: SessionDep,
    principal: PersonRead,
    status: str = "",
    inspection_due: str = "",
    number: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    filters = CertificateFilters(
        status=CertificateStatus(status) if status in CertificateStatus.__members__ else None,
        inspection_due=True if inspection_due == "1" else None,
        number=number.strip() or None,
    )
    views, total = await service.list_certificates(session, principal, filters, PageParams(page=page, size=25))
    return render(
        request,
        "certificates/list.html",
        {"views": views, "total": total, "status": status, "inspection_due": inspection_due, "number": number},
    )


async def _certificate_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    certificate_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = await service.get_certificate(session, principal, certificate_id)
    return render(
        request,
        "certificates/detail.html",
        {
            "view": view,
            "can_write": principal.can(Action.person_write, view.certificate.org_unit_code),
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


@router.get("/certificates/{certificate_id}", response_class=HTMLResponse)
async def certificate_detail(
    request: Request, session: SessionDep, principal: PersonRead, certificate_id: uuid.UUID
) -> HTMLResponse:
    return await _certificate_page(request, session, principal, certificate_id)


@router.post("/certificates/{certificate_id}/inspections", response_class=HTMLResponse)
async def inspect(request: Request, session: SessionDep, principal: PersonWrite, certificate_id: uuid.UUID) -> Response:
    form = await request.form()
    values = _form_values(form, ("inspected_on", "result", "notes"))
    body = _parse(InspectionCreate, values)
    if isinstance(body, dict):
        return await _certificate_page(
            request, session, principal, certificate_id, errors=body, values=values, status_code=422
        )
    try:
        async with session.begin_nested():
            await service.inspect_certificate(session, principal, certificate_id, body)  # type: ignore[arg-type]
    except DomainError as error:
        return await _certificate_page(
            request, session, principal, certificate_id, errors=field_errors(error), values=values, status_code=422
        )
    return RedirectResponse(f"/certificates/{certificate_id}?done=inspected", status_code=303)


@router.post("/certificates/{certificate_id}/renew", response_class=HTMLResponse)
async def renew(request: Request, session: SessionDep, principal: PersonWrite, certificate_id: uuid.UUID) -> Response:
    form = await request.form()
    values = _form_values(form, (*_ISSUE_FIELDS, "version"))
    body = _parse(CertificateRenew, {**values, "issued_by_proxy": bool(values["proxy_name"])})
    if isinstance(body, dict):
        errors = {f"renew_{key}": message for key, message in body.items()}
        return await _certificate_page(
            request, session, principal, certificate_id, errors=errors, values=values, status_code=422
        )
    try:
        async with session.begin_nested():
            view = await service.renew_certificate(session, principal, certificate_id, body)  # type: ignore[arg-type]
    except DomainError as error:
        errors = {f"renew_{key}": message for key, message in field_errors(error).items()}
        return await _certificate_page(
            request, session, principal, certificate_id, errors=errors, values=values, status_code=422
        )
    return RedirectResponse(f"/certificates/{view.certificate.id}?done=renewed", status_code=303)


@router.post("/certificates/{certificate_id}/revoke", response_class=HTMLResponse)
async def revoke(request: Request, session: SessionDep, principal: PersonWrite, certificate_id: uuid.UUID) -> Response:
    form = await request.form()
    values = _form_values(form, ("reason", "version", "confirm"))
    errors: dict[str, str] = {}
    if values["confirm"] != "1":
        errors["revoke_confirm"] = "请勾选确认注销 / tick the box to confirm the revocation"
    body = _parse(CertificateRevoke, {"reason": values["reason"], "version": values["version"]})
    if isinstance(body, dict):
        errors |= {f"revoke_{key}": message for key, message in body.items()}
        if "revoke_reason" in errors:
            errors["revoke_reason"] = "请写明注销理由（至少2个字） / give the reason (at least 2 characters)"
    if errors:
        await service.get_certificate(session, principal, certificate_id)  # 404 outside reach, before the form
        return await _certificate_page(
            request, session, principal, certificate_id, errors=errors, values=values, status_code=422
        )
    try:
        async with session.begin_nested():
            await service.revoke_certificate(session, principal, certificate_id, body)  # type: ignore[arg-type]
    except DomainError as error:
        if error.status_code == 404:
            raise
        errors = {f"revoke_{key}": message for key, message in field_errors(error).items()}
        return await _certificate_page(
            request, session, principal, certificate_id, errors=errors, values=values, status_code=422
        )
    return RedirectResponse(f"/certificates/{certificate_id}?done=revoked", status_code=303)
