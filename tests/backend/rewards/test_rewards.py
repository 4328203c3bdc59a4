"""Rewards and preferential policies (P17, issue #22 item 2) through the API: eligibility from the registry with
every failing condition named, the payee an entitled parent, the county's amount, the three-signature decision by
three different people, payments, the register and the yearly totals."""

from __future__ import annotations

from datetime import date

import httpx

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from backend.models import ContraceptionMeasure, Sex
from tests.backend.rewards.conftest import CaseWork, add_couple, add_resident
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county

YEAR = 2026
PAYEE_REFUSED = (
    "领取人须为符合条件的父母本人，不得由他人代领 / the payee must be an entitled parent; nobody else may collect it"
)
SAME_SIGNER = (
    "同一人不能签署同一案件的两个步骤：您已签署「{done}」，「{step}」须由他人签署 / "
    "one person cannot sign two steps of one case: you signed {done_en}; {step_en} must be signed by someone else"
)


def _application(county: County, policy: str, applicant: object, payee: object, **extra: object) -> dict[str, object]:
    return {
        "policy": policy,
        "org_unit_code": county.units["v11"],
        "year": YEAR,
        "applicant_id": str(applicant),
        "payee_id": str(payee),
        **extra,
    }


async def _set_amounts(admin: httpx.AsyncClient, **amounts: str) -> None:
    current = (await admin.get("/api/v1/county-settings")).json()
    body = {"reward_amounts": {**current["reward_amounts"], **amounts}, "version": current["version"]}
    response = await admin.put("/api/v1/county-settings", json=body)
    assert response.status_code == 200, response.text


async def test_an_application_names_every_failing_condition_and_records_nothing(
    county: County, sign_in: SignIn, database: Database
) -> None:
    officer = await sign_in(county, "t1.officer")
    # Aged 50 in 2026, two daughters, nobody sterilised: the rural reward assistance fails on two counts.
    wife, husband = await add_couple(database, county, children=(Sex.female, Sex.female), born=date(1976, 1, 1))
    response = await officer.post(
        "/api/v1/rewards", json=_application(county, "rural_reward_assistance", wife.id, wife.id)
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert (
        body["detail"] == "不符合奖励扶助条件，未受理 / The conditions of the policy are not met; nothing was recorded"
    )
    assert body["fields"] == [
        {
            "loc": ["body", "eligibility", "aged_60"],
            "msg": "申请人年满60周岁 / the applicant is 60 or older：2026年50周岁 / 50 in 2026",
        },
        {
            "loc": ["body", "eligibility", "sterilisation"],
            "msg": "两个女孩的，夫妻一方已落实绝育措施 / with two daughters, one of the couple is sterilised："
            "绝育记录：无 / sterilisation on record: none",
        },
    ]
    assert (await officer.get("/api/v1/rewards")).json()["total"] == 0

    # The check alone says the same, condition by condition, and who may be paid.
    checked = await officer.get(
        "/api/v1/rewards/eligibility",
        params={"policy": "rural_reward_assistance", "applicant_id": str(wife.id), "year": YEAR},
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["eligible"] is False
    assert [(item["code"], item["met"]) for item in checked.json()["conditions"]] == [
        ("aged_60", False),
        ("one_child_or_two_daughters", True),
        ("sterilisation", False),
    ]
    assert checked.json()["entitled_payee_ids"] == [str(wife.id)]

    # Unmarried with no child on record: the only-child reward names both conditions.
    single = await add_resident(database, county, "王小红", sex=Sex.female, born=date(1990, 1, 1), marital=None)
    refused = await officer.post(
        "/api/v1/rewards", json=_application(county, "only_child_reward", single.id, single.id)
    )
    assert [field["loc"][-1] for field in refused.json()["fields"]] == ["married", "one_child"]


async def test_the_payee_must_be_an_entitled_parent(county: County, sign_in: SignIn, database: Database) -> None:
    officer = await sign_in(county, "t1.officer")
    wife, husband = await add_couple(database, county, children=(Sex.male,), born=date(1960, 1, 1))
    grandmother = await add_resident(database, county, "赵桂英", sex=Sex.female, born=date(1935, 1, 1))
    admin = await sign_in(county, "county.admin")
    await _set_amounts(admin, only_child_reward="120")
    for policy, payee in (("only_child_reward", grandmother), ("rural_reward_assistance", husband)):
        response = await officer.post(
            "/api/v1/rewards", json=_application(county, policy, wife.id, payee.id, spouse_id=str(husband.id))
        )
        assert response.status_code == 422, response.text
        assert response.json()["fields"] == [{"loc": ["body", "payee_id"], "msg": PAYEE_REFUSED}]
    # Either parent may collect the only-child reward.
    accepted = await officer.post(
        "/api/v1/rewards",
        json=_application(county, "only_child_reward", wife.id, husband.id, spouse_id=str(husband.id)),
    )
    assert accepted.status_code == 201, accepted.text


async def test_the_amount_is_the_countys_setting(county: County, sign_in: SignIn, database: Database) -> None:
    officer = await sign_in(county, "t1.officer")
    wife, husband = await add_couple(database, county, children=(Sex.male,))
    refused = await officer.post("/api/v1/rewards", json=_application(county, "only_child_reward", wife.id, wife.id))
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["loc"] == ["body", "policy"]
    assert "本县尚未设定该项奖励扶助的金额" in refused.json()["fields"][0]["msg"]
    admin = await sign_in(county, "county.admin")
    await _set_amounts(admin, only_child_reward="120")
    settings = (await admin.get("/api/v1/county-settings")).json()
    assert settings["reward_amounts"] == {"rural_reward_assistance": "960.00", "only_child_reward": "120.00"}
    stale = await admin.put("/api/v1/county-settings", json={"reward_amounts": {}, "version": settings["version"] - 1})
    assert stale.status_code == 409
    unknown = await admin.put("/api/v1/county-settings", json={"reward_amounts": {"bonus": "1"}, "version": 1})
    assert unknown.status_code == 422
    # The county's officers cannot change it.
    assert (await officer.put("/api/v1/county-settings", json={"reward_amounts": {}})).status_code == 403
    applied = await officer.post("/api/v1/rewards", json=_application(county, "only_child_reward", wife.id, wife.id))
    assert applied.status_code == 201, applied.text
    assert applied.json()["amount"] == "120.00"
    # A reward case is opened only through /rewards, never bare.
    bare = await officer.post(
        "/api/v1/cases", json={"case_type": "only_child_reward", "org_unit_code": county.units["v11"]}
    )
    assert bare.status_code == 422 and "/api/v1/rewards" in bare.json()["fields"][0]["msg"]


async def _sign(client: httpx.AsyncClient, case_id: object, step: str, **fields: object) -> httpx.Response:
    version = (await client.get(f"/api/v1/cases/{case_id}")).json()["version"]
    return await client.post(
        f"/api/v1/cases/{case_id}/actions",
        json={"version": version, "action": "sign", "step": step, "attest": True, **fields},
    )


async def test_a_reward_is_granted_by_three_different_people_and_paid_to_an_entitled_parent(
    county: County, sign_in: SignIn, database: Database, casework: CaseWork
) -> None:
    officer, supervisor, county_sup = [await sign_in(county, name) for name in ("t1.officer", "t1.sup", "county.sup")]
    coordinator = await sign_in(county, "v11.coord")
    wife, husband = await add_couple(database, county, children=(Sex.female,), born=date(1962, 3, 1))
    applied = await officer.post(
        "/api/v1/rewards",
        json=_application(county, "rural_reward_assistance", wife.id, wife.id, spouse_id=str(husband.id)),
    )
    assert applied.status_code == 201, applied.text
    reward = applied.json()
    case_id = reward["case_id"]
    assert (reward["state"], reward["pending_step"], reward["amount"]) == ("pending", "investigate", "960.00")
    case = (await officer.get(f"/api/v1/cases/{case_id}")).json()
    assert case["pending_step"]["key"] == "investigate" and case["pending_step"]["action"] == "case.write"

    # 调查: the attestation must be confirmed; a plain advance is refused.
    unconfirmed = await _sign(officer, case_id, "investigate", attest=False)
    assert unconfirmed.status_code == 422 and unconfirmed.json()["fields"][0]["loc"] == ["body", "attest"]
    await casework.drain(county.tenant.id)
    version = (await officer.get(f"/api/v1/cases/{case_id}")).json()["version"]
    advance = await officer.post(f"/api/v1/cases/{case_id}/actions", json={"version": version, "action": "advance"})
    assert advance.status_code == 409 and "签字" in advance.json()["detail"]
    investigated = await casework.act(
        officer, county, case_id, "sign", step="investigate", attest=True, note="入户核实"
    )
    assert investigated["stage"] == "audit" and investigated["pending_step"]["key"] == "review"
    assert [(item["step"], item["signer_label"]) for item in investigated["signoffs"]] == [
        ("investigate", "t1.officer (t1.officer)")
    ]

    # 审核: the investigator cannot review; a village coordinator holds no reviewer's grant.
    same = await _sign(officer, case_id, "review")
    assert same.status_code == 409, same.text
    assert same.json()["error"] == "SAME_SIGNER"
    assert same.json()["detail"] == SAME_SIGNER.format(
        done="调查", step="审核", done_en="Investigate", step_en="Review"
    )
    not_entitled = await _sign(coordinator, case_id, "review")
    assert not_entitled.status_code == 403 and not_entitled.json()["error"] == "SIGNER_NOT_ENTITLED"
    reviewed = await casework.act(supervisor, county, case_id, "sign", step="review", attest=True)
    assert reviewed["stage"] == "audit" and reviewed["pending_step"]["key"] == "sign"

    # 签字: not the reviewer again; the county supervisor signs and the reward is granted.
    again = await _sign(supervisor, case_id, "sign")
    assert again.status_code == 409
    assert again.json()["detail"] == SAME_SIGNER.format(done="审核", step="签字", done_en="Review", step_en="Sign")
    granted = await casework.act(county_sup, county, case_id, "sign", step="sign", attest=True)
    assert (granted["stage"], granted["outcome"]) == ("closed", "registered")
    signatures = granted["signoffs"]
    assert [item["step"] for item in signatures] == ["investigate", "review", "sign"]
    assert len({item["signer_id"] for item in signatures}) == 3
    assert signatures[0]["attestation"].startswith("本人已入户调查核实") and signatures[0]["note"] == "入户核实"
    reward = (await officer.get(f"/api/v1/rewards/{reward['id']}")).json()
    assert reward["state"] == "granted" and reward["pending_step"] is None

    # Paid to the applicant alone (per-person aid): the husband may not collect it.
    payment = {"amount": "480.00", "paid_on": "2026-06-30", "reference": "银行代发 2026-06"}
    refused = await officer.post(
        f"/api/v1/rewards/{reward['id']}/payments", json={**payment, "payee_id": str(husband.id)}
    )
    assert refused.status_code == 422 and refused.json()["fields"] == [
        {"loc": ["body", "payee_id"], "msg": PAYEE_REFUSED}
    ]
    paid = await officer.post(f"/api/v1/rewards/{reward['id']}/payments", json={**payment, "payee_id": str(wife.id)})
    assert paid.status_code == 201, paid.text
    assert paid.json()["paid"] == "480.00" and len(paid.json()["payments"]) == 1

    # The register and the year's totals.
    register = (await county_sup.get("/api/v1/rewards", params={"year": YEAR, "state": "granted"})).json()
    assert [item["case_number"] for item in register["items"]] == [granted["number"]]
    totals = (await county_sup.get("/api/v1/rewards/totals", params={"year": YEAR})).json()
    assert totals == [
        {
            "policy": "rural_reward_assistance",
            "policy_label": "农村计划生育家庭奖励扶助 / Rural FP family reward assistance",
            "applications": 1,
            "granted": 1,
            "granted_amount": "960.00",
            "paid_amount": "480.00",
        }
    ]


async def test_payments_wait_for_the_grant(county: County, sign_in: SignIn, database: Database) -> None:
    officer = await sign_in(county, "t1.officer")
    wife, husband = await add_couple(
        database, county, children=(Sex.female, Sex.female), measure=ContraceptionMeasure.sterilisation
    )
    applied = await officer.post(
        "/api/v1/rewards", json=_application(county, "rural_reward_assistance", wife.id, wife.id)
    )
    assert applied.status_code == 201, applied.text  # two daughters and a sterilisation on record
    pay = await officer.post(
        f"/api/v1/rewards/{applied.json()['id']}/payments",
        json={"payee_id": str(wife.id), "amount": "80", "paid_on": "2026-01-31"},
    )
    assert pay.status_code == 409 and pay.json()["error"] == "REWARD_NOT_GRANTED"


async def test_rewards_are_seen_only_within_reach_and_never_by_another_county(
    county: County, sign_in: SignIn, database: Database, tenant_factory: TenantFactory
) -> None:
    officer = await sign_in(county, "t1.officer")
    wife, husband = await add_couple(database, county, children=(Sex.female,), born=date(1962, 3, 1))
    applied = await officer.post(
        "/api/v1/rewards", json=_application(county, "rural_reward_assistance", wife.id, wife.id)
    )
    assert applied.status_code == 201, applied.text
    reward_id = applied.json()["id"]
    own = await sign_in(county, "county.sup")
    assert (await own.get(f"/api/v1/rewards/{reward_id}")).status_code == 200
    assert (await own.get("/api/v1/rewards")).json()["total"] == 1

    # A sibling township's supervisor and the officers of another county: not found, not listed, not counted.
    sibling = await sign_in(county, "t2.sup")
    other = await build_county(database, tenant_factory, "邻县")
    await add_user(database, other, "other.sup", "county", [(Role.county_supervisor, "county")])
    stranger = await sign_in(other, "other.sup")
    for client in (sibling, stranger):
        assert (await client.get(f"/api/v1/rewards/{reward_id}")).status_code == 404
        assert (await client.get("/api/v1/rewards")).json()["total"] == 0
        assert (await client.get("/api/v1/rewards/totals", params={"year": YEAR})).json() == []
        paid = await client.post(
            f"/api/v1/rewards/{reward_id}/payments",
            json={"payee_id": str(wife.id), "amount": "80", "paid_on": "2026-01-31"},
        )
        assert paid.status_code in (403, 404)
    # Another county cannot apply for this county's resident either: the person is out of its reach.
    foreign = await stranger.post(
        "/api/v1/rewards",
        json={**_application(other, "rural_reward_assistance", wife.id, wife.id), "org_unit_code": other.units["v11"]},
    )
    assert foreign.status_code == 422 and foreign.json()["fields"][0]["loc"] == ["body", "applicant_id"]
