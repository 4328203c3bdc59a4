"""Follow-up pages (随访): the open follow-ups in reach with the return-home form (返乡登记), one follow-up with its
visit form, 随访服务率 per unit, and the county's frequencies (随访与三查频次, for its administrators). Same services
as /api/v1/followups (checked and audited there)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.pagination import PageParams
from backend.db.session import SessionDep
from backend.followups import config, visits
from backend.followups.auth import RulesConfigure, ServiceRead, ServiceWrite
from backend.followups.repository import VisitFilters
from backend.followups.schemas import FollowUpRulesUpdate, ReturnCreate, VisitCreate
from frontend.forms import Form, FormView
from frontend.pages.common import page_count, page_number
from frontend.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
VISIT_FIELDS = (
    "visited_on",
    "method",
    "pregnancy",
    "contraception_measure",
    "procedure_effective",
    "side_effects",
    "advice",
)
# The settings page's numbers and switches (the months after a procedure are typed as "1,3,6,12").
RULE_NUMBERS = (
    "check_rounds_per_year",
    "key_subject_check_rounds_per_year",
    "check_round_grace_days",
    "missed_rounds_before_visit",
    "missed_checks_visit_days",
    "pill_user_visit_months",
    "postpartum_visit_days",
    "returned_migrant_visit_days",
    "inspection_interval_days",
    "renewal_lead_days",
    "min_age",
    "max_age",
)
RULE_SWITCHES = (
    "check_rounds_enabled",
    "pill_user_visits_enabled",
    "post_procedure_visits_enabled",
    "postpartum_visit_enabled",
    "returned_migrant_visits_enabled",
    "mail_back_enabled",
)


async def _list_page(
    request: Request, session: AsyncSession, principal: Principal, form: FormView | None = None
) -> HTMLResponse:
    show_all = request.query_params.get("all") == "1"
    number = page_number(request.query_params.get("page"))
    items, total = await visits.list_followups(
        session, principal, VisitFilters(open_only=not show_all), PageParams(page=number, size=PAGE_SIZE)
    )
    context = {
        "items": items,
        "total": total,
        "show_all": show_all,
        "page": number,
        "pages": page_count(total, PAGE_SIZE),
        "params": dict(request.query_params),
        "can_write": principal.holds(Action.service_write),
    }
    return render(request, "followups/list.html", context, form=form or FormView())


@router.get("/followups", response_class=HTMLResponse)
async def followup_list(request: Request, session: SessionDep, principal: ServiceRead) -> HTMLResponse:
    return await _list_page(request, session, principal)


@router.post("/followups/returns", response_class=HTMLResponse)
async def record_return(request: Request, session: SessionDep, principal: ServiceWrite) -> Response:
    form = await Form.read(request, ("resident_id", "returned_on"))
    return await form.submit(
        session,
        ReturnCreate,
        lambda body: visits.record_return(session, principal, body),
        done=lambda item: f"/followups/{item.case_id}?done=returned",
        again=lambda errors: _list_page(request, session, principal, form.view(errors)),
    )


@router.get("/followups/rates", response_class=HTMLResponse)
async def rates(
    request: Request,
    session: SessionDep,
    principal: ServiceRead,
    due_from: date | None = None,
    due_to: date | None = None,
) -> HTMLResponse:
    found = await visits.followup_rates(session, principal, due_from, due_to)
    return render(request, "followups/rates.html", {"rates": found, "due_from": due_from, "due_to": due_to})


@router.get("/admin/followup-rules", response_class=HTMLResponse)
async def rules_page(request: Request, session: SessionDep, principal: RulesConfigure) -> HTMLResponse:
    return await _rules_page(request, session)


async def _rules_page(request: Request, session: AsyncSession, form: FormView | None = None) -> HTMLResponse:
    current = await config.get_rules(session)
    return render(
        request,
        "followups/rules.html",
        {"rules": current, "numbers": RULE_NUMBERS, "switches": RULE_SWITCHES},
        form=form or FormView(),
    )


@router.post("/admin/followup-rules", response_class=HTMLResponse)
async def save_rules(request: Request, session: SessionDep, principal: RulesConfigure) -> Response:
    form = await Form.read(request, (*RULE_NUMBERS, "post_procedure_visit_months", "version"), lists=RULE_SWITCHES)
    current = (await config.get_rules(session)).model_dump(exclude={"overridden_fields", "version"})
    months = [part.strip() for part in form.values["post_procedure_visit_months"].replace("，", ",").split(",")]
    data: dict[str, Any] = {
        **current,
        **form.given(*RULE_NUMBERS, "version"),
        **{switch: bool(form.values[switch]) for switch in RULE_SWITCHES},
        "post_procedure_visit_months": [part for part in months if part],
    }
    return await form.submit(
        session,
        FollowUpRulesUpdate,
        lambda body: config.save_rules(session, principal, body),
        data=data,
        done="/admin/followup-rules?done=saved",
        again=lambda errors: _rules_page(request, session, form.view(errors)),
    )


async def _followup_page(
    request: Request, session: AsyncSession, principal: Principal, case_id: uuid.UUID, form: FormView | None = None
) -> HTMLResponse:
    case = await visits.followup_case(session, principal, case_id, Action.service_read)
    context = {
        "item": visits.item_of(case),
        "details": case.details,
        "visit": await visits.visit_of(session, case),
        "can_write": principal.can(Action.service_write, case.org_unit_code),
    }
    return render(request, "followups/detail.html", context, form=form or FormView())


@router.get("/followups/{case_id}", response_class=HTMLResponse)
async def followup_detail(
    request: Request, session: SessionDep, principal: ServiceRead, case_id: uuid.UUID
) -> Response:
    return await _followup_page(request, session, principal, case_id)


@router.post("/followups/{case_id}/visit", response_class=HTMLResponse)
async def record_visit(request: Request, session: SessionDep, principal: ServiceWrite, case_id: uuid.UUID) -> Response:
    form = await Form.read(request, VISIT_FIELDS)
    return await form.submit(
        session,
        VisitCreate,
        lambda body: visits.record_visit(session, principal, case_id, body),
        done=f"/followups/{case_id}?done=visited",
        again=lambda errors: _followup_page(request, session, principal, case_id, form.view(errors)),
    )
