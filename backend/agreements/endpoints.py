"""Agreement routes under /agreements: record, list (filtered, paged), read, attach the signed scan once, renew."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from backend.agreements import service
from backend.agreements.auth import AgreementRead, AgreementWrite
from backend.agreements.repository import AgreementFilters
from backend.agreements.schemas import AgreementCreate, AgreementRenew
from backend.agreements.schemas import AgreementRead as AgreementOut
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.core.list_filters import UnitQuery
from backend.core.pagination import Page
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.documents.endpoints import PageDep, UploadDep, committing_refusal, read_upload
from backend.documents.schemas import DocumentRead as DocumentOut
from backend.models import AgreementKind

router = APIRouter(prefix=f"{API_V1}/agreements", tags=["documents"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Record an agreement")
async def create_agreement(session: SessionDep, principal: AgreementWrite, body: AgreementCreate) -> AgreementOut:
    return AgreementOut.model_validate(await service.create_agreement(session, principal, body))


@router.get("", summary="Agreements within my reach, filtered")
async def list_agreements(
    session: SessionDep,
    principal: AgreementRead,
    page: PageDep,
    kind: AgreementKind | None = None,
    org_unit_code: UnitQuery = None,
    expiring_within_days: Annotated[int | None, Query(ge=0, le=3660)] = None,
) -> Page[AgreementOut]:
    expiring_before = china_today() + timedelta(days=expiring_within_days) if expiring_within_days is not None else None
    filters = AgreementFilters(kind=kind, org_unit_code=org_unit_code, expiring_before=expiring_before)
    agreements, total = await service.list_agreements(session, principal, filters, offset=page.offset, limit=page.size)
    return Page[AgreementOut](
        items=[AgreementOut.model_validate(agreement) for agreement in agreements],
        total=total,
        page=page.page,
        size=page.size,
    )


@router.get("/{agreement_id}", summary="One agreement")
async def get_agreement(session: SessionDep, principal: AgreementRead, agreement_id: uuid.UUID) -> AgreementOut:
    agreement = await service.agreement_in_reach(session, principal, agreement_id, Action.document_read)
    return AgreementOut.model_validate(agreement)


@router.post(
    "/{agreement_id}/signed-scan",
    response_model=DocumentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Attach the signed scan (once: it is then locked; a replacement is refused and audited)",
)
async def attach_signed_scan(
    request: Request, session: SessionDep, principal: AgreementWrite, agreement_id: uuid.UUID, file: UploadDep
) -> DocumentOut | Response:
    new_file = await read_upload(file)
    result = await committing_refusal(request, service.attach_signed_scan(session, principal, agreement_id, new_file))
    return result if isinstance(result, Response) else DocumentOut.model_validate(result)


@router.post(
    "/{agreement_id}/renew",
    status_code=status.HTTP_201_CREATED,
    summary="Renew (续签): a new agreement linked to this one",
)
async def renew_agreement(
    session: SessionDep, principal: AgreementWrite, agreement_id: uuid.UUID, body: AgreementRenew
) -> AgreementOut:
    return AgreementOut.model_validate(await service.renew_agreement(session, principal, agreement_id, body))
