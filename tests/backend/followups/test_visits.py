"""Follow-up visits (随访, spec P11): pill users monthly across a year boundary, visits after an IUD insertion or a
sterilisation with the procedure's effectiveness, returns home, structured visits that close their case, the
follow-up rate, and the county's frequencies set by its administrator."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from backend.core.clock import CHINA, china_today
from backend.followups.rules import add_months
from backend.models import Case, ContraceptionMeasure, FlowDirection
from tests.fixtures.identity import County, SignIn
from tests.fixtures.village import Village, resident_id

TODAY = china_today()


def due_day(case: Case) -> date:
    assert case.due_at is not None
    local = case.due_at.astimezone(CHINA)
    assert local.time() == time(23, 59, 59)
    return local.date()


def visit(**overrides: Any) -> dict[str, Any]:
    return {"visited_on": TODAY.isoformat(), "method": "home", "pregnancy": "not_pregnant"} | overrides


async def test_pill_users_are_visited_every_month_across_the_year_boundary(
    village: Village, service_county: County
) -> None:
    pill = await village.person(service_county, "王芳", measure=ContraceptionMeasure.pill)
    iud = await village.person(service_county, "李娜", measure=ContraceptionMeasure.iud)
    away = await village.person(service_county, "赵敏", measure=ContraceptionMeasure.pill, flow=FlowDirection.outflow)

    for as_of in (date(2026, 12, 1), date(2026, 12, 20), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 31)):
        await village.sweep(service_county, as_of)

    visits = await village.cases(service_county, "follow_up_visit", pill)
    assert [case.details["followup_key"] for case in visits] == [
        f"pill_user_visit:{pill.id}:2026-12",
        f"pill_user_visit:{pill.id}:2027-01",
    ]
    assert [due_day(case) for case in visits] == [date(2026, 12, 31), date(2027, 1, 31)]
    assert [case.title for case in visits] == ["服药对象随访（2026年12月）：王芳", "服药对象随访（2027年1月）：王芳"]
    assert await village.cases(service_county, "follow_up_visit", iud) == []
    assert await village.cases(service_county, "follow_up_visit", away) == []  # visited where she lives


async def test_a_county_may_visit_pill_users_every_second_month(village: Village, service_county: County) -> None:
    await village.rules(service_county, {"pill_user_visit_months": 2})
    pill = await village.person(service_county, "王芳", measure=ContraceptionMeasure.pill)
    for as_of in (date(2026, 11, 2), date(2026, 12, 20), date(2027, 1, 3)):
        await village.sweep(service_county, as_of)
    visits = await village.cases(service_county, "follow_up_visit", pill)
    assert [(case.details["period"], due_day(case)) for case in visits] == [
        ("2026-11", date(2026, 12, 31)),
        ("2027-01", date(2027, 2, 28)),
    ]


async def test_visits_after_a_procedure_fall_at_the_planned_months_and_record_its_effectiveness(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    inserted_on = TODAY - timedelta(days=88)
    woman = await village.person(service_county, "王芳", measure=ContraceptionMeasure.iud, measure_on=inserted_on)
    await village.sweep(service_county, TODAY)

    (case,) = await village.cases(service_county, "follow_up_visit", woman)
    assert case.details["followup_kind"] == "post_procedure_visit" and case.details["months_after"] == 3
    assert due_day(case) == add_months(inserted_on, 3)
    assert case.title == "术后随访（上环后3个月）：王芳"

    coordinator = await sign_in(service_county, "coord11")
    unsaid = await coordinator.post(f"/api/v1/followups/{case.id}/visit", json=visit())
    assert unsaid.status_code == 422
    assert unsaid.json()["fields"][0]["loc"] == ["body", "procedure_effective"]
    recorded = await coordinator.post(
        f"/api/v1/followups/{case.id}/visit",
        json=visit(procedure_effective=True, contraception_measure="iud", side_effects="轻微腰酸"),
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["procedure_effective"] is True and recorded.json()["kind"] == "post_procedure_visit"
    closes = [m.payload["action"] for m in await village.messages(service_county, "case.act")]
    assert [(action["action"], action["outcome"]) for action in closes] == [("close", "completed")]
    again = await coordinator.post(f"/api/v1/followups/{case.id}/visit", json=visit(procedure_effective=True))
    assert again.status_code == 409


async def test_a_visit_date_in_the_future_is_refused_at_its_field_and_nothing_is_written(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    await village.person(service_county, "王芳", measure=ContraceptionMeasure.pill)
    await village.sweep(service_county, TODAY)
    (case,) = await village.cases(service_county, "follow_up_visit")
    coordinator = await sign_in(service_county, "coord11")

    refused = await coordinator.post(
        f"/api/v1/followups/{case.id}/visit", json=visit(visited_on=(TODAY + timedelta(days=1)).isoformat())
    )

    assert refused.status_code == 422
    assert refused.json()["fields"] == [
        {"loc": ["body", "visited_on"], "msg": "日期不能在将来 / the date cannot be in the future"}
    ]
    assert (await coordinator.get(f"/api/v1/followups/{case.id}/visit")).json() is None
    assert await village.messages(service_county, "case.act") == []


async def test_a_return_home_opens_the_returned_migrant_visit_once(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    number, inflow_number, sibling_number = resident_id(1), resident_id(2), resident_id(3)
    migrant = await village.person(service_county, "王芳", flow=FlowDirection.outflow, number=number)
    await village.person(service_county, "李娜", number=inflow_number)
    await village.person(service_county, "赵敏", unit="v12", flow=FlowDirection.outflow, number=sibling_number)
    coordinator = await sign_in(service_county, "coord11")
    returned_on = TODAY - timedelta(days=2)

    opened = await coordinator.post(
        "/api/v1/followups/returns", json={"resident_id": number, "returned_on": returned_on.isoformat()}
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["kind"] == "returned_migrant_visit" and opened.json()["person_id"] == str(migrant.id)
    (case,) = await village.cases(service_county, "follow_up_visit", migrant)
    assert due_day(case) == returned_on + timedelta(days=15)

    twice = await coordinator.post(
        "/api/v1/followups/returns", json={"resident_id": number, "returned_on": returned_on.isoformat()}
    )
    assert twice.status_code == 422 and twice.json()["fields"][0]["loc"] == ["body", "returned_on"]
    for other in (inflow_number, sibling_number):
        refused = await coordinator.post(
            "/api/v1/followups/returns", json={"resident_id": other, "returned_on": returned_on.isoformat()}
        )
        assert refused.status_code == 422 and refused.json()["fields"][0]["loc"] == ["body", "resident_id"]
    assert len(await village.cases(service_county, "follow_up_visit")) == 1


async def test_the_follow_up_rate_counts_visits_among_the_follow_ups_due(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    for name in ("王芳", "李娜"):
        await village.person(service_county, name, measure=ContraceptionMeasure.pill)
    await village.person(service_county, "赵敏", unit="v12", measure=ContraceptionMeasure.pill)
    await village.sweep(service_county, TODAY)
    coordinator = await sign_in(service_county, "coord11")
    listed = (await coordinator.get("/api/v1/followups")).json()
    assert listed["total"] == 2  # her village only
    first = listed["items"][0]["case_id"]
    assert (await coordinator.post(f"/api/v1/followups/{first}/visit", json=visit())).status_code == 201

    officer = await sign_in(service_county, "officer")
    rates = {rate["org_unit_code"]: rate for rate in (await officer.get("/api/v1/followups/rates")).json()}
    units = service_county.units
    assert list(rates) == [units["t1"], units["v11"], units["v12"]]
    assert (rates[units["v11"]]["due"], rates[units["v11"]]["visited"], rates[units["v11"]]["rate"]) == (2, 1, 0.5)
    assert (rates[units["t1"]]["due"], rates[units["t1"]]["visited"]) == (3, 1)
    assert (await coordinator.get("/api/v1/followups", params={"all": "true"})).json()["total"] == 2
    assert (await coordinator.get("/api/v1/followups")).json()["total"] == 1


async def test_the_county_administrator_sets_the_frequencies_and_the_sweep_follows_them(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    admin = await sign_in(service_county, "admin")
    coordinator = await sign_in(service_county, "coord11")
    assert (await coordinator.get("/api/v1/followups/rules")).status_code == 403
    shipped = (await admin.get("/api/v1/followups/rules")).json()
    assert (shipped["check_rounds_per_year"], shipped["key_subject_check_rounds_per_year"]) == (2, 4)
    assert shipped["version"] is None and shipped["overridden_fields"] == []

    refused = await admin.put("/api/v1/followups/rules", json={"check_rounds_per_year": 5})
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["loc"][-1] == "check_rounds_per_year"
    saved = await admin.put("/api/v1/followups/rules", json={"check_rounds_per_year": 3, "pill_user_visit_months": 1})
    assert saved.status_code == 200, saved.text
    assert saved.json()["overridden_fields"] == ["check_rounds_per_year"] and saved.json()["version"] == 1
    stale = await admin.put("/api/v1/followups/rules", json={"check_rounds_per_year": 4})
    assert stale.status_code == 422 and stale.json()["fields"][0]["loc"] == ["body", "version"]

    woman = await village.person(service_county, "王芳")
    await village.sweep(service_county, date(2027, 5, 10))
    (round_,) = await village.rounds(service_county, woman)
    assert (round_.period, round_.window_start, round_.window_end) == (
        "2027-R2of3",
        date(2027, 5, 1),
        date(2027, 8, 31),
    )
