"""The case detail page (person, stage and deadline countdown, alerts, verification requests, documents, issued
documents, assignment, actions, timeline), shared by every route that shows it: the case's own routes
(frontend/pages/cases.py), its documents (frontend/pages/documents.py) and its verification requests, which show it
again with a refused form's errors next to the fields.

Each panel shows only when the user holds the permission for it on the case's unit. Same services and checks as
/api/v1/cases, /api/v1/documents and /api/v1/verification.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.case_types.service import effective_case_type
from backend.cases import service, views
from backend.cases.timeline import case_timeline
from backend.core.temporal import temporal_client
from backend.documents import issuing
from backend.documents import service as documents
from backend.entrustments import service as entrustments
from backend.models import Case, DocumentKind, QuestionType
from backend.verification.repository import VerificationFilters, VerificationRepository
from frontend.pages.common import case_type_labels, unit_names, users_by_id, working_days_left
from frontend.rendering import render
from workflows.cases.types import case_workflow_id_for

UPLOAD_KINDS = [kind for kind in DocumentKind if kind is not DocumentKind.issued]


async def _panels(session: AsyncSession, principal: Principal, case: Case) -> dict[str, Any]:
    """The case's verification requests (with the form that sends one), its documents (with the upload form) and
    its issued documents (with the buttons of what it may issue)."""
    unit = case.org_unit_code
    can_verify = principal.can(Action.verification_request, unit) and principal.can(Action.case_write, unit)
    verifications: list[Any] = []
    if can_verify:
        filters = VerificationFilters(roots=principal.scopes_for(Action.verification_request), case_id=case.id)
        verifications, _total = await VerificationRepository(session).outbox(filters, offset=0, limit=100)
    can_read_documents = principal.can(Action.document_read, unit)
    case_documents: list[Any] = []
    issued_rows: list[Any] = []
    if can_read_documents:
        case_documents = await documents.case_documents(session, principal, case)
        issued_rows = await issuing.case_register(session, principal, case.id)
    return {
        "can_verify": can_verify,
        "verifications": verifications,
        "question_types": list(QuestionType),
        "can_read_documents": can_read_documents,
        "can_write_documents": principal.can(Action.document_write, unit),
        "documents": case_documents,
        "upload_kinds": UPLOAD_KINDS,
        "issued": [issuing.issued_read(row) for row in issued_rows],
        "issuable": issuing.issuable_kinds(case, issued_rows),
        "issued_labels": issuing.KIND_LABELS,
        **await _entrustment_panel(session, principal, case),
    }


async def _entrustment_panel(session: AsyncSession, principal: Principal, case: Case) -> dict[str, Any]:
    """The case's hand-overs to other townships (委托) and, for its township's workers, where it may go."""
    rows = await entrustments.case_entrustments(session, case)
    can_entrust = entrustments.may_entrust(principal, case)
    targets = await entrustments.receiving_townships(session, case) if can_entrust else []
    return {
        "entrustments": rows,
        "entrustment_pending": any(row.state == "pending" for row in rows),
        "can_entrust": can_entrust,
        "entrust_targets": [(unit.code, f"{unit.name}（{unit.code}）") for unit in targets],
    }


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


async def _chain(session: AsyncSession, principal: Principal, case: Case, view: views.CaseView) -> dict[str, Any]:
    """The case type's signature steps with their signatures, and whether the caller may sign the pending one (she
    holds its permission and signed no other step of the case)."""
    definition = await effective_case_type(session, case.case_type)
    by_step = {signoff.step: signoff for signoff in view.signoffs}
    pending = view.pending_step
    signed_by_me = any(str(signoff.signer_id) == principal.id for signoff in view.signoffs)
    return {
        "chain": [(step, by_step.get(step.key)) for step in definition.signoffs],
        "pending_step": pending,
        "signed_by_me": signed_by_me,
        "can_sign": pending is not None
        and not signed_by_me
        and principal.can(Action.case_write, case.org_unit_code)
        and principal.can(pending.action, case.org_unit_code),
    }


async def detail_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The case page (404 outside the caller's reach), with a refused form's errors when given, and what became
    of the action just requested (`?action=<request id>`)."""
    case = await service.get_case(session, principal, case_id, Action.case_read)
    action_id = _uuid(request.query_params.get("action", ""))
    outcome = await views.action_outcome(session, case, action_id) if action_id else None
    view = await views.case_view(session, case)
    users = await users_by_id(session, principal, Action.case_read)
    timeline = await case_timeline(session, await temporal_client(request), case, case_workflow_id_for(case))
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "people": await views.readable_subjects(session, principal, view),
            "links": view.links,
            "assignee": users.get(case.assignee_id) if case.assignee_id else None,
            "days_left": await working_days_left(session, case.due_at),
            **await _chain(session, principal, case, view),
            "notify_clock": view.notify_clock,
            "notify_days_left": await working_days_left(
                session, view.notify_clock.due_at if view.notify_clock and view.notify_clock.missing else None
            ),
            "timeline": timeline,
            "can_write": principal.can(Action.case_write, case.org_unit_code),
            "can_assign": principal.can(Action.case_assign, case.org_unit_code),
            "assignee_options": [
                (str(user.id), f"{user.display_name}（{user.username}）")
                for user in await views.assignees_for_case(session, case)
            ],
            "alerts": view.alerts,
            "actions": await views.offered_actions(session, principal, case),
            "action_id": action_id if outcome is not None else None,
            "outcome": outcome,
            "unit_names": await unit_names(session),
            "type_labels": await case_type_labels(session),
            **await _panels(session, principal, case),
            "errors": errors or {},
            "notice": notice,
        },
        status_code=status_code,
    )
