"""A bounded fuzz run over the OpenAPI document (issue #16, item 8): schemathesis generates requests for every
operation from its schema, as a county officer, a county administrator and a department client, and sends them
to the app in-process (its own instance on the test database, started by schemathesis's ASGI client); no answer
may be a 5xx.

The run is reproducible (hypothesis derandomized: a fixed seed) and bounded (`EXAMPLES` per operation and caller:
about 1,300 requests). A failure lists each 5xx with a curl command that repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from backend.config import Settings
from backend.main import create_app
from tests.fixtures.identity import PASSWORD
from tests.security.conftest import probe_county

EXAMPLES = 4
# Signing out would end the run's own session; everything else is fair game.
SKIPPED = {("DELETE", "/api/v1/auth/session")}


@dataclass
class Caller:
    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


async def _signed_in(client: httpx.AsyncClient, code: str, username: str) -> Caller:
    response = await client.post(
        "/api/v1/auth/session", json={"tenant_code": code, "username": username, "password": PASSWORD}
    )
    response.raise_for_status()
    csrf, cookie = response.json()["csrf_token"], response.cookies["lg_session"]
    return Caller(username, {"X-CSRF-Token": csrf}, {"lg_session": cookie})


@pytest.fixture(scope="module")
async def callers(app: FastAPI, database: Any) -> list[Caller]:
    """An officer and an administrator of a county of their own, and a department client it registered."""
    county = await probe_county(database, "模糊测试县")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        officer = await _signed_in(client, county.code, "officer")
        admin = await _signed_in(client, county.code, "admin")
        created = await client.post(
            "/api/v1/admin/api-clients",
            json={"name": "模糊测试公安", "department": "police", "scopes": ["intake:police", "intake:read_status"]},
            headers=admin.headers,
            cookies=admin.cookies,
        )
        created.raise_for_status()
        body = created.json()
        token = await client.post(
            "/api/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": body["client_id"],
                "client_secret": body["client_secret"],
            },
        )
        token.raise_for_status()
    department = Caller("department", {"Authorization": f"Bearer {token.json()['access_token']}"})
    return [officer, admin, department]


settings_for_the_run = hypothesis_settings(
    max_examples=EXAMPLES,
    derandomize=True,  # a fixed seed: the same requests every run
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _fuzz(operation: Any, caller: Caller, failures: list[str]) -> int:
    """`EXAMPLES` generated requests to one operation as one caller; each 5xx is added to `failures`."""
    calls = 0

    @settings_for_the_run
    @given(case=operation.as_strategy())
    def call(case: Any) -> None:
        nonlocal calls
        calls += 1
        response = case.call(headers=caller.headers, cookies=caller.cookies)
        if response.status_code >= 500:
            failures.append(
                f"{caller.name}: {case.method} {case.formatted_path} -> {response.status_code}\n"
                f"  {case.as_curl_command(headers=caller.headers)}"
            )

    call()
    return calls


# Thousands of requests over every operation: on a loaded CI machine that is minutes, not the default 300 s.
@pytest.mark.timeout(1800)
def test_no_generated_request_gets_a_5xx(settings: Settings, callers: list[Caller]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    calls = 0
    for caller in callers:
        for operation in operations:
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue
            calls += _fuzz(operation, caller, failures)
    assert calls > 300, "the run generated almost nothing: is the OpenAPI document served?"
    assert not failures, f"{len(failures)} server errors in {calls} requests:\n" + "\n".join(failures[:30])
