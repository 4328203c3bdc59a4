"""Data review pages (三级把关, seeds-spec P25): the village entries waiting for the township (and those decided),
one entry with what was entered and the confirm / send-back forms, and the administrator's switch of the county
rule. Same services and checks as /api/v1/entry-reviews and /api/v1/county-settings."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.county_settings import service as settings
from backend.county_settings.auth import SettingsManage
from backend.county_settings.schemas import CountySettingsUpdate
from backend.data_review import service
from backend.data_review.auth import EntriesConfirm, EntriesRead
from backend.data_review.schemas import EntryConfirm, EntryReject
from backend.db.session import SessionDep
from backend.models import EntryState
from frontend.forms import Form, FormView
from frontend.pages.common import page_count
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25


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
