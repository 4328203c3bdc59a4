"""Certificate routes: issue under the person, then inspect, renew, revoke and read under /certificates."""

from __future__ import annotations

import uuid
from dataclasses import fields, replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from backend.certificates import service
from backend.certificates.auth import PersonRead, PersonWrite
from backend.certificates.repository import CertificateFilters
from backend.certificates.schemas import (
    CertificateIssue,
    CertificateListItem,
    CertificateNumber,
    CertificateRead,
    CertificateRenew,
    CertificateRevoke,
    InspectionCreate,
    InspectionRead,
)
from backend.core.list_filters import UnitQuery
from backend.core.pagination import Page, PageParams, page_params
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.models import CertificateStatus

router = APIRouter(tags=["certificates"])
CERTIFICATES = f"{API_V1}/certificates"
PERSON_CERTIFICATES = f"{API_V1}/persons/{{person_id}}/certificates"

PageDep = Annotated[PageParams, Depends(page_params)]


def certificate_filters(
    org_unit_code: UnitQuery = None,
    certificate_status: Annotated[
        CertificateStatus | None, Query(alias="status", description="Effective status (expired counted from today)")
    ] = None,
    inspection_due: Annotated[bool | None, Query()] = None,
    expiring_within_days: Annotated[int | None, Query(ge=0, le=3660)] = None,
    number: Annotated[CertificateNumber | None, Query()] = None,
) -> CertificateFilters:
    return CertificateFilters(
        org_unit_code=org_unit_code,
        status=certificate_status,
        inspection_due=inspection_due,
        expiring_within_days=expiring_within_days,
        number=number,
    )


FiltersDep = Annotated[CertificateFilters, Depends(certificate_filters)]


# What the read view computes (the effective status, the inspection dates ...); the rest is the row as stored.
_COMPUTED = frozenset(field.name for field in fields(service.CertificateView))


def _item(view: service.CertificateView) -> CertificateListItem:
    return CertificateListItem(
        **{
            name: getattr(view if name in _COMPUTED else view.certificate, name)
            for name in CertificateListItem.model_fields
        }
    )


def _read(view: service.CertificateView) -> CertificateRead:
    return CertificateRead(
        **_item(view).model_dump(),
        revocation_reason=view.revocation_reason,
        inspections=[InspectionRead.model_validate(inspection) for inspection in view.inspections],
    )


def _page(views: list[service.CertificateView], total: int, page: PageParams) -> Page[CertificateListItem]:
    return Page[CertificateListItem](items=[_item(view) for view in views], total=total, page=page.page, size=page.size)


@router.post(
    PERSON_CERTIFICATES,
    response_model=CertificateRead,
    status_code=status.HTTP_201_CREATED,
    summary="Issue a certificate, or record one issued by another county (seen on arrival)",
)
async def issue(
    session: SessionDep, principal: PersonWrite, person_id: uuid.UUID, body: CertificateIssue
) -> CertificateRead:
    return _read(await service.issue_certificate(session, principal, person_id, body))


@router.get(PERSON_CERTIFICATES, response_model=Page[CertificateListItem], summary="One person's certificates")
async def list_for_person(
    session: SessionDep, principal: PersonRead, person_id: uuid.UUID, filters: FiltersDep, page: PageDep
) -> Page[CertificateListItem]:
    views, total = await service.list_person_certificates(session, principal, person_id, filters, page)
    return _page(views, total, page)


@router.get(CERTIFICATES, response_model=Page[CertificateListItem], summary="The certificate register in my reach")
async def list_certificates(
    session: SessionDep,
    principal: PersonRead,
    filters: FiltersDep,
    page: PageDep,
    person_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[CertificateListItem]:
    if person_id is not None:
        filters = replace(filters, person_id=person_id)
    views, total = await service.list_certificates(session, principal, filters, page)
    return _page(views, total, page)


@router.get(f"{CERTIFICATES}/{{certificate_id}}", response_model=CertificateRead, summary="One certificate")
async def get_certificate(session: SessionDep, principal: PersonRead, certificate_id: uuid.UUID) -> CertificateRead:
    return _read(await service.get_certificate(session, principal, certificate_id))


@router.post(
    f"{CERTIFICATES}/{{certificate_id}}/inspections",
    response_model=InspectionRead,
    status_code=status.HTTP_201_CREATED,
    summary="Record an inspection (查验) by me",
)
async def inspect(
    session: SessionDep, principal: PersonWrite, certificate_id: uuid.UUID, body: InspectionCreate
) -> InspectionRead:
    return InspectionRead.model_validate(await service.inspect_certificate(session, principal, certificate_id, body))


@router.get(
    f"{CERTIFICATES}/{{certificate_id}}/inspections",
    response_model=list[InspectionRead],
    summary="A certificate's inspections, newest first",
)
async def list_inspections(
    session: SessionDep, principal: PersonRead, certificate_id: uuid.UUID
) -> list[InspectionRead]:
    inspections = await service.list_inspections(session, principal, certificate_id)
    return [InspectionRead.model_validate(inspection) for inspection in inspections]


@router.post(
    f"{CERTIFICATES}/{{certificate_id}}/renew",
    response_model=CertificateRead,
    status_code=status.HTTP_201_CREATED,
    summary="Renew (换领, free): a new certificate replacing this one, from 90 days before expiry",
)
async def renew(
    session: SessionDep, principal: PersonWrite, certificate_id: uuid.UUID, body: CertificateRenew
) -> CertificateRead:
    return _read(await service.renew_certificate(session, principal, certificate_id, body))


@router.post(
    f"{CERTIFICATES}/{{certificate_id}}/revoke", response_model=CertificateRead, summary="Revoke (注销) with a reason"
)
async def revoke(
    session: SessionDep, principal: PersonWrite, certificate_id: uuid.UUID, body: CertificateRevoke
) -> CertificateRead:
    return _read(await service.revoke_certificate(session, principal, certificate_id, body))
