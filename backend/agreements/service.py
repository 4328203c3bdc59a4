"""Responsibility agreements (责任书 / 合同 / 双向服务管理协议书): record, read, list, renew, attach the signed scan.

- An agreement is kept by a unit: the person's when it concerns a person, otherwise the unit named; the caller
  needs `document.write` there (404 outside reach).
- The signed scan is attached once and stored locked (backend/documents/storing.py): a second attempt is refused
  and the refusal audited (a corrected scan is a new version of the document, backend/documents/service.py).
- A renewal (续签) is a new agreement pointing at the one it renews, with its own signed scan.

Services flush, never commit.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from backend.agreements.repository import AgreementFilters, AgreementRepository
from backend.agreements.schemas import AgreementCreate, AgreementRenew
from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.service import authorize_unit
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.documents.errors import DocumentRejected, OwnerNotFound
from backend.documents.repository import DocumentRepository
from backend.documents.service import owner_unit
from backend.documents.storing import NewFile, kept_with, refuse_locked, store_document
from backend.models import Agreement, Document, DocumentKind, DocumentOwnerKind

ENTITY_TYPE = AgreementRepository.entity_type


def agreement_snapshot(agreement: Agreement) -> dict[str, Any]:
    """The audited fields of an agreement."""
    fields = (
        "kind",
        "title",
        "parties",
        "template_name",
        "signed_on",
        "valid_from",
        "valid_until",
        "org_unit_code",
        "person_id",
        "renews_id",
        "signed_document_id",
    )
    return dict(to_jsonable_python({name: getattr(agreement, name) for name in fields}))


async def _record(session: AsyncSession, agreement: Agreement, action: str, **changes: Any) -> None:
    where: dict[str, Any] = {
        "entity_type": ENTITY_TYPE,
        "entity_id": agreement.id,
        "org_unit_code": agreement.org_unit_code,
    }
    await audit.record(session, action=action, changes=changes, **where)


async def _agreement_unit(session: AsyncSession, principal: Principal, body: AgreementCreate) -> str:
    if body.person_id is not None:
        return await owner_unit(session, principal, DocumentOwnerKind.person, body.person_id, Action.document_write)
    if body.org_unit_code is None:
        raise DocumentRejected("org_unit_code", "须注明协议所属单位或人员", "give the agreement's unit or person")
    await authorize_unit(
        session,
        principal,
        Action.document_write,
        body.org_unit_code,
        entity_type="org_unit",
        entity_id=body.org_unit_code,
        not_found=OwnerNotFound(),
    )
    return body.org_unit_code


def _check_validity(body: AgreementCreate) -> None:
    if body.valid_until is not None and body.valid_until < body.valid_from:
        raise DocumentRejected("valid_until", "有效期止日早于起始日", "the validity ends before it starts")
    if body.valid_from < body.signed_on - timedelta(days=366):
        raise DocumentRejected("valid_from", "有效期起始日早于签订日一年以上", "validity starts long before signing")


async def create_agreement(
    session: AsyncSession, principal: Principal, body: AgreementCreate, *, renews: Agreement | None = None
) -> Agreement:
    """Record an agreement (its signed scan is attached afterwards with `attach_signed_scan`)."""
    _check_validity(body)
    unit = renews.org_unit_code if renews is not None else await _agreement_unit(session, principal, body)
    repository = AgreementRepository(session)
    agreement = Agreement(
        id=uuid.uuid4(),
        tenant_id=repository.tenant_id,
        kind=body.kind,
        title=body.title,
        parties=[party.model_dump() for party in body.parties],
        template_name=body.template_name,
        signed_on=body.signed_on,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        org_unit_code=unit,
        person_id=renews.person_id if renews is not None else body.person_id,
        renews_id=renews.id if renews is not None else None,
    )
    repository.add(agreement)
    await repository.flush()
    await _record(
        session, agreement, "agreement.renew" if renews else "agreement.create", after=agreement_snapshot(agreement)
    )
    return agreement


async def agreement_in_reach(
    session: AsyncSession, principal: Principal, agreement_id: uuid.UUID, action: Action, *, for_update: bool = False
) -> Agreement:
    """The agreement if `action` is allowed on the unit keeping it; 404 otherwise (or in another county)."""
    return await AgreementRepository(session).get_in_reach(principal, action, agreement_id, for_update=for_update)


async def list_agreements(
    session: AsyncSession, principal: Principal, filters: AgreementFilters, *, offset: int, limit: int
) -> tuple[list[Agreement], int]:
    """Agreements kept by units where the caller holds `document.read`, filtered; a unit filter outside that
    reach lists nothing (no 403: the list simply has no rows there)."""
    return await AgreementRepository(session).search(
        principal.scopes_for(Action.document_read), filters, china_today(), offset=offset, limit=limit
    )


async def agreement_renewals(session: AsyncSession, principal: Principal, agreement: Agreement) -> list[Agreement]:
    """The renewals (续签) of an agreement the caller may read, within their reach."""
    renewals = await AgreementRepository(session).renewals_of(agreement.id)
    return [renewal for renewal in renewals if principal.can(Action.document_read, renewal.org_unit_code)]


async def renew_agreement(
    session: AsyncSession, principal: Principal, agreement_id: uuid.UUID, body: AgreementRenew
) -> Agreement:
    """A renewal (续签): a new agreement pointing at the old one, with its own signed scan to attach."""
    previous = await agreement_in_reach(session, principal, agreement_id, Action.document_write, for_update=True)
    create = AgreementCreate(
        kind=previous.kind,
        title=body.title or previous.title,
        parties=body.parties if body.parties is not None else previous.parties,
        template_name=body.template_name or previous.template_name,
        signed_on=body.signed_on,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        org_unit_code=previous.org_unit_code,
    )
    return await create_agreement(session, principal, create, renews=previous)


async def attach_signed_scan(
    session: AsyncSession, principal: Principal, agreement_id: uuid.UUID, file: NewFile
) -> Document:
    """Attach the signed scan of an agreement: stored locked. Once attached it cannot be replaced: a second
    attempt is refused and audited (a corrected scan is a new version of the document)."""
    agreement = await agreement_in_reach(session, principal, agreement_id, Action.document_write, for_update=True)
    if agreement.signed_document_id is not None:
        signed = await DocumentRepository(session).get(agreement.signed_document_id)
        assert signed is not None
        await refuse_locked(session, signed, "replace")

    async def link(document: Document) -> None:
        agreement.signed_document_id = document.id
        agreement.version += 1
        await session.flush()
        await _record(session, agreement, "agreement.sign", signed_document_id=str(document.id), sha256=document.sha256)

    owner = kept_with(DocumentOwnerKind.agreement, agreement)
    return await store_document(
        session, principal, **owner, kind=DocumentKind.agreement, file=file, locked=True, before_write=link
    )
