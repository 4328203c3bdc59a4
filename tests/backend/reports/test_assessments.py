"""Two-way assessment (双向考核) between the scripted counties A and B over FP year 2026: each scores the other from
the rows they share, publishes, sees the score it got with the rows behind each item (and nobody's name), and
contests an item; townships are ranked by the same scheme."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent
from tests.backend.reports.conftest import staffed_county
from tests.backend.reports.scenario import Scripted
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import SignIn

YEAR = "/api/v1/assessments/2026"


def _items(score: dict[str, Any]) -> dict[str, tuple[int, int, float | None, float | None]]:
    return {
        item["kpi_code"]: (item["numerator"], item["denominator"], item["value"], item["score"])
        for item in score["items"]
    }


def _rows(score: dict[str, Any], code: str) -> dict[str, bool]:
    item = next(item for item in score["items"] if item["kpi_code"] == code)
    return {row["reference"]: row["counted"] for row in item["rows"]}


async def _actions(database: Database, tenant_id: Any, action: str) -> list[AuditEvent]:
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, tenant_id)
        rows = await session.execute(
            select(AuditEvent)
            .where(AuditEvent.tenant_id == tenant_id, AuditEvent.action == action)
            .order_by(AuditEvent.seq)
        )
        return list(rows.scalars().all())


async def test_two_counties_score_each_other_from_the_rows_they_share(
    scripted: Scripted, sign_in: SignIn, database: Database
) -> None:
    a, b, requests = scripted.a, scripted.b, scripted.requests
    reference = {name: request.correlation_id for name, request in requests.items()}
    a_sup, b_sup = await sign_in(a, "county.sup"), await sign_in(b, "county.sup")
    assert (await a_sup.get(f"{YEAR}/counterparts")).json() == [{"code": b.code, "name": "乙县"}]

    # A scores B: B's answers to A's requests (s1 s2 answered on time, s3 still pending and due) and B's sending
    # of its own requests to A (all eight on time); no notices from A to B.
    given = await a_sup.get(f"{YEAR}/given/{b.code}")
    assert given.status_code == 200, given.text
    score = given.json()["scores"][0]
    assert _items(score) == {
        "feedback_rate": (2, 3, 0.6667, 14.82),
        "reply_on_time": (2, 3, 0.6667, 10.0),
        "notice_acceptance": (0, 0, None, None),
        "send_on_time": (8, 8, 1.0, 10.0),
    }
    assert (score["total_score"], score["vetoed"]) == (77.4, False)  # 34.82 of the 45 applicable points
    assert _rows(score, "feedback_rate") == {reference["s1"]: True, reference["s2"]: True, reference["s3"]: False}
    # B scores A: A's answers (b1 in September counts, b2 in October does not), A's acknowledgements, A's sending.
    b_given = (await b_sup.get(f"/api/v1/assessments/2026/given/{a.code}")).json()["scores"][0]
    assert _items(b_given) == {
        "feedback_rate": (4, 6, 0.6667, 14.82),
        "reply_on_time": (3, 6, 0.5, 7.5),
        "notice_acceptance": (1, 2, 0.5, 5.56),
        "send_on_time": (2, 3, 0.6667, 6.67),
    }
    assert reference["b1"] in _rows(b_given, "feedback_rate") and reference["b2"] not in _rows(b_given, "feedback_rate")

    # Both publish; each then sees the score it gave and the score it got, with the same rows, and no names.
    published = await a_sup.post(f"{YEAR}/given/{b.code}/publish", json={})
    assert published.status_code == 201, published.text
    assert (await b_sup.post(f"{YEAR}/given/{a.code}/publish", json={})).status_code == 201
    got_by_b = (await b_sup.get(f"{YEAR}/received")).json()
    assert [(item["assessor_county_code"], item["version"]) for item in got_by_b] == [(a.code, 1)]
    assert got_by_b[0]["scores"][0]["total_score"] == 77.4
    assert _rows(got_by_b[0]["scores"][0], "feedback_rate") == _rows(score, "feedback_rate")
    got_by_a = (await a_sup.get(f"{YEAR}/received")).json()
    assert [item["assessor_county_code"] for item in got_by_a] == [b.code]
    assert [item["assessed_county_code"] for item in (await a_sup.get(f"{YEAR}/given")).json()] == [b.code]
    for body in (given.text, published.text, (await b_sup.get(f"{YEAR}/received")).text):
        assert "某某" not in body and "subject_name" not in body  # the rows' persons are nobody's business here
    # Neither sees the other's persons.
    person = scripted.persons["p1"]
    assert (await b_sup.get(f"/api/v1/persons/{person.id}")).status_code == 404


async def test_contesting_an_item_is_audited_on_both_sides(
    scripted: Scripted, sign_in: SignIn, database: Database
) -> None:
    a, b = scripted.a, scripted.b
    a_sup, b_sup = await sign_in(a, "county.sup"), await sign_in(b, "county.sup")
    assessment = (await a_sup.post(f"{YEAR}/given/{b.code}/publish", json={})).json()
    # The assessor cannot contest its own score; the item must be one of the assessment's.
    own = await a_sup.post(
        f"/api/v1/assessments/results/{assessment['id']}/contests", json={"item": "feedback_rate", "reason": "自评"}
    )
    assert own.status_code == 409
    wrong = await b_sup.post(
        f"/api/v1/assessments/results/{assessment['id']}/contests", json={"item": "check_rate", "reason": "不适用"}
    )
    assert wrong.status_code == 422
    raised = await b_sup.post(
        f"/api/v1/assessments/results/{assessment['id']}/contests",
        json={"item": "feedback_rate", "reason": "s3 已于4月3日电话反馈，有通话记录"},
    )
    assert raised.status_code == 201, raised.text
    contest = raised.json()
    assert contest["state"] == "open"
    seen_by_a = (await a_sup.get(f"/api/v1/assessments/results/{assessment['id']}")).json()
    assert [(item["item_code"], item["state"]) for item in seen_by_a["contests"]] == [("feedback_rate", "open")]
    # Only the assessor answers.
    assert (
        await b_sup.post(
            f"/api/v1/assessments/contests/{contest['id']}/answer", json={"decision": "upheld", "response": "同意"}
        )
    ).status_code == 404
    answered = await a_sup.post(
        f"/api/v1/assessments/contests/{contest['id']}/answer",
        json={"decision": "upheld", "response": "核实属实，更正评分"},
    )
    assert answered.status_code == 200 and answered.json()["state"] == "upheld"
    again = await a_sup.post(
        f"/api/v1/assessments/contests/{contest['id']}/answer", json={"decision": "dismissed", "response": "重复答复"}
    )
    assert again.status_code == 409
    # The correction is a new version with its reason; the first stays as it was.
    assert (await a_sup.post(f"{YEAR}/given/{b.code}/publish", json={})).status_code == 422
    corrected = await a_sup.post(
        f"{YEAR}/given/{b.code}/publish", json={"correction_reason": "采纳乙县异议：s3 已电话反馈"}
    )
    assert corrected.status_code == 201 and corrected.json()["version"] == 2
    assert (await b_sup.get(f"{YEAR}/received")).json()[0]["version"] == 2
    assert (await b_sup.get(f"/api/v1/assessments/results/{assessment['id']}")).json()["version"] == 1
    contested = await _actions(database, b.tenant.id, "assessment.contest")
    assert [(event.changes["item"], event.reason) for event in contested] == [
        ("feedback_rate", "s3 已于4月3日电话反馈，有通话记录")
    ]
    answers = await _actions(database, a.tenant.id, "assessment.contest_answer")
    assert [(event.changes["state"], event.reason) for event in answers] == [(["open", "upheld"], "核实属实，更正评分")]
    assert [event.changes["version"] for event in await _actions(database, a.tenant.id, "assessment.publish")] == [1, 2]


async def test_a_third_county_sees_nothing_of_it(
    scripted: Scripted, sign_in: SignIn, database: Database, tenant_factory: TenantFactory
) -> None:
    a, b = scripted.a, scripted.b
    c = await staffed_county(database, tenant_factory, "丙县")
    assessment = (await (await sign_in(a, "county.sup")).post(f"{YEAR}/given/{b.code}/publish", json={})).json()
    c_sup = await sign_in(c, "county.sup")
    assert (await c_sup.get(f"/api/v1/assessments/results/{assessment['id']}")).status_code == 404
    assert (await c_sup.get(f"{YEAR}/received")).json() == []
    assert (await c_sup.get(f"{YEAR}/counterparts")).json() == []
    # C scoring A sees no rows at all: A and C share none.
    scores = (await c_sup.get(f"{YEAR}/given/{a.code}")).json()["scores"][0]
    assert all(item["denominator"] == 0 and item["rows"] == [] for item in scores["items"])
    assert (await c_sup.get(f"{YEAR}/given/{c.code}")).status_code == 422


async def test_townships_are_ranked_by_the_scheme(scripted: Scripted, sign_in: SignIn) -> None:
    a = scripted.a
    ranking = (await (await sign_in(a, "county.sup")).get(f"{YEAR}/townships")).json()
    scores = {score["assessed_code"]: score for score in ranking["scores"]}
    assert set(scores) == {a.units["t1"], a.units["t2"]}
    t1, t2 = _items(scores[a.units["t1"]]), _items(scores[a.units["t2"]])
    assert t1["feedback_rate"][:2] == (3, 4) and t2["feedback_rate"][:2] == (1, 2)  # q1 q2 q6 b1; q3 q4
    assert t1["check_rate"][:2] == (1, 2) and t2["check_rate"][:2] == (1, 1)  # c1 c2; c4
    assert t1["policy_compliance"][:2] == (2, 3)  # r1 r4 of r1 r2 r4: the veto item missed
    assert scores[a.units["t1"]]["vetoed"] is True and scores[a.units["t2"]]["vetoed"] is False
    assert [score["rank"] for score in ranking["scores"]] == [1, 2]
    assert ranking["scores"][0]["assessed_code"] == a.units["t2"]  # a vetoed township ranks after the others


async def test_the_scheme_is_the_countys_and_checked(scripted: Scripted, sign_in: SignIn, database: Database) -> None:
    a = scripted.a
    supervisor, officer = await sign_in(a, "county.sup"), await sign_in(a, "county.officer")
    default = (await officer.get(f"{YEAR}/scheme")).json()
    assert default["default"] is True and sum(item["weight"] for item in default["items"]) == 100
    items = [
        {"kpi_code": "feedback_rate", "weight": 60, "target_percent": 80},
        {"kpi_code": "reply_on_time", "weight": 40, "veto": True},
    ]
    assert (await officer.put(f"{YEAR}/scheme", json={"items": items})).status_code == 403
    short = await supervisor.put(f"{YEAR}/scheme", json={"items": items[:1]})
    assert short.status_code == 422 and short.json()["fields"][0]["loc"] == ["body", "items"]
    twice = await supervisor.put(f"{YEAR}/scheme", json={"items": [items[0], {**items[0], "weight": 40}]})
    assert twice.status_code == 422
    saved = await supervisor.put(f"{YEAR}/scheme", json={"items": items})
    assert saved.status_code == 200 and saved.json()["version"] == 1
    assert (await supervisor.put(f"{YEAR}/scheme", json={"items": items})).status_code == 409
    score = (await supervisor.get(f"{YEAR}/given/{scripted.b.code}")).json()["scores"][0]
    # B: feedback 2/3 against 80% → 60 × 0.8334 = 50.0; reply 2/3 against 100%, a veto item missed.
    assert [(item["kpi_code"], item["score"], item["met"]) for item in score["items"]] == [
        ("feedback_rate", 50.0, False),
        ("reply_on_time", 26.67, False),
    ]
    assert (score["total_score"], score["vetoed"]) == (76.7, True)
    assert len(await _actions(database, a.tenant.id, "assessment.scheme")) == 1
