"""Sign-in gives one answer (issue #16): many failed sign-ins at once for an existing account answer exactly what
they answer for an unknown one, 401 and the same body; failures are counted by one atomic UPDATE (no version
check to lose), so the account still locks after `login_max_failures` and every failure is in the audit log."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from backend.config import Settings
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.models import AuditEvent, User
from tests.fixtures.identity import PASSWORD
from tests.security.conftest import probe_county

ATTEMPTS = 24


async def _attempts(app: FastAPI, tenant_code: str, username: str, password: str) -> list[httpx.Response]:
    """ATTEMPTS sign-ins at once, each on its own connection, as a script hammering the endpoint would."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = {"tenant_code": tenant_code, "username": username, "password": password}
        return await asyncio.gather(*(client.post("/api/v1/auth/session", json=body) for _ in range(ATTEMPTS)))


def _answers(responses: list[httpx.Response]) -> set[tuple[int, str]]:
    return {(response.status_code, response.text) for response in responses}


async def test_parallel_failed_sign_ins_answer_the_same_401_for_an_existing_and_an_unknown_account(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    county = await probe_county(database, "登录县")
    existing = await _attempts(app, county.code, "officer", "wrong-password-1")
    unknown = await _attempts(app, county.code, f"nobody-{uuid.uuid4().hex[:8]}", "wrong-password-1")
    assert _answers(unknown) == _answers(existing)
    ((status, body),) = _answers(existing)
    assert status == 401 and '"LOGIN_FAILED"' in body

    user = county.users["officer"]
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        stored = await session.get(User, user.id)
        assert stored is not None
        # Locked once the failures reached the limit; the failures while locked were not counted.
        assert stored.locked_until is not None
        assert stored.version == user.version, "counting failures is not an edit of the user"
        events: dict[str, int] = dict(
            (
                await session.execute(
                    select(AuditEvent.action, func.count())
                    .where(AuditEvent.entity_id == str(user.id))
                    .group_by(AuditEvent.action)
                )
            ).all()
        )
    assert events["user.login_failed"] == ATTEMPTS
    assert events["user.locked"] >= 1
    # A locked account refuses the right password too, with the same answer.
    locked = await _attempts(app, county.code, "officer", PASSWORD)
    assert _answers(locked) == _answers(unknown)


async def test_parallel_successful_sign_ins_all_succeed(app: FastAPI, database: Database) -> None:
    county = await probe_county(database, "登录县")
    signed: list[Any] = await _attempts(app, county.code, "officer", PASSWORD)
    assert {response.status_code for response in signed} == {200}
