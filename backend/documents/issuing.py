"""Issued documents (出具文书): rendered from Jinja2 templates to PDF with WeasyPrint, carrying a QR code to
the public verification page, stored like scans and listed in the case's issued-documents register.

Kinds: 婚育证明, 一孩生育服务登记证明, 书面说明理由（不予办理）, 协查函（平台外县）, 避孕节育情况报告单.

Templates. The defaults are in `backend/documents/templates/issued/` (`base.html` holds the letterhead, the
seal and the QR block; one file per kind holds the wording). A county overrides any of them per tenant
directory: `<document_templates_dir>/<county code>/<file>` replaces the default file of that name (e.g.
`refusal_letter.html` for its own wording, `base.html` for its letterhead), and `seal.png` there is printed
as the seal. The county's name comes from the tenant record. Templates are autoescaped.

Verification. Each document gets a random token; the QR code encodes `<public_base_url>/verify/<token>`.
The token starts with the county code (`330106-...`) so the public page can scope its one query to that
county (row-level security stays on); the page shows number, kind, issuing unit, issue date, validity and
state, nothing about the person.

Which kinds a case may have (`ISSUABLE_FROM_CASE`, `not_issuable_reason`): a kind that contradicts how the case
was closed is refused, by the API as by the pages, and so is a second valid proof (证明) of the same kind for one
case (void the first to issue again: `revoke_issued`, 作废); the case page offers its buttons for the kinds that
need nothing but the case and it does not hold yet.

Other domains call `issue_document(session, principal, kind, case_id, context)`.
"""

from __future__ import annotations

import base64
import io
import secrets
import uuid
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio.to_thread
import qrcode
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases.repository import CaseRepository
from backend.certificates.service import valid_until_for
from backend.core.clock import china_today
from backend.core.divisions import township_of
from backend.core.isolation import IsolatedRunner, IsolatedWorkFailed
from backend.db.tenancy import set_tenant
from backend.documents.errors import DocumentRejected, IssuedDocumentNotFound, OwnerNotFound, RenderingUnavailable
from backend.documents.repository import DocumentRepository
from backend.documents.schemas import IssuedDocumentRead, IssuedDocumentVerificationRead
from backend.documents.storage import document_settings
from backend.documents.storing import NewFile, kept_with, store_document
from backend.models import (
    Case,
    CaseOutcome,
    CaseStage,
    Document,
    DocumentKind,
    DocumentOwnerKind,
    IssuedDocument,
    IssuedDocumentKind,
    IssuedDocumentStatus,
)
from backend.org.repository import OrgUnitRepository
from backend.persons.repository import PersonRepository
from backend.tenants.repository import TenantRepository

TEMPLATES_DIR = Path(__file__).parent / "templates"
ENTITY_TYPE = "issued_document"

KIND_LABELS: dict[IssuedDocumentKind, str] = {
    IssuedDocumentKind.marriage_birth_certificate: "流动人口婚育证明",
    IssuedDocumentKind.first_child_registration: "一孩生育服务登记证明",
    IssuedDocumentKind.refusal_letter: "不予办理书面说明理由书",
    IssuedDocumentKind.verification_request_letter: "流动人口计划生育协查函",
    IssuedDocumentKind.contraception_report: "避孕节育情况报告单",
}
NUMBER_PREFIXES: dict[IssuedDocumentKind, str] = {
    IssuedDocumentKind.marriage_birth_certificate: "HY",
    IssuedDocumentKind.first_child_registration: "YH",
    IssuedDocumentKind.refusal_letter: "SM",
    IssuedDocumentKind.verification_request_letter: "XC",
    IssuedDocumentKind.contraception_report: "BY",
}
STATUS_LABELS: dict[IssuedDocumentStatus, str] = {
    IssuedDocumentStatus.valid: "有效 / valid",
    IssuedDocumentStatus.revoked: "已作废 / voided",
    IssuedDocumentStatus.superseded: "已被新文书取代 / superseded",
}
# Context fields a kind cannot be issued without (a refusal must state its reason: 书面说明理由).
REQUIRED_CONTEXT: dict[IssuedDocumentKind, tuple[str, ...]] = {
    IssuedDocumentKind.refusal_letter: ("reason",),
    IssuedDocumentKind.verification_request_letter: ("recipient",),
}
MAX_CONTEXT_TEXT = 2000

# What the case page offers to issue with one button, by case type, once the case is registered: kinds that need
# nothing but the case. (A refusal letter needs a written reason, a verification letter a recipient, and the 婚育证明
# has its own pages: those go through their own forms or the API.)
ISSUABLE_FROM_CASE: dict[str, tuple[IssuedDocumentKind, ...]] = {
    "first_child_registration": (IssuedDocumentKind.first_child_registration,),
}
GRANTED = frozenset({CaseOutcome.registered, CaseOutcome.completed})
PROOFS = frozenset({IssuedDocumentKind.first_child_registration, IssuedDocumentKind.marriage_birth_certificate})


def not_issuable_reason(case: Case, kind: IssuedDocumentKind) -> tuple[str, str] | None:
    """Why `kind` cannot be issued for the case as it stands (Chinese, English), or None when it can: a proof
    (证明) for a case closed without being granted, a refusal letter for a case granted, a verification letter for
    a closed case. An open case may have any kind."""
    if kind in PROOFS and case.stage is CaseStage.closed and case.outcome not in GRANTED:
        return "案件未予办理，不能出具证明", "the case was closed without being granted: no certificate for it"
    if kind is IssuedDocumentKind.refusal_letter and case.outcome in GRANTED:
        return "案件已予办理，不能出具不予办理说明", "the case was granted: no refusal letter for it"
    if kind is IssuedDocumentKind.verification_request_letter and case.stage is CaseStage.closed:
        return "案件已办结，不能再发协查函", "the case is closed: no verification letter for it"
    return None


def issuable_kinds(case: Case, issued: list[IssuedDocument]) -> tuple[IssuedDocumentKind, ...]:
    """The kinds the case page offers to issue for the case (one button each): not a proof it already holds."""
    if case.outcome != CaseOutcome.registered:
        return ()
    kinds = ISSUABLE_FROM_CASE.get(case.case_type, ())
    return tuple(kind for kind in kinds if not_issuable_reason(case, kind) is None and _held(issued, kind) is None)


def _held(issued: list[IssuedDocument], kind: IssuedDocumentKind) -> IssuedDocument | None:
    """The case's valid proof (证明) of `kind`, if it holds one: a case is granted one, not two."""
    if kind not in PROOFS:
        return None
    return next((row for row in issued if row.kind is kind and row.status is IssuedDocumentStatus.valid), None)


def verify_url(token: str) -> str:
    """The public verification page of a token: what the QR code encodes."""
    return f"{document_settings().public_base_url.rstrip('/')}/verify/{token}"


def issued_read(issued: IssuedDocument) -> IssuedDocumentRead:
    """The API's view of an issued document, with the address its QR code encodes."""
    fields = {name: getattr(issued, name) for name in IssuedDocumentRead.model_fields if name != "verify_url"}
    return IssuedDocumentRead(**fields, verify_url=verify_url(issued.verify_token))


# --- rendering -----------------------------------------------------------------------------------------------


def _environment(county_code: str) -> Environment:
    loaders = []
    county_dir = document_settings().document_templates_dir / county_code
    if county_dir.is_dir():
        loaders.append(FileSystemLoader(county_dir))
    loaders.append(FileSystemLoader(TEMPLATES_DIR / "issued"))
    # Lenient undefined: optional context fields (`context.notes`) simply print nothing.
    return Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True))


def _png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def qr_png(data: str) -> bytes:
    """A QR code of `data` as PNG (error correction M, enough for a printed, stamped page)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(data)
    code.make(fit=True)
    output = io.BytesIO()
    code.make_image().save(output)
    return output.getvalue()


def _seal(county_code: str) -> str | None:
    seal = document_settings().document_templates_dir / county_code / "seal.png"
    return _png_data_uri(seal.read_bytes()) if seal.is_file() else None


def weasyprint_module() -> ModuleType:
    """WeasyPrint, imported on first use (it is heavy: only the renderer's child process imports it). Importing
    it sets Pillow's process-wide `ImageFile.LOAD_TRUNCATED_IMAGES = True`, which would make upload checks
    (backend/documents/sniffing.py) accept truncated scans in every request after the first rendered PDF: it is
    set back at once. Our own templates and seals are whole images, so rendering loses nothing."""
    import weasyprint
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return weasyprint


# WeasyPrint keeps tens of MB per rendering (fonts, Pango layouts) that the process never gives back: renderings
# run in a child process replaced every few documents, never in the API or worker process (issue #20).
PDF_MEMORY_BYTES = 4 * 1024 * 1024 * 1024
PDF_RENDERS_PER_CHILD = 4
PDF_TIMEOUT_SECONDS = 120.0
_pdf_runner = IsolatedRunner(PDF_MEMORY_BYTES, tasks_per_child=PDF_RENDERS_PER_CHILD)


def html_to_pdf(html: str) -> bytes:
    """HTML (our own template, rendered) to PDF bytes; runs in the renderer's child process."""
    weasyprint = weasyprint_module()
    return bytes(weasyprint.HTML(string=html, base_url=str(TEMPLATES_DIR)).write_pdf())


def render_pdf(county_code: str, kind: IssuedDocumentKind, values: dict[str, Any]) -> bytes:
    """Render the county's template for `kind` to PDF bytes (blocking: call in a worker thread). The template is
    rendered here, the PDF in the renderer's child process; `RenderingUnavailable` if the child fails."""
    html = _environment(county_code).get_template(f"{kind.value}.html").render(**values)
    try:
        return _pdf_runner.run(html_to_pdf, html, timeout=PDF_TIMEOUT_SECONDS)
    except IsolatedWorkFailed:
        raise RenderingUnavailable() from None


# --- issuing -------------------------------------------------------------------------------------------------


def _clean_context(kind: IssuedDocumentKind, context: dict[str, Any]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for key, value in context.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise DocumentRejected("context", "字段名无效", f"invalid field name {key!r}")
        if value is None:
            continue
        if not isinstance(value, str | int | float | date):
            raise DocumentRejected(f"context.{key}", "应为文本", "expected text")
        text_value = value.isoformat() if isinstance(value, date) else str(value).strip()
        if len(text_value) > MAX_CONTEXT_TEXT:
            raise DocumentRejected(f"context.{key}", "内容过长", "too long")
        cleaned[key] = text_value
    for required in REQUIRED_CONTEXT.get(kind, ()):
        if not cleaned.get(required):
            raise DocumentRejected(f"context.{required}", "必填", f"{required} is required for this document")
    return cleaned


async def _case_in_reach(session: AsyncSession, principal: Principal, case_id: uuid.UUID, action: Action) -> Case:
    """The case if `action` on documents is allowed on its unit; the documents' 404 otherwise."""
    return await CaseRepository(session).get_in_reach(principal, action, case_id, not_found=OwnerNotFound())


async def _subject_names(session: AsyncSession, case: Case) -> list[str]:
    names = await CaseRepository(session).subject_names(case.id)
    if not names and case.primary_person_id is not None:
        person = await PersonRepository(session).get(case.primary_person_id)
        names = [person.name] if person else []
    return names


async def _issuing_unit(session: AsyncSession, case: Case) -> tuple[str, str]:
    """The township handling the case (or the county, for a case kept at county level)."""
    unit = await OrgUnitRepository(session).get_by_code(township_of(case.org_unit_code) or case.org_unit_code)
    if unit is not None:
        return unit.code, unit.name
    tenant = await TenantRepository(session).get(case.tenant_id)
    assert tenant is not None
    return tenant.code, tenant.name


async def _next_number(session: AsyncSession, county_code: str, kind: IssuedDocumentKind, issue_date: date) -> str:
    repository = DocumentRepository(session)
    # One issuer at a time per county: numbers are consecutive and the count below is then exact.
    await repository.lock_issuing(county_code)
    issued = await repository.count_issued(issue_date.year)
    return f"{county_code}-{issue_date.year}-{NUMBER_PREFIXES[kind]}{issued + 1:05d}"


async def issue_document(
    session: AsyncSession,
    principal: Principal,
    kind: IssuedDocumentKind,
    case_id: uuid.UUID,
    context: dict[str, Any],
    *,
    valid_until: date | None = None,
) -> IssuedDocument:
    """Issue a document of `kind` for a case: render the county's template with `context` (plus the case,
    the county and the issuing township), store the PDF as a document of the case, number it and register
    it. Needs `document.write` on the case's unit (404 outside reach). The 婚育证明 is valid three years;
    other kinds are valid until `valid_until` if given. Audited; flushes, never commits.

    `context` holds the kind's own fields as text: `reason` (required for refusal_letter), `recipient`
    (required for verification_request_letter), and any of `subject_name`, `details`, `notes`. A kind the case
    cannot have (`not_issuable_reason`) is refused naming `kind`.
    """
    cleaned = _clean_context(kind, context)
    case = await _case_in_reach(session, principal, case_id, Action.document_write)
    refused = not_issuable_reason(case, kind)
    if refused is not None:
        raise DocumentRejected("kind", *refused)
    held = _held(await DocumentRepository(session).issued_for_case(case.id), kind)
    if held is not None:
        raise DocumentRejected(
            "kind",
            f"本案已签发该证明（{held.number}），如需重新签发请先作废",
            f"the case already holds this certificate ({held.number}): void it to issue another",
        )
    tenant = await TenantRepository(session).get(case.tenant_id)
    assert tenant is not None
    issue_date = china_today()
    if kind is IssuedDocumentKind.marriage_birth_certificate:
        valid_until = valid_until_for(issue_date)
    if valid_until is not None and valid_until < issue_date:
        raise DocumentRejected("valid_until", "有效期不能早于签发日", "validity cannot end before the issue date")
    unit_code, unit_name = await _issuing_unit(session, case)
    number = await _next_number(session, tenant.code, kind, issue_date)
    token = f"{tenant.code}-{secrets.token_urlsafe(18)}"
    values: dict[str, Any] = {
        "county_name": tenant.name,
        "issuing_unit_name": unit_name,
        "kind_label": KIND_LABELS[kind],
        "number": number,
        "issue_date": issue_date,
        "valid_until": valid_until,
        "case_number": case.number,
        "case_title": case.title,
        "subject_names": await _subject_names(session, case),
        "context": cleaned,
        "qr": _png_data_uri(qr_png(verify_url(token))),
        "verify_url": verify_url(token),
        "seal": _seal(tenant.code),
    }
    pdf = await anyio.to_thread.run_sync(render_pdf, tenant.code, kind, values)
    issued_id = uuid.uuid4()

    # The register row, as far as it is known before the PDF is stored.
    entry = {"kind": kind, "number": number, "case_id": case.id, "verify_token": token, "issue_date": issue_date}
    entry |= {"issuing_unit_code": unit_code, "issuing_unit_name": unit_name, "valid_until": valid_until}

    async def register(document: Document) -> None:
        DocumentRepository(session).add(
            IssuedDocument(
                id=issued_id, tenant_id=tenant.id, document_id=document.id, status=IssuedDocumentStatus.valid, **entry
            )
        )
        await session.flush()
        changes = {"kind": kind.value, "number": number, "case_id": str(case.id), "document_id": str(document.id)}
        await _record(session, issued_id, case, "document.issue", changes)

    # The register row is written before the PDF object, which goes last (see store_document).
    file = NewFile(data=pdf, filename=f"{KIND_LABELS[kind]}-{number}.pdf")
    owner = kept_with(DocumentOwnerKind.case, case)
    await store_document(session, principal, **owner, kind=DocumentKind.issued, file=file, before_write=register)
    issued = await DocumentRepository(session).issued(issued_id)
    assert issued is not None
    return issued


async def case_register(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> list[IssuedDocument]:
    """The case's issued-documents register (`document.read` on the case's unit)."""
    await _case_in_reach(session, principal, case_id, Action.document_read)
    return await DocumentRepository(session).issued_for_case(case_id)


async def _issued_in_reach(
    session: AsyncSession, principal: Principal, issued_id: uuid.UUID
) -> tuple[IssuedDocument, Case]:
    """An issued document and its case, if the caller may write documents on the case's unit; 404 otherwise."""
    issued = await DocumentRepository(session).issued(issued_id)
    if issued is None:
        raise IssuedDocumentNotFound()
    return issued, await _case_in_reach(session, principal, issued.case_id, Action.document_write)


async def _record(
    session: AsyncSession, issued_id: uuid.UUID, case: Case, action: str, changes: dict[str, Any], reason: str = ""
) -> None:
    where: dict[str, Any] = {"entity_type": ENTITY_TYPE, "entity_id": issued_id, "org_unit_code": case.org_unit_code}
    await audit.record(session, action=action, changes=changes, reason=reason or None, **where)


async def revoke_issued(
    session: AsyncSession, principal: Principal, issued_id: uuid.UUID, reason: str
) -> IssuedDocument:
    """Revoke an issued document: its verification page says so from now on (audited)."""
    issued, case = await _issued_in_reach(session, principal, issued_id)
    if issued.status is not IssuedDocumentStatus.valid:
        raise DocumentRejected("status", "该文书已作废或被取代", "the document is already void or superseded")
    issued.status = IssuedDocumentStatus.revoked
    await session.flush()
    await _record(session, issued.id, case, "document.revoke", {"number": issued.number}, reason)
    return issued


async def supersede_issued(
    session: AsyncSession, principal: Principal, issued_id: uuid.UUID, replacement: IssuedDocument
) -> IssuedDocument:
    """Mark an issued document superseded by `replacement` (e.g. a renewed 婚育证明)."""
    issued, case = await _issued_in_reach(session, principal, issued_id)
    issued.status = IssuedDocumentStatus.superseded
    issued.superseded_by_id = replacement.id
    await session.flush()
    changes = {"number": issued.number, "superseded_by": replacement.number}
    await _record(session, issued.id, case, "document.supersede", changes)
    return issued


# --- public verification -----------------------------------------------------------------------------------


async def verify(session: AsyncSession, token: str) -> IssuedDocumentVerificationRead:
    """What the public page confirms about the document with this token; 404 for an unknown token."""
    county_code, dash, secret = token.partition("-")
    if not dash or not secret or len(token) > 80 or not county_code.isdigit():
        raise IssuedDocumentNotFound()
    tenant = await TenantRepository(session).get_by_code(county_code)
    if tenant is None:
        raise IssuedDocumentNotFound()
    await set_tenant(session, tenant.id)
    issued = await DocumentRepository(session).issued_by_token(token)
    if issued is None:
        raise IssuedDocumentNotFound()
    return IssuedDocumentVerificationRead(
        number=issued.number,
        kind=issued.kind,
        kind_label=KIND_LABELS[issued.kind],
        issuing_unit_name=issued.issuing_unit_name,
        issue_date=issued.issue_date,
        valid_until=issued.valid_until,
        status=issued.status,
    )
