"""A bounded fuzz run over the OpenAPI document (issue #16, item 8): schemathesis generates requests for every
operation from its schema, as a county officer, a county administrator and a department client, against the app
served by uvicorn on the test database; no answer may be a 5xx.

The run is reproducible (hypothesis derandomized: a fixed seed) and bounded (`EXAMPLES` per operation and role;
about a thousand requests). A failure lists each 5xx with a curl command that repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from backend.db.engine import Database
from tests.fixtures.identity import PASSWORD, County
from tests.security.conftest import probe_county

EXAMPLES = 4
# Signing out would end the run's own session; everything else is fair game.
SKIPPED = {("DELETE", "/api/v1/auth/session")}


@dataclass
class Caller:
    name: str
    session: requests.Session = field(default_factory=requests.Session)
    headers: dict[str, str] = field(default_factory=dict)


def _signed_in(live_server: str, county: County, username: str) -> Caller:
    caller = Caller(username)
    response = caller.session.post(
        f"{live_server}/api/v1/auth/session",
        json={"tenant_code": county.code, "username": username, "password": PASSWORD},
        timeout=30,
    )
    response.raise_for_status()
    caller.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return caller


def _department(live_server: str, admin: Caller) -> Caller:
    created = admin.session.post(
        f"{live_server}/api/v1/admin/api-clients",
        json={"name": "模糊测试公安", "department": "police", "scopes": ["intake:police", "intake:read_status"]},
        headers=admin.headers,
        timeout=30,
    )
    created.raise_for_status()
    body = created.json()
    token = requests.post(
        f"{live_server}/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": body["client_id"],
            "client_secret": body["client_secret"],
        },
        timeout=30,
    )
    token.raise_for_status()
    return Caller("department", headers={"Authorization": f"Bearer {token.json()['access_token']}"})


@pytest.fixture(scope="module")
async def fuzz_county(database: Database) -> County:
    return await probe_county(database, "模糊测试县")


def test_no_generated_request_gets_a_5xx(app: FastAPI, live_server: str, fuzz_county: County) -> None:
    schema = schemathesis.openapi.from_dict(app.openapi())
    officer = _signed_in(live_server, fuzz_county, "officer")
    admin = _signed_in(live_server, fuzz_county, "admin")
    callers = [officer, admin, _department(live_server, admin)]
    failures: list[str] = []
    calls = 0

    operations = [result.ok() for result in schema.get_all_operations()]
    for caller in callers:
        for operation in operations:
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def call(case: Any, caller: Caller = caller) -> None:
                nonlocal calls
                calls += 1
                response = case.call(base_url=live_server, session=caller.session, headers=caller.headers, timeout=60)
                if response.status_code >= 500:
                    failures.append(
                        f"{caller.name}: {case.method} {case.formatted_path} -> {response.status_code}\n"
                        f"  {case.as_curl_command(headers=caller.headers)}"
                    )

            call()

    assert calls > 100, "the run generated almost nothing: is the OpenAPI document served?"
    assert not failures, f"{len(failures)} server errors in {calls} requests:\n" + "\n".join(failures[:30])
