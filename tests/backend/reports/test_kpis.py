"""Every KPI of the scripted county (tests/backend/reports/scenario.py) against the hand count, with the rows
behind each figure, the ranking of townships, the FP statistical year's edge, targets and reach."""

from __future__ import annotations

import pytest

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent
from tests.backend.reports.scenario import Scripted, person_row, write
from tests.fixtures.identity import SignIn

MARCH = {"period_kind": "month", "period": "2026-03"}

# (numerator, denominator, value) of each KPI for county A in March 2026, counted by hand from the scenario.
HAND_COUNT = {
    "feedback_rate": (3, 5, 0.6),  # q1 q2 q3 of q1 q2 q3 q4 q6 (q5 withdrawn)
    "reply_on_time": (2, 5, 0.4),  # q1 q3
    "notice_acceptance": (1, 2, 0.5),  # n1 of n1 n2
    "send_on_time": (2, 3, 0.6667),  # s1 s3 of s1 s2 s3
    "check_rate": (2, 3, 0.6667),  # c1 c4 of c1 c2 c4 (c3 withdrawn)
    "followup_rate": (1, 2, 0.5),  # f1 of f1 f3 (f2 needed no action)
    "policy_compliance": (2, 3, 0.6667),  # r1 r4 of r1 r2 r4 (r3 deferred)
    "overdue_share": (3, 7, 0.4286),  # c2 f3 o1 of c1 c2 c4 f1 f2 f3 o1
    "inspection_rate": (1, 3, 0.3333),  # p1 of p1 p2 p3 (p4 too old, p6 not yet arrived)
    "certificate_issue_rate": (1, 2, 0.5),  # p7 of p7 p8 (p9 departed)
    "data_completeness": (4, 7, 0.5714),  # p1 p4 p7 p8 of p1 p2 p3 p4 p5 p7 p8
    "data_entry": (2, 4, 0.5),  # e1 e4 of e1 e2 e3 e4 (e5 in April; B's entry not ours)
    "data_accuracy": (2, 3, 0.6667),  # k1 k4 of k1 k2 k4 (k3 unverifiable, k5 unchecked, k6 in April)
}

# The rows behind each figure: (numerator rows, the rest).
HAND_ROWS = {
    "feedback_rate": ({"q1", "q2", "q3"}, {"q4", "q6"}),
    "reply_on_time": ({"q1", "q3"}, {"q2", "q4", "q6"}),
    "notice_acceptance": ({"n1"}, {"n2"}),
    "send_on_time": ({"s1", "s3"}, {"s2"}),
    "check_rate": ({"c1", "c4"}, {"c2"}),
    "followup_rate": ({"f1"}, {"f3"}),
    "policy_compliance": ({"r1", "r4"}, {"r2"}),
    "overdue_share": ({"c2", "f3", "o1"}, {"c1", "c4", "f1", "f2"}),
    "inspection_rate": ({"p1"}, {"p2", "p3"}),
    "certificate_issue_rate": ({"p7"}, {"p8"}),
    "data_completeness": ({"p1", "p4", "p7", "p8"}, {"p2", "p3", "p5"}),
    "data_entry": ({"e1", "e4"}, {"e2", "e3"}),
    "data_accuracy": ({"k1", "k4"}, {"k2"}),
}


async def test_every_kpi_of_the_county_matches_the_hand_count(scripted: Scripted, sign_in: SignIn) -> None:
    client = await sign_in(scripted.a, "county.sup")
    response = await client.get("/api/v1/kpis", params=MARCH)
    assert response.status_code == 200, response.text
    cockpit = response.json()
    assert (cockpit["unit_code"], cockpit["level"]) == (scripted.a.code, "county")
    figures = {kpi["code"]: (kpi["numerator"], kpi["denominator"], kpi["value"]) for kpi in cockpit["kpis"]}
    assert figures == HAND_COUNT
    statuses = {kpi["code"]: kpi["status"] for kpi in cockpit["kpis"]}
    assert statuses["feedback_rate"] == "red" and statuses["overdue_share"] == "red"
    # Every figure is off target in this county but one margin: amber needs a value within 5 points.
    assert set(statuses.values()) == {"red"}


@pytest.mark.parametrize("code", sorted(HAND_ROWS))
async def test_the_rows_behind_each_figure_are_exactly_the_counted_ones(
    scripted: Scripted, sign_in: SignIn, code: str
) -> None:
    client = await sign_in(scripted.a, "county.sup")
    numerator, rest = HAND_ROWS[code]
    for part, names in (("numerator", numerator), ("rest", rest), ("all", numerator | rest)):
        response = await client.get(f"/api/v1/kpis/{code}/rows", params={**MARCH, "part": part, "size": 200})
        assert response.status_code == 200, response.text
        page = response.json()
        assert {item["id"] for item in page["items"]} == scripted.ids(*names), part
        assert page["total"] == len(names)
        assert all(item["counted"] == (item["id"] in scripted.ids(*numerator)) for item in page["items"])


async def test_a_person_without_a_birth_date_is_incomplete_and_of_no_working_age(
    scripted: Scripted, sign_in: SignIn, database: Database
) -> None:
    # A missing birth date makes the working-age condition unknown (NULL in SQL): the person is counted as on the
    # register with a main field missing, and in neither women's figure, in the cockpit and in the rows alike;
    # filed at the township itself, the person is alone in the township's own-level figures.
    undated = person_row(scripted.a, "甲十", "t1")
    undated.birth_date = None
    await write(database, scripted.a, [undated])
    client = await sign_in(scripted.a, "county.sup")
    response = await client.get("/api/v1/kpis", params=MARCH)
    assert response.status_code == 200, response.text
    figures = {kpi["code"]: (kpi["numerator"], kpi["denominator"]) for kpi in response.json()["kpis"]}
    assert figures["data_completeness"] == (4, 8)
    assert figures["inspection_rate"] == HAND_COUNT["inspection_rate"][:2]
    township = await client.get("/api/v1/kpis", params={**MARCH, "unit": scripted.a.units["t1"]})
    assert township.status_code == 200, township.text
    own_level = {
        kpi["code"]: [(row["numerator"], row["denominator"]) for row in kpi["ranking"] if row["own_level"]]
        for kpi in township.json()["kpis"]
    }
    assert (own_level["data_completeness"], own_level["inspection_rate"]) == ([(0, 1)], [])
    rest = (await client.get("/api/v1/kpis/data_completeness/rows", params={**MARCH, "part": "rest"})).json()
    assert {item["id"] for item in rest["items"]} == scripted.ids("p2", "p3", "p5") | {str(undated.id)}
    women = (await client.get("/api/v1/kpis/inspection_rate/rows", params={**MARCH, "part": "all"})).json()
    assert str(undated.id) not in {item["id"] for item in women["items"]}


async def test_rows_show_names_and_links_to_those_who_may_read_them(scripted: Scripted, sign_in: SignIn) -> None:
    client = await sign_in(scripted.a, "county.sup")
    cases = (await client.get("/api/v1/kpis/check_rate/rows", params=MARCH)).json()["items"]
    assert {item["link"] for item in cases} == {f"/cases/{case_id}" for case_id in scripted.ids("c1", "c2", "c4")}
    persons = (await client.get("/api/v1/kpis/inspection_rate/rows", params=MARCH)).json()["items"]
    assert {item["name"] for item in persons} == {"甲一", "甲二", "甲三"}
    requests = (await client.get("/api/v1/kpis/send_on_time/rows", params=MARCH)).json()["items"]
    assert {item["reference"] for item in requests} == {scripted.requests[n].correlation_id for n in ("s1", "s2", "s3")}


async def test_townships_are_ranked_under_the_county(scripted: Scripted, sign_in: SignIn) -> None:
    client = await sign_in(scripted.a, "county.sup")
    cockpit = (await client.get("/api/v1/kpis", params=MARCH)).json()
    feedback = next(kpi for kpi in cockpit["kpis"] if kpi["code"] == "feedback_rate")
    ranking = [
        (unit["unit_code"], unit["numerator"], unit["denominator"], unit["rank"]) for unit in feedback["ranking"]
    ]
    a = scripted.a
    assert ranking == [(a.units["t1"], 2, 3, 1), (a.units["t2"], 1, 2, 2)]
    overdue = next(kpi for kpi in cockpit["kpis"] if kpi["code"] == "overdue_share")
    # The lowest share ranks first; o1 is filed at the township itself, not under a village: t1 holds it.
    assert [
        (unit["unit_code"], unit["numerator"], unit["denominator"], unit["rank"]) for unit in overdue["ranking"]
    ] == [
        (a.units["t2"], 1, 3, 1),
        (a.units["t1"], 2, 4, 2),
    ]
    township = (await client.get("/api/v1/kpis", params={**MARCH, "unit": a.units["t1"]})).json()
    overdue = next(kpi for kpi in township["kpis"] if kpi["code"] == "overdue_share")
    rows = {
        unit["unit_code"]: (unit["numerator"], unit["denominator"], unit["own_level"]) for unit in overdue["ranking"]
    }
    assert rows == {a.units["v11"]: (1, 3, False), a.units["t1"]: (1, 1, True)}


async def test_the_trend_has_twelve_months_ending_with_the_period(scripted: Scripted, sign_in: SignIn) -> None:
    client = await sign_in(scripted.a, "county.sup")
    cockpit = (await client.get("/api/v1/kpis", params=MARCH)).json()
    feedback = next(kpi for kpi in cockpit["kpis"] if kpi["code"] == "feedback_rate")
    months = [month["month"] for month in feedback["trend"]]
    assert months[0] == "2025-04-01" and months[-1] == "2026-03-01" and len(months) == 12
    assert feedback["trend"][-1]["denominator"] == 5
    assert sum(month["denominator"] for month in feedback["trend"][:-1]) == 0


async def test_the_fp_statistical_year_ends_on_30_september(scripted: Scripted, sign_in: SignIn) -> None:
    """b1 arrived at 23:30 on 30 September 2026 (China time): FP year 2026. b2 at 00:10 on 1 October: FP year 2027."""
    client = await sign_in(scripted.a, "county.sup")

    async def feedback(**params: str) -> tuple[int, int]:
        cockpit = (await client.get("/api/v1/kpis", params=params)).json()
        kpi = next(kpi for kpi in cockpit["kpis"] if kpi["code"] == "feedback_rate")
        assert kpi["period"]["key"] == params["period"]
        return kpi["numerator"], kpi["denominator"]

    # FY2026: q1..q4, q6 of March and b1.
    assert await feedback(period_kind="fp_year", period="FY2026") == (4, 6)
    assert await feedback(period_kind="fp_year", period="FY2027") == (1, 1)
    assert await feedback(period_kind="month", period="2026-09") == (1, 1)
    assert await feedback(period_kind="month", period="2026-10") == (1, 1)
    rows = await client.get("/api/v1/kpis/feedback_rate/rows", params={"period_kind": "fp_year", "period": "FY2027"})
    assert {item["id"] for item in rows.json()["items"]} == scripted.ids("b2")
    september = await client.get(
        "/api/v1/kpis/feedback_rate/rows", params={"period_kind": "fp_year", "period": "FY2026", "size": 50}
    )
    assert scripted.ids("b1") <= {item["id"] for item in september.json()["items"]}
    assert not scripted.ids("b2") & {item["id"] for item in september.json()["items"]}


async def test_a_village_coordinator_sees_her_village_only(scripted: Scripted, sign_in: SignIn) -> None:
    a = scripted.a
    client = await sign_in(a, "v11.coord")
    own = await client.get("/api/v1/kpis", params=MARCH)
    assert own.status_code == 200
    assert (own.json()["unit_code"], own.json()["level"]) == (a.units["v11"], "village")
    checks = next(kpi for kpi in own.json()["kpis"] if kpi["code"] == "check_rate")
    assert (checks["numerator"], checks["denominator"], checks["ranking"]) == (1, 2, [])
    for unit in (a.units["v12"], a.units["t1"], a.code, scripted.b.units["v11"]):
        response = await client.get("/api/v1/kpis", params={**MARCH, "unit": unit})
        assert response.status_code == 404, unit
        rows = await client.get("/api/v1/kpis/check_rate/rows", params={**MARCH, "unit": unit})
        assert rows.status_code == 404, unit
    rows = (await client.get("/api/v1/kpis/check_rate/rows", params={**MARCH, "part": "all"})).json()
    assert {item["id"] for item in rows["items"]} == scripted.ids("c1", "c2")


async def test_a_county_sets_its_own_target_audited(scripted: Scripted, sign_in: SignIn, database: Database) -> None:
    a = scripted.a
    admin = await sign_in(a, "admin")
    response = await admin.put("/api/v1/kpis/targets/feedback_rate", json={"target_percent": 55})
    assert response.status_code == 200, response.text
    assert (response.json()["target"], response.json()["overridden"], response.json()["version"]) == (0.55, True, 1)
    stale = await admin.put("/api/v1/kpis/targets/feedback_rate", json={"target_percent": 60})
    assert stale.status_code == 409
    supervisor = await sign_in(a, "county.sup")
    cockpit = (await supervisor.get("/api/v1/kpis", params=MARCH)).json()
    feedback = next(kpi for kpi in cockpit["kpis"] if kpi["code"] == "feedback_rate")
    assert (feedback["target"], feedback["status"]) == (0.55, "green")
    # The other county keeps the default.
    other = await sign_in(scripted.b, "county.sup")
    theirs = next(k for k in (await other.get("/api/v1/kpis")).json()["kpis"] if k["code"] == "feedback_rate")
    assert theirs["target"] == 0.9
    assert (await supervisor.put("/api/v1/kpis/targets/feedback_rate", json={"target_percent": 50})).status_code == 403
    bad = await admin.put("/api/v1/kpis/targets/feedback_rate", json={"target_percent": 120, "version": 1})
    assert bad.status_code == 422
    reset = await admin.delete("/api/v1/kpis/targets/feedback_rate", params={"version": 1})
    assert (reset.json()["target"], reset.json()["overridden"]) == (0.9, False)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, a.tenant.id)
        events = (
            await session.execute(
                AuditEvent.__table__.select()
                .where(AuditEvent.tenant_id == a.tenant.id, AuditEvent.action == "kpi.target")
                .order_by(AuditEvent.seq)
            )
        ).all()
    assert [event.changes["target"] for event in events] == [[0.9, 0.55], [0.55, 0.9]]


async def test_data_quality_rows_name_the_person_and_open_the_review(scripted: Scripted, sign_in: SignIn) -> None:
    client = await sign_in(scripted.a, "county.sup")
    entries = (await client.get("/api/v1/kpis/data_entry/rows", params={**MARCH, "part": "all"})).json()["items"]
    assert {(item["name"], item["state"], item["link"]) for item in entries} == {
        ("甲一", "confirmed", f"/entry-reviews/{scripted.entries['e1'].id}"),
        ("甲二", "rejected", f"/entry-reviews/{scripted.entries['e2'].id}"),
        ("甲五", "pending", f"/entry-reviews/{scripted.entries['e3'].id}"),
        ("甲三", "confirmed", f"/entry-reviews/{scripted.entries['e4'].id}"),
    }
    findings = (await client.get("/api/v1/kpis/data_accuracy/rows", params={**MARCH, "part": "all"})).json()["items"]
    lists = {name: str(scripted.findings[name].list_id) for name in ("k1", "k2", "k4")}
    assert {(item["name"], item["state"], item["link"]) for item in findings} == {
        ("甲一", "correct", f"/rechecks/{lists['k1']}"),
        ("甲二", "corrected", f"/rechecks/{lists['k2']}"),
        ("甲三", "correct", f"/rechecks/{lists['k4']}"),
    }


async def test_another_countys_entries_and_findings_count_only_there(scripted: Scripted, sign_in: SignIn) -> None:
    theirs = await sign_in(scripted.b, "county.sup")
    cockpit = (await theirs.get("/api/v1/kpis", params=MARCH)).json()
    figures = {kpi["code"]: (kpi["numerator"], kpi["denominator"]) for kpi in cockpit["kpis"]}
    assert (figures["data_entry"], figures["data_accuracy"]) == ((1, 1), (1, 1))
    for code, name in (("data_entry", "b_entry"), ("data_accuracy", "b_finding")):
        rows = (await theirs.get(f"/api/v1/kpis/{code}/rows", params={**MARCH, "part": "all"})).json()
        assert {item["id"] for item in rows["items"]} == scripted.ids(name)
    # A village coordinator of A sees her village's share only.
    coordinator = await sign_in(scripted.a, "v11.coord")
    own = (await coordinator.get("/api/v1/kpis", params=MARCH)).json()
    village = {kpi["code"]: (kpi["numerator"], kpi["denominator"]) for kpi in own["kpis"]}
    assert (village["data_entry"], village["data_accuracy"]) == ((1, 2), (1, 2))
