"""The probe's odd inputs (issue #16): each is refused with 422 at its field, never a 500, and never reaches the
database (PostgreSQL refuses NUL in text). One input policy (backend/core/input.py) answers them all."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.backend.persons.factories import make_id, person_body
from tests.security.conftest import Probe

NUL = "a\u0000b"
CONTROL = "a\u001bb"


def _fields(response: httpx.Response) -> list[list[Any]]:
    return [field["loc"] for field in response.json()["fields"]]


def _refused_at(response: httpx.Response, *loc: Any) -> None:
    assert response.status_code == 422, response.text
    assert list(loc) in _fields(response), response.text


async def test_a_nul_in_the_sign_in_username_is_refused_at_the_field(api: httpx.AsyncClient, probe: Probe) -> None:
    response = await api.post(
        "/api/v1/auth/session", json={"tenant_code": probe.county.code, "username": f"officer{NUL}", "password": "x"}
    )
    _refused_at(response, "body", "username")
    assert response.json()["fields"][0]["msg"] == "不能包含控制字符 / control characters are not allowed"


@pytest.mark.parametrize("field", ["name", "notes", "registration_address", "residence_address"])
async def test_a_nul_in_a_person_field_is_refused(officer: httpx.AsyncClient, probe: Probe, field: str) -> None:
    body = person_body(probe.county, resident_id=make_id(sex="female"), **{field: NUL})
    _refused_at(await officer.post("/api/v1/persons", json=body), "body", field)


async def test_notes_keep_their_line_breaks_but_not_other_controls(officer: httpx.AsyncClient, probe: Probe) -> None:
    body = person_body(probe.county, resident_id=make_id(sex="female"), notes="第一行\n第二行\t备注")
    created = await officer.post("/api/v1/persons", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["notes"] == "第一行\n第二行\t备注"
    body = person_body(probe.county, resident_id=make_id(sex="female"), notes=CONTROL)
    _refused_at(await officer.post("/api/v1/persons", json=body), "body", "notes")


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"title": NUL}, ["body", "title"]),
        ({"details": {NUL: "x"}}, ["body", "details"]),
        ({"details": {"note": NUL}}, ["body", "details"]),
        ({"details": {"nested": [{"deep": NUL}]}}, ["body", "details"]),
    ],
)
async def test_a_nul_in_a_case_title_or_details_is_refused(
    officer: httpx.AsyncClient, probe: Probe, body: dict[str, Any], loc: list[str]
) -> None:
    response = await officer.post(
        "/api/v1/cases", json={"case_type": "inflow_registration", "org_unit_code": probe.county.units["v11"], **body}
    )
    _refused_at(response, *loc)


def _agreement(probe: Probe, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "responsibility_letter",
        "title": "房屋出租计划生育责任书",
        "parties": [{"role": "landlord", "name": "王房东"}, {"role": "township", "name": "一镇"}],
        "signed_on": "2026-01-05",
        "valid_from": "2026-01-05",
        "org_unit_code": probe.county.units["t1"],
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"title": NUL}, ["body", "title"]),
        ({"parties": [{"role": "landlord", "name": NUL}, {"role": "township", "name": "一镇"}]}, None),
        ({"signed_on": "2099-01-01"}, ["body", "signed_on"]),
    ],
)
async def test_agreements_refuse_a_nul_and_a_future_signature(
    officer: httpx.AsyncClient, probe: Probe, overrides: dict[str, Any], loc: list[str] | None
) -> None:
    response = await officer.post("/api/v1/agreements", json=_agreement(probe, **overrides))
    assert response.status_code == 422, response.text
    assert loc is None or loc in _fields(response)


async def test_a_nul_in_a_break_glass_reason_is_refused(sign_in: Any, probe: Probe) -> None:
    client = await sign_in(probe.county, "t1.supervisor")
    response = await client.post(
        "/api/v1/break-glass", json={"org_unit_code": probe.county.units["t2"], "reason": f"紧急核查流动人口情况{NUL}"}
    )
    _refused_at(response, "body", "reason")


@pytest.mark.parametrize(
    ("who", "path", "param"),
    [
        ("officer", "/api/v1/persons", "q"),
        ("officer", "/api/v1/persons", "resident_id"),
        ("officer", "/api/v1/certificates", "number"),
        ("officer", "/api/v1/cases", "q"),
        ("auditor", "/api/v1/audit/events", "entity_type"),
        ("auditor", "/api/v1/audit/events", "correlation_id"),
    ],
)
async def test_a_nul_in_a_search_parameter_is_refused(
    sign_in: Any, probe: Probe, who: str, path: str, param: str
) -> None:
    client = await sign_in(probe.county, who)
    _refused_at(await client.get(path, params={param: NUL}), "query", param)


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("/api/v1/org-units/3301%00", ["path", "code"]),
        ("/api/v1/case-types/inflow%00", ["path", "code"]),
        ("/api/v1/registers/inflow%00", ["path", "register"]),
    ],
)
async def test_a_nul_in_a_path_is_refused(officer: httpx.AsyncClient, path: str, loc: list[str]) -> None:
    _refused_at(await officer.get(path), *loc)


@pytest.mark.parametrize("field", ["priority", "title", "details"])
async def test_an_explicit_null_on_a_case_field_is_refused(
    officer: httpx.AsyncClient, probe: Probe, field: str
) -> None:
    case = (await officer.get(f"/api/v1/cases/{probe.case['id']}")).json()
    response = await officer.patch(f"/api/v1/cases/{case['id']}", json={"version": case["version"], field: None})
    _refused_at(response, "body", field)
    assert response.json()["fields"][0]["msg"].endswith("may be left out, but not null")


@pytest.mark.parametrize("field", ["active", "display_name", "org_unit_code"])
async def test_an_explicit_null_on_a_user_field_is_refused(admin: httpx.AsyncClient, probe: Probe, field: str) -> None:
    user_id = probe.county.users["auditor"].id
    user = (await admin.get(f"/api/v1/admin/users/{user_id}")).json()
    response = await admin.patch(f"/api/v1/admin/users/{user_id}", json={"version": user["version"], field: None})
    _refused_at(response, "body", field)


@pytest.mark.parametrize("field", ["name", "sex", "flow_direction", "org_unit_code", "children", "key_subject"])
async def test_an_explicit_null_on_a_person_field_every_person_has_is_refused(
    officer: httpx.AsyncClient, probe: Probe, field: str
) -> None:
    person = (await officer.get(f"/api/v1/persons/{probe.person['id']}")).json()
    response = await officer.patch(f"/api/v1/persons/{person['id']}", json={"version": person["version"], field: None})
    _refused_at(response, "body", field)


async def test_a_case_details_object_has_a_size_limit(officer: httpx.AsyncClient, probe: Probe) -> None:
    big = {"note": "字" * 300_000}  # about 900 kB of UTF-8
    response = await officer.post(
        "/api/v1/cases",
        json={"case_type": "inflow_registration", "org_unit_code": probe.county.units["v11"], "details": big},
    )
    _refused_at(response, "body", "details")
    assert "16384" in response.json()["fields"][0]["msg"]


@pytest.mark.parametrize("wildcard", ["%", "_", "\\", "%%", "李%"])
async def test_a_like_wildcard_in_a_case_search_matches_only_itself(
    officer: httpx.AsyncClient, probe: Probe, wildcard: str
) -> None:
    everything = (await officer.get("/api/v1/cases", params={"size": 1})).json()
    assert everything["total"] >= 1
    found = await officer.get("/api/v1/cases", params={"q": wildcard})
    assert found.status_code == 200, found.text
    assert found.json()["total"] == 0, f"{wildcard!r} matched {found.json()['total']} cases"
    named = await officer.get("/api/v1/cases", params={"q": probe.person["name"]})
    assert named.json()["total"] >= 1


@pytest.mark.parametrize("wildcard", ["李%", "李_", "李\\"])
async def test_a_like_wildcard_in_a_person_search_matches_only_itself(
    officer: httpx.AsyncClient, wildcard: str
) -> None:
    found = await officer.get("/api/v1/persons", params={"q": wildcard})
    assert found.status_code == 200, found.text
    assert found.json()["total"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("flow_date", "2099-01-01"), ("contraception_date", "2099-01-01"), ("birth_date", "2099-01-01")],
)
async def test_a_person_date_that_happened_refuses_the_future(
    officer: httpx.AsyncClient, probe: Probe, field: str, value: str
) -> None:
    body = person_body(probe.county, resident_id=None, sex="female", **{field: value})
    response = await officer.post("/api/v1/persons", json=body)
    _refused_at(response, "body", field)
    assert response.json()["fields"][0]["msg"] == "日期不能在将来 / the date cannot be in the future"


async def test_a_case_received_in_the_future_is_refused(officer: httpx.AsyncClient, probe: Probe) -> None:
    response = await officer.post(
        "/api/v1/cases",
        json={
            "case_type": "inflow_registration",
            "org_unit_code": probe.county.units["v11"],
            "received_at": "2099-01-01T09:00:00+08:00",
        },
    )
    _refused_at(response, "body", "received_at")


async def test_a_webhook_url_past_the_length_limit_is_refused(admin: httpx.AsyncClient) -> None:
    url = "https://callbacks.example.org/" + "a" * 590
    response = await admin.post(
        "/api/v1/admin/api-clients",
        json={"name": "公安人口系统", "department": "police", "scopes": ["intake:police"], "webhook_url": url},
    )
    _refused_at(response, "body", "webhook_url")


async def test_a_lone_surrogate_is_refused_not_a_500(officer: httpx.AsyncClient, probe: Probe) -> None:
    unit = probe.county.units["v11"]
    raw = '{"case_type": "inflow_registration", "org_unit_code": "' + unit + '", "title": "\\ud800"}'
    response = await officer.post("/api/v1/cases", content=raw, headers={"Content-Type": "application/json"})
    _refused_at(response, "body", "title")


@pytest.mark.parametrize(
    "url",
    ["/cases?q=a%00b", "/persons?q=%00", "/certificates?number=%1b", "/registers/inflow%00", "/admin/case-types/x%00"],
)
async def test_a_control_character_in_a_page_url_is_refused_before_the_page(
    sign_in: Any, probe: Probe, url: str
) -> None:
    officer = await sign_in(probe.county, "officer")
    response = await officer.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 422, response.text[:300]
    assert "控制字符" in response.text


async def test_a_nul_in_the_sign_in_page_username_fails_like_a_wrong_password(
    api: httpx.AsyncClient, probe: Probe
) -> None:
    page = await api.get("/login")
    csrf = page.cookies["lg_login_csrf"]
    response = await api.post(
        "/login",
        data={"tenant_code": probe.county.code, "username": f"officer{NUL}", "password": "x", "csrf_token": csrf},
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 401, response.text[:300]
