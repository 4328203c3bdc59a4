"""Cross-county verification pages: the township's inbox (answer, send back with a reason, claim, assign, record a
request that came by letter, fax or phone from a county not on the platform) and outbox (withdraw, record the
answer of an off-platform county), paged by 50 with the filters kept, and the form on the case detail page that
sends a request. Same services and checks as /api/v1/verification; every form goes through frontend/forms.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.cases.views import resident_id_hash
from backend.core.clock import CHINA, utc_now
from backend.db.engine import Database
from backend.db.session import SessionDep, get_database
from backend.documents.service import NewFile
from backend.models import QuestionType, VerificationKind, VerificationRequest, VerificationState
from backend.org import service as org
from backend.verification import service
from backend.verification.auth import VerificationAnswer, VerificationAssign, VerificationSend
from backend.verification.records import subject_resident_ids_shown
from backend.verification.repository import VerificationFilters, VerificationRepository
from backend.verification.schemas import (
    NOTICE_QUESTION_TYPES,
    AnswerBody,
    AssignBody,
    IncomingCreate,
    ReasonBody,
    RecordedAnswer,
    RejectBody,
    VerificationCreate,
    kind_for,
)
from frontend.forms import FieldErrors, Form
from frontend.pages.common import page_count, page_number, users_by_id
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
_ID_LIKE = re.compile(r"^[0-9]{15,17}[0-9Xx]?$")
DatabaseDep = Annotated[Database, Depends(get_database)]
PAGE_SIZE = 50
INVALID = "输入无效 / invalid value"
# Every refusal of these forms has the one wording; the sending form names the top-level field, the others the
# whole path ("reply.sent_at").
ONE_WORDING: dict[str, Any] = {"missing": INVALID, "invalid_format": INVALID}
WHOLE_PATH: dict[str, Any] = {**ONE_WORDING, "depth": None}
# Channels of a county not on the platform, in the order the forms offer them.
OFF_PLATFORM_CHANNELS = ("registered_mail", "letter", "fax", "phone")
REPLY_FIELDS = ("reply_channel", "reply_sent_at", "reply_evidence")
INCOMING_FIELDS = (
    "responder_unit_code",
    "requester_unit_name",
    "requester_division_code",
    "requester_reference",
    "subject_name",
    "subject_resident_id",
    "question_type",
    "question",
    "channel",
    "sent_at",
    "arrived_at",
    "evidence",
)

Again = Callable[[dict[str, str]], Awaitable[HTMLResponse]]
Shape = Callable[[dict[str, str]], dict[str, str]]
Rows = Callable[..., Awaitable[tuple[list[VerificationRequest], int]]]


def _china_time(value: str) -> datetime | None:
    """A `datetime-local` field (no zone) is China time."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def _at_top(prefix: str) -> Shape:
    """A form's refusal that belongs to no field (`<prefix>form`) goes to the top of the page ("form")."""
    return lambda errors: {("form" if key == f"{prefix}form" else key): message for key, message in errors.items()}


def _reply(values: Mapping[str, str]) -> dict[str, Any] | None:
    """The reply fields of an answer to an off-platform county (how it went back), if any were given."""
    if not any(values[name] for name in REPLY_FIELDS):
        return None
    return {
        "channel": values["reply_channel"],
        "sent_at": _china_time(values["reply_sent_at"]),
        "evidence": values["reply_evidence"] or None,
    }


async def _listing(request: Request, rows_of: Rows, filters: VerificationFilters) -> dict[str, Any]:
    """What the inbox and the outbox show alike: one page of rows, the paging, the list's own query for the page
    links (without the one-off notices)."""
    params = dict(request.query_params)
    page = page_number(params.get("page"))
    rows, total = await rows_of(filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": page_count(total, PAGE_SIZE),
        "params": {key: value for key, value in params.items() if key not in ("done", "page")},
        "now": utc_now(),
        "channels": OFF_PLATFORM_CHANNELS,
    }


def _state(value: str) -> VerificationState | None:
    return VerificationState(value) if value in VerificationState.__members__ else None


def _search(request: Request, roots: list[str], default_state: str) -> tuple[VerificationFilters, dict[str, str]]:
    """The list's search box and filters: a number, part of a name or an ID number (`q`), the kind and the state."""
    params = request.query_params
    q = params.get("q", "").strip()[:40]
    kind = params.get("kind", "")
    state = params.get("state", default_state)
    by_id = bool(_ID_LIKE.match(q))
    filters = VerificationFilters(
        roots=roots,
        state=_state(state),
        kind=VerificationKind(kind) if kind in VerificationKind.__members__ else None,
        text=q if q and not by_id else None,
        resident_id_hash=resident_id_hash(q) if by_id else None,
    )
    return filters, {"q": q, "kind": kind, "state": state}


def _back(request: Request, done: str, row_id: uuid.UUID) -> str:
    """The list the officer came from (its search and filters), with what was done, at the row she acted on."""
    kept = {key: value for key, value in request.query_params.items() if key in ("q", "kind", "state", "page")}
    return f"{request.url.path.rsplit('/', 2)[0]}?{urlencode({**kept, 'done': done})}#row-{row_id}"


async def _assignee_options(session: AsyncSession, principal: Principal) -> list[tuple[str, str]]:
    """Active users under the units where the caller may assign work (supervisors); the service then refuses
    anyone who cannot answer for the request's township, with a message."""
    if not principal.holds(Action.case_assign):
        return []
    users = await users_by_id(session, principal, Action.case_assign)
    ordered = sorted((user for user in users.values() if user.active), key=lambda user: user.username)
    return [(str(user.id), f"{user.display_name}（{user.username}）") for user in ordered]


@dataclass(frozen=True, slots=True)
class Refused:
    """A refused form shown again (422): its errors, the row whose form it was, the values of the incoming form."""

    errors: dict[str, str]
    failed_id: str | None = None
    incoming: dict[str, str] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        """What the list templates read of it."""
        return {"errors": self.errors, "failed_id": self.failed_id}


async def _inbox_page(
    request: Request, session: AsyncSession, principal: Principal, refused: Refused | None = None
) -> HTMLResponse:
    filters, search = _search(request, principal.scopes_for(Action.verification_answer), "pending")
    state = search["state"]
    listing = await _listing(request, VerificationRepository(session).inbox, filters)
    rows: list[VerificationRequest] = listing["rows"]
    # The townships the caller answers for: where an incoming letter can be recorded.
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.verification_answer))
    shown = refused or Refused({})
    return render(
        request,
        "verification/inbox.html",
        {
            **listing,
            **shown.context(),
            "state": state,
            "search": search,
            # In full for the officer who checks the registry, each read audited (verification.view_identifiers).
            "resident_ids": await subject_resident_ids_shown(session, rows, responder=True),
            "me": uuid.UUID(principal.id) if principal.kind == "user" else None,
            "assignable_ids": {row.id for row in rows if principal.can(Action.case_assign, row.responder_unit_code)},
            "assignee_options": await _assignee_options(session, principal),
            "townships": [(unit.code, unit.name) for unit in units if len(unit.code) == 9],
            "incoming": shown.incoming,
            "incoming_errors": {
                key.removeprefix("incoming_"): message
                for key, message in shown.errors.items()
                if key.startswith("incoming_")
            },
        },
        status_code=422 if refused else 200,
    )


def _inbox_again(
    request: Request, session: AsyncSession, principal: Principal, row_id: uuid.UUID, shape: Shape | None = None
) -> Again:
    """The inbox again, the refused form's errors at the row it belongs to."""
    return lambda errors: _inbox_page(
        request, session, principal, Refused(shape(errors) if shape else errors, str(row_id))
    )


@router.get("/verification/inbox", response_class=HTMLResponse)
async def inbox(request: Request, session: SessionDep, principal: VerificationAnswer) -> HTMLResponse:
    return await _inbox_page(request, session, principal)


@router.post("/verification/inbox/{request_id}/answer", response_class=HTMLResponse)
async def answer(
    request: Request, session: SessionDep, principal: VerificationAnswer, request_id: uuid.UUID
) -> Response:
    row = await service.get_as_responder(session, principal, request_id)
    form = await Form.read(request, ("answer", *REPLY_FIELDS))
    form.messages["answer"] = "请填写反馈内容（至少 2 个字）/ write the answer (2 characters or more)"
    return await form.submit(
        session,
        AnswerBody,
        lambda body: service.answer(session, row, body),
        data={"answer": form.values["answer"], "reply": _reply(form.values)},
        done=_back(request, "answered", row.id),
        again=_inbox_again(request, session, principal, row.id),
        **WHOLE_PATH,
    )


@router.post("/verification/inbox/{request_id}/reject", response_class=HTMLResponse)
async def reject(
    request: Request, session: SessionDep, principal: VerificationAnswer, request_id: uuid.UUID
) -> Response:
    row = await service.get_as_responder(session, principal, request_id)
    form = await Form.read(request, ("reason", *REPLY_FIELDS))
    form.messages["reason"] = "退回须写明理由 / a reason is required to send it back"
    return await form.submit(
        session,
        RejectBody,
        lambda body: service.reject(session, row, body.reason, body.reply),
        data={"reason": form.values["reason"], "reply": _reply(form.values)},
        done=_back(request, "rejected", row.id),
        again=_inbox_again(request, session, principal, row.id),
        **WHOLE_PATH,
    )


@router.post("/verification/inbox/{request_id}/claim", response_class=HTMLResponse)
async def claim(
    request: Request, session: SessionDep, principal: VerificationAnswer, request_id: uuid.UUID
) -> Response:
    """Assign an incoming request to myself (认领)."""
    row = await service.get_as_responder(session, principal, request_id)
    claimed = await Form({}).run(session, lambda: service.claim(session, principal, row))
    if isinstance(claimed, FieldErrors):
        return await _inbox_again(request, session, principal, row.id)({"form": next(iter(claimed.values()))})
    return RedirectResponse(_back(request, "claimed", row.id), status_code=303)


@router.post("/verification/inbox/{request_id}/assign", response_class=HTMLResponse)
async def assign(
    request: Request, session: SessionDep, principal: VerificationAssign, request_id: uuid.UUID
) -> Response:
    """Give an incoming request to an officer of the township (指派), or back to its queue (empty choice)."""
    row = await service.get_to_assign(session, principal, request_id)
    form = await Form.read(request, ("assignee_id",))
    form.messages["assignee_id"] = "请选择办理人 / choose an officer"
    return await form.submit(
        session,
        AssignBody,
        lambda body: service.assign(session, principal, row, body.assignee_id),
        data={"assignee_id": form.values["assignee_id"] or None},
        done=_back(request, "assigned", row.id),
        again=_inbox_again(request, session, principal, row.id, lambda errors: {"assign": next(iter(errors.values()))}),
    )


@router.post("/verification/incoming", response_class=HTMLResponse)
async def record_incoming(
    request: Request, session: SessionDep, database: DatabaseDep, principal: VerificationAnswer
) -> Response:
    """Record a request that came by letter, registered mail, fax or phone from a county not on the platform,
    with the scan of the letter or fax uploaded in the same form."""
    form = await Form.read(request, INCOMING_FIELDS, prefix="incoming_")
    upload = (await request.form()).get("evidence_file")
    scan = None
    if isinstance(upload, UploadFile) and upload.filename:
        scan = NewFile(data=await upload.read(), filename=upload.filename)

    def shown(errors: dict[str, str]) -> dict[str, str]:
        # The scan's refusal is shown at the file field.
        shaped = _at_top("incoming_")(errors)
        if "incoming_file" in shaped:
            shaped["incoming_evidence_document_id"] = shaped.pop("incoming_file")
        return shaped

    return await form.submit(
        session,
        IncomingCreate,
        lambda body: service.record_incoming(session, database, principal, body, scan),
        data=form.given(sent_at=_china_time(form.values["sent_at"]), arrived_at=_china_time(form.values["arrived_at"])),
        done="/verification/inbox?done=recorded",
        again=lambda errors: _inbox_page(request, session, principal, Refused(shown(errors), incoming=form.values)),
        not_found=form.errors_of,
        **WHOLE_PATH,
    )


async def _outbox_page(
    request: Request, session: AsyncSession, principal: Principal, refused: Refused | None = None
) -> HTMLResponse:
    filters, search = _search(request, principal.scopes_for(Action.verification_request), "")
    return render(
        request,
        "verification/outbox.html",
        {
            **await _listing(request, VerificationRepository(session).outbox, filters),
            **(refused or Refused({})).context(),
            "state": search["state"],
            "search": search,
            "can_answer": principal.holds(Action.verification_answer),
        },
        status_code=422 if refused else 200,
    )


def _outbox_again(
    request: Request, session: AsyncSession, principal: Principal, row_id: uuid.UUID, prefix: str
) -> Again:
    """The outbox again, the refused form's errors at the row it belongs to."""
    return lambda errors: _outbox_page(request, session, principal, Refused(_at_top(prefix)(errors), str(row_id)))


@router.get("/verification/outbox", response_class=HTMLResponse)
async def outbox(request: Request, session: SessionDep, principal: VerificationSend) -> HTMLResponse:
    return await _outbox_page(request, session, principal)


@router.post("/verification/outbox/{request_id}/withdraw", response_class=HTMLResponse)
async def withdraw(
    request: Request, session: SessionDep, principal: VerificationSend, request_id: uuid.UUID
) -> Response:
    row = await service.get_as_requester(session, principal, request_id)
    form = await Form.read(request, ("reason",), prefix="withdraw_")
    form.messages["reason"] = "撤回须写明理由 / a reason is required to withdraw"
    return await form.submit(
        session,
        ReasonBody,
        lambda body: service.withdraw(session, row, body.reason),
        done=_back(request, "withdrawn", row.id),
        again=_outbox_again(request, session, principal, row.id, "withdraw_"),
    )


@router.post("/verification/outbox/{request_id}/answer", response_class=HTMLResponse)
async def record_answer(
    request: Request, session: SessionDep, principal: VerificationSend, request_id: uuid.UUID
) -> Response:
    """Record the answer of an off-platform county to one of our requests, as it arrived by letter, fax or
    phone."""
    row = await service.get_as_requester(session, principal, request_id)
    form = await Form.read(request, ("answer", "channel", "arrived_at"), prefix="recorded_")
    return await form.submit(
        session,
        RecordedAnswer,
        lambda body: service.record_answer(session, row, body),
        data={**form.values, "arrived_at": _china_time(form.values["arrived_at"])},
        done=_back(request, "recorded", row.id),
        again=_outbox_again(request, session, principal, row.id, "recorded_"),
        **WHOLE_PATH,
    )


@router.post("/cases/{case_id}/verification", response_class=HTMLResponse)
async def send_request(
    request: Request, session: SessionDep, database: DatabaseDep, principal: VerificationSend, case_id: uuid.UUID
) -> Response:
    """Send a request (协查) about a subject of the case to the township of her household registration; a notice
    (通报) when the question type announces a result (a first-child registration, a re-birth approval)."""
    from frontend.pages.cases import detail_page  # the case page shows the refused form again

    form = await Form.read(request, ("person_id", "question_type", "question"), prefix="verification_")
    notice = form.values["question_type"] in NOTICE_QUESTION_TYPES
    # A re-birth approval's result goes to the residence place (P05); everything else to the registration place.
    place = {"place": "residence"} if form.values["question_type"] == QuestionType.rebirth_approval else {}
    return await form.submit(
        session,
        VerificationCreate,
        lambda body: service.send(session, database, principal, body, kind_for(body.question_type)),
        data=form.given(case_id=case_id, **place),
        done=f"/cases/{case_id}?{'notice' if notice else 'verification'}=sent#verification-title",
        again=lambda errors: detail_page(
            request, session, principal, case_id, errors=_at_top("verification_")(errors), status_code=422
        ),
        **ONE_WORDING,
    )
