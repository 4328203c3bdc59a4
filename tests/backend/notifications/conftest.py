"""Two counties with officers and supervisors in two townships each (the verification tests' counties, and a
supervisor for the second township), and the relay's notification handler to carry events across counties."""

from __future__ import annotations

import uuid

import httpx
import pytest

from backend.authz.vocabulary import Role
from backend.db.engine import Database
from tests.backend.verification.conftest import TwoCounties, add_person, counties
from tests.fixtures.identity import County, add_user
from workflows.outbox import OutboxRelay
from workflows.outbox_handlers import notification_handlers

__all__ = ["add_person", "counties"]


@pytest.fixture
async def people(database: Database, counties: TwoCounties) -> TwoCounties:
    for county in (counties.a, counties.b):
        await add_user(database, county, "t2.sup", "t2", [(Role.township_supervisor, "t2")])
    return counties


class Relay:
    """The outbox relay with the notification handler only, drained on demand for the test's counties."""

    def __init__(self, database: Database) -> None:
        self.relay = OutboxRelay(database, notification_handlers(database))

    async def drain(self, *tenant_ids: uuid.UUID) -> None:
        for tenant_id in tenant_ids:
            while await self.relay.process_county(tenant_id):
                pass


@pytest.fixture
def relay(database: Database) -> Relay:
    return Relay(database)


async def titles(client: httpx.AsyncClient) -> list[str]:
    """The titles of the signed-in user's notifications, newest first."""
    response = await client.get("/api/v1/me/notifications")
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def told(sign_in: object, county: County, *usernames: str) -> dict[str, list[str]]:
    """Each user's notification titles."""
    result: dict[str, list[str]] = {}
    for username in usernames:
        client = await sign_in(county, username)  # type: ignore[operator]
        result[username] = await titles(client)
    return result
