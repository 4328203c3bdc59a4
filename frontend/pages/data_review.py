"""Data review pages (三级把关, seeds-spec P25): the village entries waiting for the township (and those decided),
one entry with what was entered and the confirm / send-back forms, the administrator's switch of the county rule,
and the monthly random re-check lists (倒查): draw one, record each finding. Same services and checks as
/api/v1/entry-reviews, /api/v1/rechecks and /api/v1/county-settings."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.county_settings import service as settings
from backend.county_settings.auth import SettingsManage
from backend.county_settings.schemas import CountySettingsUpdate
from backend.data_review import rechecks, service
from backend.data_review.auth import EntriesConfirm, EntriesRead
from backend.data_review.schemas import EntryConfirm, EntryReject, RecheckDraw, RecheckFindingCreate
from backend.db.session import SessionDep
from backend.models import EntryState, RecheckFinding
from backend.org import service as org
from backend.persons import service as persons
from frontend.forms import Form, FormView
from frontend.pages.common import page_count
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
# The fields a re-check most often corrects, offered on the page (the API takes any field of the registry).
CORRECTABLE = ("residence_address", "phone", "landlord_or_employer", "notes")


@router.get("/entry-reviews", response_class=HTMLResponse)
async def entry_list(
    request: Request,
    session: SessionDep,
    principal: EntriesRead,
    state: str = "pending",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    chosen = EntryState(state) if state in EntryState.__members__ else None
    entries, total = await service.list_entries(
        session, principal, chosen, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render(
        request,
        "data_review/list.html",
        {
            "entries": entries,
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "params": {"state": state},
        },
    )


async def _detail(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    review_id: uuid.UUID,
    form: FormView | None = None,
) -> HTMLResponse:
    entry = await service.get_entry(session, principal, review_id)
    return render(
        request,
        "data_review/detail.html",
        {"entry": entry, "can_confirm": principal.can(Action.entry_confirm, entry.org_unit_code)},
        form=form or FormView(),
    )


@router.get("/entry-reviews/{review_id}", response_class=HTMLResponse)
async def entry_detail(
    request: Request, session: SessionDep, principal: EntriesRead, review_id: uuid.UUID
) -> HTMLResponse:
    return await _detail(request, session, principal, review_id)


@router.post("/entry-reviews/{review_id}/confirm", response_class=HTMLResponse)
async def confirm(request: Request, session: SessionDep, principal: EntriesConfirm, review_id: uuid.UUID) -> Response:
    form = await Form.read(request, ("version",))
    return await form.submit(
        session,
        EntryConfirm,
        lambda body: service.confirm_entry(session, principal, review_id, body),
        done=f"/entry-reviews/{review_id}?done=confirmed",
        again=lambda errors: _detail(request, session, principal, review_id, form.view(errors)),
    )


@router.post("/entry-reviews/{review_id}/reject", response_class=HTMLResponse)
async def reject(request: Request, session: SessionDep, principal: EntriesConfirm, review_id: uuid.UUID) -> Response:
    form = await Form.read(request, ("version", "reason"))
    return await form.submit(
        session,
        EntryReject,
        lambda body: service.reject_entry(session, principal, review_id, body),
        done=f"/entry-reviews/{review_id}?done=rejected",
        again=lambda errors: _detail(request, session, principal, review_id, form.view(errors)),
    )


async def _settings_page(request: Request, session: AsyncSession, form: FormView | None = None) -> HTMLResponse:
    current = await settings.read_settings(session)
    return render(request, "data_review/settings.html", {"current": current}, form=form or FormView())


@router.get("/admin/data-review", response_class=HTMLResponse)
async def settings_page(request: Request, session: SessionDep, principal: SettingsManage) -> HTMLResponse:
    return await _settings_page(request, session)


@router.post("/admin/data-review", response_class=HTMLResponse)
async def save_settings(request: Request, session: SessionDep, principal: SettingsManage) -> Response:
    form = await Form.read(request, ("version",), lists=("village_entries_need_confirmation",))
    current = (await settings.read_settings(session)).model_dump(mode="json", exclude={"version"})
    data: dict[str, Any] = {
        **current,
        **form.given("version"),
        "village_entries_need_confirmation": bool(form.values["village_entries_need_confirmation"]),
    }
    return await form.submit(
        session,
        CountySettingsUpdate,
        lambda body: settings.update_settings(session, principal, body),
        data=data,
        done="/admin/data-review?done=saved",
        again=lambda errors: _settings_page(request, session, form.view(errors)),
    )


async def _village_options(session: AsyncSession, principal: Principal) -> list[tuple[str, str]]:
    units = await org.list_units_in_scopes(session, principal.scopes_for(Action.entry_confirm))
    return [(unit.code, f"{unit.name}（{unit.code}）") for unit in units if unit.active and len(unit.code) == 12]


async def _recheck_list_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    month: str,
    page: int,
    form: FormView | None = None,
) -> HTMLResponse:
    valid_month = month if MONTH.fullmatch(month) else ""
    lists, total = await rechecks.list_rechecks(
        session, principal, valid_month or None, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render(
        request,
        "data_review/rechecks.html",
        {
            "lists": lists,
            "total": total,
            "page": page,
            "pages": page_count(total, PAGE_SIZE),
            "params": {"month": valid_month},
            "this_month": f"{china_today():%Y-%m}",
            "villages": await _village_options(session, principal) if principal.holds(Action.entry_confirm) else [],
        },
        form=form or FormView(),
    )


@router.get("/rechecks", response_class=HTMLResponse)
async def recheck_lists(
    request: Request,
    session: SessionDep,
    principal: EntriesRead,
    month: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    return await _recheck_list_page(request, session, principal, month, page)


@router.post("/rechecks", response_class=HTMLResponse)
async def draw(request: Request, session: SessionDep, principal: EntriesConfirm) -> Response:
    form = await Form.read(request, ("org_unit_code", "month"))
    return await form.submit(
        session,
        RecheckDraw,
        lambda body: rechecks.draw_list(session, principal, body),
        not_found=lambda _: {"org_unit_code": "请选择您管理范围内的村（居）/ choose a village within your reach"},
        done=lambda drawn: f"/rechecks/{drawn.id}?done=drawn",
        again=lambda errors: _recheck_list_page(request, session, principal, "", 1, form.view(errors)),
    )


async def _recheck_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    list_id: uuid.UUID,
    form: FormView | None = None,
) -> HTMLResponse:
    recheck = await rechecks.get_recheck(session, principal, list_id)
    return render(
        request,
        "data_review/recheck.html",
        {"recheck": recheck, "can_record": principal.can(Action.entry_confirm, recheck.org_unit_code)},
        form=form or FormView(),
    )


@router.get("/rechecks/{list_id}", response_class=HTMLResponse)
async def recheck_detail(
    request: Request, session: SessionDep, principal: EntriesRead, list_id: uuid.UUID
) -> HTMLResponse:
    return await _recheck_page(request, session, principal, list_id)


@router.post("/rechecks/{list_id}/items/{item_id}", response_class=HTMLResponse)
async def record_finding(
    request: Request, session: SessionDep, principal: EntriesConfirm, list_id: uuid.UUID, item_id: uuid.UUID
) -> Response:
    form = await Form.read(request, ("version", "finding", "note", "person_id", *CORRECTABLE))
    corrections: dict[str, Any] = {name: form.values[name] for name in CORRECTABLE if form.values[name]}
    if form.values["finding"] == RecheckFinding.corrected and corrections:
        person = await persons.person_in_reach(
            session, principal, uuid.UUID(form.values["person_id"]), Action.person_write
        )
        corrections["version"] = person.version
    data = form.given("version", "finding", "note")
    if corrections:
        data["corrections"] = corrections
    return await form.submit(
        session,
        RecheckFindingCreate,
        lambda body: rechecks.record_finding(session, principal, list_id, item_id, body),
        data=data,
        done=f"/rechecks/{list_id}?done=recorded",
        again=lambda errors: _recheck_page(request, session, principal, list_id, form.view(errors)),
    )
