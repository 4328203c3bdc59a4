"""Two-way assessment pages (双向考核): the year's scheme, the scores given to counterpart counties (live, and
published), the scores received with their contests, and the townships' ranking. Same services as
/api/v1/assessments."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import china_today
from backend.db.session import SessionDep
from backend.reports import assessments
from backend.reports.auth import AssessmentsContest, AssessmentsManage, AssessmentsRead
from backend.reports.kpis import CATALOGUE
from backend.reports.periods import period_containing
from backend.reports.schemas import AssessmentPublish, ContestAnswer, ContestCreate, SchemeUpdate
from backend.reports.types import PeriodKind
from frontend.forms import Form, FormView
from frontend.rendering import render

router = APIRouter(include_in_schema=False)
YearQuery = Annotated[int | None, Query(ge=2000, le=2100)]


def _this_year() -> int:
    return period_containing(PeriodKind.fp_year, china_today()).end.year


async def _overview_page(
    request: Request, session: SessionDep, principal: Principal, year: int, form: FormView | None = None
) -> HTMLResponse:
    scheme = await assessments.get_scheme(session, principal, year)
    counterparts = await assessments.counterparts(session, principal, year)
    given_live = [await assessments.score_counterpart(session, principal, year, code) for code, _ in counterparts]
    context: dict[str, Any] = {
        "year": year,
        "years": [year - 1, year, year + 1],
        "scheme": scheme,
        "kpis": list(CATALOGUE.values()),
        "scheme_items": {item["kpi_code"]: item for item in scheme.items},
        "given_live": given_live,
        "given": await assessments.given(session, principal, year),
        "received": await assessments.received(session, principal, year),
        "townships": await assessments.score_townships(session, principal, year),
        "may_manage": principal.can(Action.assessment_manage, principal.tenant_code or ""),
    }
    return render(request, "assessments/index.html", context, form=form or FormView())


@router.get("/assessments", response_class=HTMLResponse)
async def overview(
    request: Request, session: SessionDep, principal: AssessmentsRead, year: YearQuery = None
) -> HTMLResponse:
    return await _overview_page(request, session, principal, year or _this_year())


@router.post("/assessments/{year}/scheme", response_class=HTMLResponse)
async def scheme_save(request: Request, session: SessionDep, principal: AssessmentsManage, year: int) -> Response:
    names = [f"{field}_{code.value}" for code in CATALOGUE for field in ("weight", "target", "veto")]
    form = await Form.read(request, (*names, "version"))
    items = [
        {
            "kpi_code": code.value,
            "weight": form.values[f"weight_{code.value}"],
            "target_percent": form.values[f"target_{code.value}"] or None,
            "veto": form.values[f"veto_{code.value}"] == "on",
        }
        for code in CATALOGUE
        if form.values[f"weight_{code.value}"]
    ]
    return await form.submit(
        session,
        SchemeUpdate,
        lambda update: assessments.save_scheme(session, principal, year, update),
        done=f"/assessments?year={year}&done=scheme#scheme-title",
        again=lambda errors: _overview_page(request, session, principal, year, form.view(errors)),
        data={"items": items, **form.given("version")},
        depth=None,
    )


async def _given_page(
    request: Request, session: SessionDep, principal: Principal, year: int, code: str, form: FormView | None = None
) -> HTMLResponse:
    live = await assessments.score_counterpart(session, principal, year, code)
    context = {
        "assessment": live,
        "year": year,
        "counterpart": code,
        "may_manage": principal.can(Action.assessment_manage, principal.tenant_code or ""),
        "published": [
            item for item in await assessments.given(session, principal, year) if item.assessed_county_code == code
        ],
    }
    return render(request, "assessments/given.html", context, form=form or FormView())


@router.get("/assessments/{year}/given/{code}", response_class=HTMLResponse)
async def given_view(
    request: Request, session: SessionDep, principal: AssessmentsRead, year: int, code: str
) -> HTMLResponse:
    return await _given_page(request, session, principal, year, code)


@router.post("/assessments/{year}/given/{code}/publish", response_class=HTMLResponse)
async def given_publish(
    request: Request, session: SessionDep, principal: AssessmentsManage, year: int, code: str
) -> Response:
    form = await Form.read(request, ("correction_reason",))
    return await form.submit(
        session,
        AssessmentPublish,
        lambda body: assessments.publish_counterpart(session, principal, year, code, body),
        done=lambda published: f"/assessments/results/{published.id}?done=published",
        again=lambda errors: _given_page(request, session, principal, year, code, form.view(errors)),
    )


@router.post("/assessments/{year}/townships/publish", response_class=HTMLResponse)
async def townships_publish(request: Request, session: SessionDep, principal: AssessmentsManage, year: int) -> Response:
    form = await Form.read(request, ("correction_reason",), prefix="townships_")
    return await form.submit(
        session,
        AssessmentPublish,
        lambda body: assessments.publish_townships(session, principal, year, body),
        done=lambda published: f"/assessments/results/{published.id}?done=published",
        again=lambda errors: _overview_page(request, session, principal, year, form.view(errors)),
    )


async def _result_page(
    request: Request, session: SessionDep, principal: Principal, assessment_id: uuid.UUID, form: FormView | None = None
) -> HTMLResponse:
    result = await assessments.get_assessment(session, principal, assessment_id)
    mine = principal.tenant_code or ""
    context = {
        "assessment": result,
        "assessor": result.assessor_county_code == mine,
        "may_contest": principal.can(Action.assessment_contest, mine),
    }
    return render(request, "assessments/result.html", context, form=form or FormView())


@router.get("/assessments/results/{assessment_id}", response_class=HTMLResponse)
async def result_view(
    request: Request, session: SessionDep, principal: AssessmentsRead, assessment_id: uuid.UUID
) -> HTMLResponse:
    return await _result_page(request, session, principal, assessment_id)


@router.post("/assessments/results/{assessment_id}/contests", response_class=HTMLResponse)
async def contest_raise(
    request: Request, session: SessionDep, principal: AssessmentsContest, assessment_id: uuid.UUID
) -> Response:
    form = await Form.read(request, ("item", "reason"), prefix="contest_")
    return await form.submit(
        session,
        ContestCreate,
        lambda body: assessments.contest(session, principal, assessment_id, body),
        done=f"/assessments/results/{assessment_id}?done=contested",
        again=lambda errors: _result_page(request, session, principal, assessment_id, form.view(errors)),
    )


@router.post("/assessments/results/{assessment_id}/contests/{contest_id}/answer", response_class=HTMLResponse)
async def contest_answer(
    request: Request,
    session: SessionDep,
    principal: AssessmentsContest,
    assessment_id: uuid.UUID,
    contest_id: uuid.UUID,
) -> Response:
    form = await Form.read(request, ("decision", "response"), prefix=f"answer_{contest_id}_")
    return await form.submit(
        session,
        ContestAnswer,
        lambda body: assessments.answer_contest(session, principal, contest_id, body),
        done=f"/assessments/results/{assessment_id}?done=answered",
        again=lambda errors: _result_page(request, session, principal, assessment_id, form.view(errors)),
    )
