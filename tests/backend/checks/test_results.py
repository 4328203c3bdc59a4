"""Check rounds (三查) through the API: the sweep opens a round with its case; a coordinator records the structured
result, which closes the case; bad input is refused at its field with nothing written; a check done elsewhere
counts like a local one; 三查到位率 per village, township and county; reach per unit and county."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from backend.core.clock import china_today
from backend.followups.rules import check_round_window
from backend.models import AuditEvent, CheckResult, CheckRoundStatus
from tests.fixtures.identity import County, SignIn
from tests.fixtures.village import Village, png

TODAY = china_today()
WINDOW = check_round_window(TODAY, 2)


def result(**overrides: Any) -> dict[str, Any]:
    body = {
        "checked_on": TODAY.isoformat(),
        "pregnancy": "not_pregnant",
        "iud": "in_place",
        "gynaecology": "normal",
        "provider_name": "一镇计生服务站",
    }
    return body | overrides


async def _round_of(village: Village, county: County, name: str, unit: str = "v11") -> str:
    woman = await village.person(county, name, unit=unit)
    await village.sweep(county, TODAY)
    (round_,) = await village.rounds(county, woman)
    return str(round_.id)


async def test_the_sweep_opens_a_round_with_its_case_and_asks_for_the_window_watch(
    village: Village, service_county: County
) -> None:
    ordinary = await village.person(service_county, "王芳")
    key = await village.person(service_county, "李娜", key_subject=True)
    await village.sweep(service_county, TODAY)
    await village.sweep(service_county, TODAY)  # again: nothing new

    (ordinary_round,) = await village.rounds(service_county, ordinary)
    assert (ordinary_round.period, ordinary_round.rounds) == (WINDOW.period, 2)
    assert (ordinary_round.window_start, ordinary_round.window_end) == (WINDOW.start, WINDOW.end)
    assert ordinary_round.status is CheckRoundStatus.due
    (case,) = await village.cases(service_county, "pregnancy_check_round", ordinary)
    assert ordinary_round.case_id == case.id
    (key_round,) = await village.rounds(service_county, key)
    assert key_round.rounds == 4 and key_round.window_end == check_round_window(TODAY, 4).end
    # One watch per window of the county, however many rounds end with it.
    watches = await village.messages(service_county, "check_rounds.watch")
    assert sorted(message.payload["window_end"] for message in watches) == sorted(
        {WINDOW.end.isoformat(), key_round.window_end.isoformat()}
    )


async def test_coordinator_records_a_structured_result_which_closes_the_round_and_its_case(
    village: Village, service_county: County, sign_in: SignIn, database: Any
) -> None:
    round_id = await _round_of(village, service_county, "王芳")
    coordinator = await sign_in(service_county, "coord11")

    response = await coordinator.post(
        f"/api/v1/check-rounds/{round_id}/result",
        json=result(gynaecology="findings", gynaecology_notes="宫颈炎，已建议治疗", notes="本人到站检查"),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "done" and body["person_name"] == "王芳"
    assert body["result"]["iud"] == "in_place" and body["result"]["gynaecology_notes"] == "宫颈炎，已建议治疗"
    assert body["result"]["place"] == "local" and body["result"]["recorded_by_label"] == "coord11 (coord11)"
    closes = [
        message.payload["action"]
        for message in await village.messages(service_county, "case.act")
        if message.payload["case_id"] == body["case_id"]
    ]
    assert [(action["action"], action["outcome"]) for action in closes] == [("close", "completed")]
    events = await village.rows(
        service_county, select(AuditEvent.action).where(AuditEvent.entity_id == round_id).order_by(AuditEvent.seq)
    )
    assert events == ["check_round.open", "check_round.result"]
    again = await coordinator.post(f"/api/v1/check-rounds/{round_id}/result", json=result())
    assert again.status_code == 409 and again.json()["error"] == "RESULT_RECORDED"


async def test_a_check_date_in_the_future_is_refused_at_its_field_and_nothing_is_written(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    round_id = await _round_of(village, service_county, "王芳")
    coordinator = await sign_in(service_county, "coord11")

    future = await coordinator.post(
        f"/api/v1/check-rounds/{round_id}/result", json=result(checked_on=(TODAY + timedelta(days=1)).isoformat())
    )
    early = await coordinator.post(
        f"/api/v1/check-rounds/{round_id}/result",
        json=result(checked_on=(WINDOW.start - timedelta(days=1)).isoformat()),
    )

    assert future.status_code == 422
    assert future.json()["fields"] == [
        {"loc": ["body", "checked_on"], "msg": "日期不能在将来 / the date cannot be in the future"}
    ]
    assert early.status_code == 422 and early.json()["fields"][0]["loc"] == ["body", "checked_on"]
    assert "本轮开始" in early.json()["fields"][0]["msg"]
    assert await village.rows(service_county, select(CheckResult)) == []
    assert (await village.rounds(service_county))[0].status is CheckRoundStatus.due
    assert await village.messages(service_county, "case.act") == []


async def test_a_check_done_elsewhere_needs_its_place_and_proof_scan_and_counts_as_done(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    round_id = await _round_of(village, service_county, "王芳")
    coordinator = await sign_in(service_county, "coord11")
    elsewhere = result(place="elsewhere", provider_name="广州市白云区计生服务站")

    missing = await coordinator.post(f"/api/v1/check-rounds/{round_id}/result", json=elsewhere)
    assert missing.status_code == 422
    assert {tuple(problem["loc"]) for problem in missing.json()["fields"]} == {
        ("body", "place_name"),
        ("body", "proof_document_id"),
    }

    round_ = (await coordinator.get(f"/api/v1/check-rounds/{round_id}")).json()
    upload = await coordinator.post(
        "/api/v1/documents",
        data={"owner_kind": "case", "owner_id": round_["case_id"], "kind": "check_report"},
        files={"file": ("报告单.png", png(), "image/png")},
    )
    assert upload.status_code == 201, upload.text
    recorded = await coordinator.post(
        f"/api/v1/check-rounds/{round_id}/result",
        json=elsewhere | {"place_name": "广州市白云区", "proof_document_id": upload.json()["id"]},
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["result"]["proof_document_id"] == upload.json()["id"]

    rates = (await coordinator.get("/api/v1/check-rounds/rates")).json()
    assert [(rate["level"], rate["due"], rate["done"], rate["rate"]) for rate in rates] == [("village", 1, 1, 1.0)]


async def test_rates_count_each_village_and_the_township_and_county_read_whole(
    village: Village, service_county: County, sign_in: SignIn
) -> None:
    for name, unit in (("甲", "v11"), ("乙", "v11"), ("丙", "v12"), ("丁", "v21")):
        await village.person(service_county, name, unit=unit)
    await village.sweep(service_county, TODAY)
    rounds = {round_.person_id: round_ for round_ in await village.rounds(service_county)}
    officer = await sign_in(service_county, "county_officer")
    listed = (await officer.get("/api/v1/check-rounds", params={"org_unit": service_county.units["v11"]})).json()
    assert listed["total"] == 2
    first = listed["items"][0]["id"]
    assert (await officer.post(f"/api/v1/check-rounds/{first}/result", json=result())).status_code == 201

    rates = {rate["org_unit_code"]: rate for rate in (await officer.get("/api/v1/check-rounds/rates")).json()}
    units = service_county.units
    assert list(rates) == [units["county"], units["t1"], units["v11"], units["v12"], units["t2"], units["v21"]]
    assert (rates[units["v11"]]["due"], rates[units["v11"]]["done"], rates[units["v11"]]["rate"]) == (2, 1, 0.5)
    assert (rates[units["t1"]]["due"], rates[units["t1"]]["done"], rates[units["t1"]]["open"]) == (3, 1, 2)
    assert (rates[units["county"]]["due"], rates[units["county"]]["rate"]) == (4, 0.25)
    assert len(rounds) == 4

    # A coordinator sees her village's figures only, no partial township or county totals.
    coordinator = await sign_in(service_county, "coord11")
    own = (await coordinator.get("/api/v1/check-rounds/rates")).json()
    assert [rate["org_unit_code"] for rate in own] == [units["v11"]]
    narrowed = await officer.get("/api/v1/check-rounds/rates", params={"org_unit": units["t2"]})
    assert [rate["org_unit_code"] for rate in narrowed.json()] == [units["t2"], units["v21"]]


async def test_coordinators_see_and_record_only_their_village_and_another_county_nothing(
    village: Village, service_county: County, other_county: County, sign_in: SignIn
) -> None:
    own = await _round_of(village, service_county, "王芳", "v11")
    sibling = await _round_of(village, service_county, "李娜", "v12")
    foreign = await _round_of(village, other_county, "赵敏", "v11")
    coordinator = await sign_in(service_county, "coord11")
    auditor = await sign_in(service_county, "auditor")
    stranger = await sign_in(other_county, "county_officer")

    assert (await coordinator.get(f"/api/v1/check-rounds/{own}")).status_code == 200
    assert (await coordinator.get(f"/api/v1/check-rounds/{sibling}")).status_code == 404
    assert (await coordinator.post(f"/api/v1/check-rounds/{sibling}/result", json=result())).status_code == 404
    listed = (await coordinator.get("/api/v1/check-rounds")).json()
    assert [item["id"] for item in listed["items"]] == [own]
    # The auditor reads everything in the county and records nothing: she knows the round exists (403).
    assert (await auditor.get(f"/api/v1/check-rounds/{sibling}")).status_code == 200
    assert (await auditor.post(f"/api/v1/check-rounds/{sibling}/result", json=result())).status_code == 403
    # Another county: nothing, not even that the rounds exist.
    assert (await stranger.get(f"/api/v1/check-rounds/{own}")).status_code == 404
    assert (await stranger.post(f"/api/v1/check-rounds/{own}/result", json=result())).status_code == 404
    assert [item["id"] for item in (await stranger.get("/api/v1/check-rounds")).json()["items"]] == [foreign]
