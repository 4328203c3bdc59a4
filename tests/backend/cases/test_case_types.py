"""Case types as configuration: shipped defaults, a county's override merged on top, validation naming the field,
optimistic locking, reset, isolation between counties, and the abolished social maintenance fee."""

from __future__ import annotations

from typing import Any

import pytest

from backend.authz.vocabulary import Role
from backend.case_types.definitions import DEFAULT_CASE_TYPES
from backend.db.engine import Database
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county

FIRST_CHILD = "first_child_registration"


async def _county(database: Database, tenant_factory: TenantFactory, name: str) -> County:
    county = await build_county(database, tenant_factory, name)
    await add_user(database, county, "admin", "county", [(Role.county_admin, "county")])
    await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
    return county


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    return await _county(database, tenant_factory, "甲县")


@pytest.fixture
async def other(database: Database, tenant_factory: TenantFactory) -> County:
    return await _county(database, tenant_factory, "乙县")


def _fields(response: Any) -> list[str]:
    return [".".join(str(part) for part in field["loc"] if part != "body") for field in response.json()["fields"]]


class TestDefaults:
    async def test_every_shipped_type_is_listed_with_its_default(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        response = await officer.get("/api/v1/case-types")
        assert response.status_code == 200, response.text
        types = {item["code"]: item for item in response.json()}
        assert list(types) == list(DEFAULT_CASE_TYPES)
        first_child = types[FIRST_CHILD]
        assert first_child["stages"] == [stage.value for stage in DEFAULT_CASE_TYPES[FIRST_CHILD].stages]
        assert [(rule["stage"], rule["working_days"]) for rule in first_child["deadlines"]] == [
            ("registration", 7),
            ("verification", 15),
            ("follow_up", 15),
        ]
        assert (first_child["overridden_fields"], first_child["version"]) == ([], None)
        fee = types["social_maintenance_fee"]
        assert (fee["enabled"], fee["abolished"]) == (False, True)

    async def test_an_unknown_code_is_404(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        admin = await sign_in(county, "admin")
        assert (await officer.get("/api/v1/case-types/no_such_type")).status_code == 404
        assert (await admin.put("/api/v1/case-types/no_such_type", json={"label": "x"})).status_code == 404
        assert (await admin.delete("/api/v1/case-types/no_such_type/override")).status_code == 404

    async def test_an_administrator_reads_what_she_may_configure(self, county: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "admin")
        assert (await admin.get("/api/v1/case-types")).status_code == 200
        read = await admin.get(f"/api/v1/case-types/{FIRST_CHILD}")
        assert read.status_code == 200, read.text
        changed = await admin.put(f"/api/v1/case-types/{FIRST_CHILD}", json={"label": "一孩登记（本县）"})
        assert changed.status_code == 200
        assert (await admin.get(f"/api/v1/case-types/{FIRST_CHILD}")).json()["label"] == "一孩登记（本县）"


class TestOverride:
    async def test_an_override_merges_with_the_defaults(self, county: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "admin")
        response = await admin.put(
            f"/api/v1/case-types/{FIRST_CHILD}",
            json={
                "label": "一孩登记（本县）",
                "deadlines": [
                    {"stage": "registration", "working_days": 5, "source": "县规定5个工作日"},
                    {"stage": "verification", "working_days": 15},
                    {"stage": "follow_up", "calendar_days": 20},
                ],
            },
        )
        assert response.status_code == 200, response.text
        merged = response.json()
        default = DEFAULT_CASE_TYPES[FIRST_CHILD]
        assert merged["label"] == "一孩登记（本县）"
        assert merged["stages"] == [stage.value for stage in default.stages]  # not overridden: the default
        assert merged["required_documents"] == list(default.required_documents)
        assert [(rule["stage"], rule["working_days"], rule["calendar_days"]) for rule in merged["deadlines"]] == [
            ("registration", 5, None),
            ("verification", 15, None),
            ("follow_up", None, 20),
        ]
        assert (merged["overridden_fields"], merged["version"]) == (["label", "deadlines"], 1)
        officer = await sign_in(county, "officer")
        assert (await officer.get(f"/api/v1/case-types/{FIRST_CHILD}")).json() == merged
        listed = {item["code"]: item for item in (await officer.get("/api/v1/case-types")).json()}
        assert listed[FIRST_CHILD] == merged

    async def test_a_county_sets_when_reminders_and_escalations_fire(self, county: County, sign_in: SignIn) -> None:
        admin, officer = await sign_in(county, "admin"), await sign_in(county, "officer")
        default = (await officer.get(f"/api/v1/case-types/{FIRST_CHILD}")).json()
        assert default["alerts"] == {"reminder_working_days": 2, "escalation_working_days": [2, 5]}
        saved = await admin.put(
            f"/api/v1/case-types/{FIRST_CHILD}",
            json={"alerts": {"reminder_working_days": 3, "escalation_working_days": [1, 4]}},
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["alerts"] == {"reminder_working_days": 3, "escalation_working_days": [1, 4]}
        assert saved.json()["overridden_fields"] == ["alerts"]
        refused = await admin.put(
            f"/api/v1/case-types/{FIRST_CHILD}",
            json={"version": 1, "alerts": {"reminder_working_days": 0, "escalation_working_days": [5, 2]}},
        )
        assert refused.status_code == 422
        assert _fields(refused) == ["alerts.reminder_working_days", "alerts.escalation_working_days"]
        assert (await officer.get(f"/api/v1/case-types/{FIRST_CHILD}")).json()["alerts"]["reminder_working_days"] == 3

    async def test_put_replaces_the_whole_override(self, county: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "admin")
        first = (await admin.put("/api/v1/case-types/complaint", json={"label": "投诉", "enabled": False})).json()
        second = await admin.put("/api/v1/case-types/complaint", json={"enabled": False, "version": first["version"]})
        assert second.status_code == 200, second.text
        assert second.json()["label"] == DEFAULT_CASE_TYPES["complaint"].label  # back to the default label
        assert (second.json()["enabled"], second.json()["overridden_fields"]) == (False, ["enabled"])

    async def test_new_stages_with_deadlines_on_them(self, county: County, sign_in: SignIn) -> None:
        admin = await sign_in(county, "admin")
        response = await admin.put(
            f"/api/v1/case-types/{FIRST_CHILD}",
            json={
                "stages": ["registration", "verification", "closed"],
                "deadlines": [{"stage": "verification", "working_days": 60}],
                "required_documents": ["id_card", "marriage_certificate"],
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["stages"] == ["registration", "verification", "closed"]
        assert response.json()["required_documents"] == ["id_card", "marriage_certificate"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"stages": ["verification", "registration", "closed"]}, "stages.1"),
            ({"stages": ["registration", "registration", "closed"]}, "stages.1"),
            ({"stages": ["registration", "verification"]}, "stages"),
            ({"stages": ["closed"]}, "stages"),
            ({"stages": []}, "stages"),
            ({"stages": ["registration", "approval", "closed"]}, "stages.1"),
            # The shipped follow_up deadline would lose its stage: deadlines must be given with the new stages.
            ({"stages": ["registration", "verification", "closed"]}, "stages"),
            (
                {"stages": ["registration", "closed"], "deadlines": [{"stage": "verification", "working_days": 5}]},
                "deadlines.0.stage",
            ),
            ({"deadlines": [{"stage": "closed", "working_days": 5}]}, "deadlines.0.stage"),
            ({"deadlines": [{"stage": "registration", "working_days": 0}]}, "deadlines.0.working_days"),
            ({"deadlines": [{"stage": "registration", "working_days": 61}]}, "deadlines.0.working_days"),
            ({"deadlines": [{"stage": "registration", "working_days": 5, "calendar_days": 5}]}, "deadlines.0"),
            ({"deadlines": [{"stage": "registration"}]}, "deadlines.0"),
            ({"deadlines": [{"stage": "registration", "calendar_days": 400}]}, "deadlines.0.calendar_days"),
            ({"deadlines": [{"stage": "registration", "working_days": "soon"}]}, "deadlines.0.working_days"),
            (
                {
                    "deadlines": [
                        {"stage": "registration", "working_days": 5},
                        {"stage": "registration", "working_days": 6},
                    ]
                },
                "deadlines.1.stage",
            ),
            ({"label": ""}, "label"),
            ({"label": "长" * 101}, "label"),
            ({"required_documents": ["ID Card"]}, "required_documents.0"),
            ({"required_documents": ["id_card", "id_card"]}, "required_documents.1"),
            ({"fee_amount": 100}, "fee_amount"),
            ({"enabled": "sometimes"}, "enabled"),
        ],
    )
    async def test_invalid_overrides_are_refused_naming_the_field_and_nothing_is_saved(
        self, county: County, sign_in: SignIn, body: dict[str, Any], field: str
    ) -> None:
        admin = await sign_in(county, "admin")
        response = await admin.put(f"/api/v1/case-types/{FIRST_CHILD}", json=body)
        assert response.status_code == 422, response.text
        assert field in _fields(response)
        assert all("/" in item["msg"] for item in response.json()["fields"])  # Chinese first, then English
        current = (await admin.get(f"/api/v1/case-types/{FIRST_CHILD}/override")).json()
        assert (current["version"], current["overridden_fields"]) == (None, [])

    async def test_a_county_keeps_the_stages_and_deadlines_of_a_types_signature_steps(
        self, county: County, sign_in: SignIn
    ) -> None:
        admin = await sign_in(county, "admin")
        listed = (await admin.get("/api/v1/case-types/only_child_reward/override")).json()
        assert [(step["key"], step["stage"], step["action"]) for step in listed["signoffs"]] == [
            ("investigate", "verification", "case.write"),
            ("review", "audit", "case.assign"),
            ("sign", "audit", "case.approve"),
        ]
        dropped = await admin.put("/api/v1/case-types/only_child_reward", json={"stages": ["verification", "closed"]})
        assert dropped.status_code == 422, dropped.text
        assert dropped.json()["fields"] == [
            {
                "loc": ["body", "stages"],
                "msg": "阶段 audit 有签字步骤，不能移除 / stage(s) audit hold signature steps and cannot be removed",
            }
        ]
        timed = await admin.put(
            "/api/v1/case-types/only_child_reward", json={"deadlines": [{"stage": "audit", "working_days": 3}]}
        )
        assert timed.status_code == 422 and _fields(timed) == ["deadlines.0.stage"]
        assert (await admin.get("/api/v1/case-types/only_child_reward/override")).json()["version"] is None

    async def test_the_abolished_social_maintenance_fee_cannot_be_enabled(
        self, county: County, sign_in: SignIn
    ) -> None:
        admin = await sign_in(county, "admin")
        response = await admin.put("/api/v1/case-types/social_maintenance_fee", json={"enabled": True})
        assert response.status_code == 422, response.text
        assert _fields(response) == ["enabled"]
        message = response.json()["fields"][0]["msg"]
        assert "2021" in message and "社会抚养费" in message and "abolished" in message
        officer = await sign_in(county, "officer")
        fee = (await officer.get("/api/v1/case-types/social_maintenance_fee")).json()
        assert (fee["enabled"], fee["version"]) == (False, None)

    async def test_only_config_managers_change_case_types(self, county: County, sign_in: SignIn) -> None:
        officer = await sign_in(county, "officer")
        assert (await officer.put("/api/v1/case-types/complaint", json={"enabled": False})).status_code == 403
        assert (await officer.delete("/api/v1/case-types/complaint/override")).status_code == 403


class TestVersionsAndReset:
    async def test_changing_an_existing_override_needs_the_current_version(
        self, county: County, sign_in: SignIn
    ) -> None:
        admin = await sign_in(county, "admin")
        first = (await admin.put("/api/v1/case-types/complaint", json={"label": "来信来访"})).json()
        missing = await admin.put("/api/v1/case-types/complaint", json={"label": "信访"})
        assert (missing.status_code, _fields(missing)) == (422, ["version"])
        updated = await admin.put("/api/v1/case-types/complaint", json={"label": "信访", "version": first["version"]})
        assert (updated.status_code, updated.json()["version"]) == (200, first["version"] + 1)
        stale = await admin.put("/api/v1/case-types/complaint", json={"label": "投诉", "version": first["version"]})
        assert (stale.status_code, stale.json()["error"]) == (409, "STALE_VERSION")
        assert stale.json()["current"]["overrides"] == {"label": "信访"}
        assert (await admin.get("/api/v1/case-types/complaint/override")).json()["label"] == "信访"

    async def test_reset_restores_the_defaults_and_both_writes_are_audited(
        self, county: County, sign_in: SignIn
    ) -> None:
        admin = await sign_in(county, "admin")
        officer = await sign_in(county, "officer")
        default = (await officer.get(f"/api/v1/case-types/{FIRST_CHILD}")).json()
        await admin.put(
            f"/api/v1/case-types/{FIRST_CHILD}",
            json={"enabled": False, "label": "暂停", "required_documents": ["id_card"]},
        )
        reset = await admin.delete(f"/api/v1/case-types/{FIRST_CHILD}/override")
        assert reset.status_code == 200, reset.text
        after = (await officer.get(f"/api/v1/case-types/{FIRST_CHILD}")).json()
        assert {key: value for key, value in after.items() if key != "version"} == {
            key: value for key, value in default.items() if key != "version"
        }
        events = (await admin.get("/api/v1/audit/events", params={"entity_type": "case_type"})).json()
        assert [event["action"] for event in events] == ["case_type.reset", "case_type.configure"]
        assert events[1]["changes"]["label"] == [None, "暂停"]
        assert events[0]["changes"]["enabled"] == [False, None]

    async def test_one_countys_override_does_not_affect_another(
        self, county: County, other: County, sign_in: SignIn
    ) -> None:
        other_admin = await sign_in(other, "admin")
        response = await other_admin.put("/api/v1/case-types/complaint", json={"enabled": False, "label": "乙县投诉"})
        assert response.status_code == 200, response.text
        ours = (await (await sign_in(county, "officer")).get("/api/v1/case-types/complaint")).json()
        theirs = (await (await sign_in(other, "officer")).get("/api/v1/case-types/complaint")).json()
        assert (ours["enabled"], ours["label"], ours["version"]) == (True, DEFAULT_CASE_TYPES["complaint"].label, None)
        assert (theirs["enabled"], theirs["label"]) == (False, "乙县投诉")
