"""Certificate pages (婚育证明): issue under a person (from her page, frontend/pages/persons.py), then inspect
(查验), renew (换领) and revoke (注销, with a reason).
Same services as /api/v1/persons/{id}/certificates and /api/v1/certificates (checked and audited there)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.certificates import service
from backend.certificates.auth import PersonRead, PersonWrite
from backend.certificates.repository import CertificateFilters
from backend.certificates.schemas import CertificateIssue, CertificateRenew, CertificateRevoke, InspectionCreate
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.models import CertificateStatus
from backend.submissions.service import once, parse_token
from frontend.forms import Form
from frontend.pages.persons import person_page
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

_ISSUE_FIELDS = ("number", "issue_date", "issuing_unit_code", "issuing_unit_name", "proxy_name")


@router.post("/persons/{person_id}/certificates", response_class=HTMLResponse)
async def issue(request: Request, session: SessionDep, principal: PersonWrite, person_id: uuid.UUID) -> Response:
    form = await Form.read(request, (*_ISSUE_FIELDS, "form_token"))
    token = parse_token(form.values.pop("form_token"))

    async def issue_it(body: CertificateIssue) -> str:
        view = await service.issue_certificate(session, principal, person_id, body)
        return f"/certificates/{view.certificate.id}?done=issued"

    return await form.submit(
        session,
        CertificateIssue,
        lambda body: once(session, principal, token, f"certificate.issue:{person_id}", lambda: issue_it(body)),
        data=form.given(issued_by_proxy=bool(form.values["proxy_name"])),
        done=lambda url: url,
        again=lambda errors: person_page(
            request, session, principal, person_id, values=form.values, errors=errors, status_code=422
        ),
    )


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


def _again(
    request: Request, session: AsyncSession, principal: Principal, certificate_id: uuid.UUID, form: Form
) -> Callable[[dict[str, str]], Awaitable[HTMLResponse]]:
    """The certificate page again with the form's values and errors."""
    return lambda errors: _certificate_page(
        request, session, principal, certificate_id, errors=errors, values=form.values, status_code=422
    )


@router.post("/certificates/{certificate_id}/inspections", response_class=HTMLResponse)
async def inspect(request: Request, session: SessionDep, principal: PersonWrite, certificate_id: uuid.UUID) -> Response:
    form = await Form.read(request, ("inspected_on", "result", "notes"))
    return await form.submit(
        session,
        InspectionCreate,
        lambda body: service.inspect_certificate(session, principal, certificate_id, body),
        done=f"/certificates/{certificate_id}?done=inspected",
        again=_again(request, session, principal, certificate_id, form),
    )


@router.post("/certificates/{certificate_id}/renew", response_class=HTMLResponse)
async def renew(request: Request, session: SessionDep, principal: PersonWrite, certificate_id: uuid.UUID) -> Response:
    form = await Form.read(request, (*_ISSUE_FIELDS, "version", "form_token"), prefix="renew_")
    token = parse_token(form.values.pop("form_token"))

    async def renew_it(body: CertificateRenew) -> str:
        view = await service.renew_certificate(session, principal, certificate_id, body)
        return f"/certificates/{view.certificate.id}?done=renewed"

    return await form.submit(
        session,
        CertificateRenew,
        lambda body: once(session, principal, token, f"certificate.renew:{certificate_id}", lambda: renew_it(body)),
        data=form.given(issued_by_proxy=bool(form.values["proxy_name"])),
        done=lambda url: url,
        again=_again(request, session, principal, certificate_id, form),
    )


@router.post("/certificates/{certificate_id}/revoke", response_class=HTMLResponse)
async def revoke(request: Request, session: SessionDep, principal: PersonWrite, certificate_id: uuid.UUID) -> Response:
    form = await Form.read(request, ("reason", "version", "confirm"), prefix="revoke_")
    form.messages["reason"] = "请写明注销理由（至少2个字） / give the reason (at least 2 characters)"
    unconfirmed = form.values["confirm"] != "1"
    await service.get_certificate(session, principal, certificate_id)  # 404 outside reach, before the form
    return await form.submit(
        session,
        CertificateRevoke,
        lambda body: service.revoke_certificate(session, principal, certificate_id, body),
        data=form.given("reason", "version"),
        checks={"revoke_confirm": "请勾选确认注销 / tick the box to confirm the revocation"} if unconfirmed else None,
        done=f"/certificates/{certificate_id}?done=revoked",
        again=_again(request, session, principal, certificate_id, form),
    )
