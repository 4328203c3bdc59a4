"""Submitting notifications: per-item validation, idempotent replays (also concurrent), scopes, status
reads limited to the sender, and the per-client rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select, text

from backend.db.engine import Database
from backend.db.tenancy import set_api_client, set_platform_context
from backend.intake import ratelimit
from backend.models import IntakeNotification
from tests.backend.intake.conftest import MakeClient, birth, residence
from tests.fixtures.identity import County


async def _stored(database: Database, client_id: str) -> list[tuple[str, str]]:
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        rows = await session.execute(
            select(IntakeNotification.transaction_id, IntakeNotification.id).where(
                IntakeNotification.client_id == client_id
            )
        )
        return [(row[0], str(row[1])) for row in rows.all()]


async def _count(database: Database, client_id: str) -> int:
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        statement = (
            select(func.count()).select_from(IntakeNotification).where(IntakeNotification.client_id == client_id)
        )
        return int((await session.execute(statement)).scalar_one())


async def test_a_single_notification_is_accepted_with_a_status_url(county: County, make_client: MakeClient) -> None:
    police = await make_client("police")
    response = await police.http.post("/api/v1/notifications", json=residence(county.code))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "received" and body["replayed"] is False
    status = await police.http.get(body["status_url"])
    assert status.status_code == 200
    assert status.json()["status"] == "received"
    assert status.json()["county_code"] == county.code


async def test_a_batch_with_three_bad_items_accepts_the_other_97_and_names_each_problem(
    county: County, make_client: MakeClient, database: Database
) -> None:
    police = await make_client("police")
    items = [residence(county.code) for _ in range(100)]
    items[5]["person"]["resident_id"] = "330106199001011230"  # wrong check digit
    items[40]["residence_division_code"] = "abc"
    del items[77]["registered_on"]
    response = await police.http.post("/api/v1/notifications:batch", json={"notifications": items})
    assert response.status_code == 202, response.text
    body = response.json()
    assert len(body["accepted"]) == 97
    assert [(error["index"], error["field"]) for error in body["errors"]] == [
        (5, "person.resident_id"),
        (40, "residence_division_code"),
        (77, "registered_on"),
    ]
    assert all(error["reason"] for error in body["errors"])
    assert "校验位" in body["errors"][0]["reason"]
    assert await _count(database, police.client_id) == 97


async def test_replaying_a_batch_three_times_stores_each_transaction_once(
    county: County, make_client: MakeClient, database: Database
) -> None:
    police = await make_client("police")
    batch = {"notifications": [residence(county.code) for _ in range(50)]}
    headers = {"Idempotency-Key": "batch-2026-11-22-001"}
    first = await police.http.post("/api/v1/notifications:batch", json=batch, headers=headers)
    replays = [await police.http.post("/api/v1/notifications:batch", json=batch, headers=headers) for _ in range(2)]
    ids = [item["id"] for item in first.json()["accepted"]]
    for replay in replays:
        assert replay.status_code == 202
        assert [item["id"] for item in replay.json()["accepted"]] == ids
        assert all(item["replayed"] for item in replay.json()["accepted"])
    assert await _count(database, police.client_id) == 50


async def test_concurrent_replays_of_a_batch_store_each_transaction_once(
    county: County, make_client: MakeClient, database: Database
) -> None:
    police = await make_client("police")
    batch = {"notifications": [residence(county.code) for _ in range(100)]}
    responses = await asyncio.gather(*(police.http.post("/api/v1/notifications:batch", json=batch) for _ in range(3)))
    assert [response.status_code for response in responses] == [202] * 3
    id_lists = [[item["id"] for item in response.json()["accepted"]] for response in responses]
    assert id_lists[0] == id_lists[1] == id_lists[2]
    stored = await _stored(database, police.client_id)
    assert len(stored) == 100
    assert sorted(notification_id for _, notification_id in stored) == sorted(id_lists[0])


async def test_a_transaction_id_reused_for_different_content_is_refused(
    county: County, make_client: MakeClient
) -> None:
    police = await make_client("police")
    original = residence(county.code)
    assert (await police.http.post("/api/v1/notifications", json=original)).status_code == 202
    changed = residence(county.code, transaction_id=original["transaction_id"])
    response = await police.http.post("/api/v1/notifications", json=changed)
    assert response.status_code == 409
    assert response.json()["error"] == "transaction_reused"
    batch = await police.http.post("/api/v1/notifications:batch", json={"notifications": [changed]})
    assert batch.json()["accepted"] == []
    assert batch.json()["errors"][0]["field"] == "transaction_id"


async def test_a_health_client_cannot_send_a_police_type(county: County, make_client: MakeClient) -> None:
    health = await make_client("health")
    single = await health.http.post("/api/v1/notifications", json=residence(county.code))
    assert single.status_code == 403
    batch = await health.http.post(
        "/api/v1/notifications:batch", json={"notifications": [residence(county.code), birth(county.code)]}
    )
    assert batch.status_code == 202
    assert [item["index"] for item in batch.json()["accepted"]] == [1]
    assert batch.json()["errors"] == [{"index": 0, "field": "type", "reason": batch.json()["errors"][0]["reason"]}]


async def test_a_client_cannot_read_another_clients_notification(
    county: County, make_client: MakeClient, database: Database
) -> None:
    police, other_police = await make_client("police"), await make_client("police")
    accepted = (await police.http.post("/api/v1/notifications", json=residence(county.code))).json()
    assert (await other_police.http.get(accepted["status_url"])).status_code == 404
    # Row-level security alone hides it too: the other client's context sees no row at all.
    async with database.sessionmaker() as session, session.begin():
        await set_api_client(session, other_police.client_id)
        rows = await session.execute(
            text("SELECT count(*) FROM intake_notifications WHERE id = :id"), {"id": accepted["id"]}
        )
        assert rows.scalar_one() == 0
    async with database.sessionmaker() as session, session.begin():
        await set_api_client(session, police.client_id)
        rows = await session.execute(
            text("SELECT count(*) FROM intake_notifications WHERE id = :id"), {"id": accepted["id"]}
        )
        assert rows.scalar_one() == 1


async def test_a_user_session_cannot_submit(county: County, sign_in) -> None:
    officer = await sign_in(county, "officer")
    assert (await officer.post("/api/v1/notifications", json=residence(county.code))).status_code == 403


async def test_only_department_clients_submit_others_get_401_or_403_and_nothing_is_stored(
    county: County, api: httpx.AsyncClient, platform_headers: dict[str, str], database: Database
) -> None:
    """The submit routes check their permission themselves (backend/intake/transaction.py): the answers
    must be those of every other route."""
    body = residence(county.code)
    assert (await api.post("/api/v1/notifications", json=body)).status_code == 401
    assert (await api.post("/api/v1/notifications:batch", json={"notifications": [body]})).status_code == 401
    garbage = {"Authorization": "Bearer not-a-token"}
    assert (await api.post("/api/v1/notifications", json=body, headers=garbage)).status_code == 401
    platform = await api.post("/api/v1/notifications", json=body, headers=platform_headers)
    assert platform.status_code == 403
    async with database.sessionmaker() as session, session.begin():
        await set_platform_context(session)
        stored = await session.execute(
            select(func.count())
            .select_from(IntakeNotification)
            .where(IntakeNotification.transaction_id == body["transaction_id"])
        )
        assert stored.scalar_one() == 0


async def test_a_failure_after_the_insert_rolls_the_submit_back(
    county: County, make_client: MakeClient, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One transaction per request on the lean path too: rows inserted before an error are not committed."""
    from backend.intake import submit as service

    police = await make_client("police")
    original = service.NotificationIntake.by_transaction_ids

    async def fail_after_insert(self, client_id, transaction_ids):  # type: ignore[no-untyped-def]
        await original(self, client_id, transaction_ids)
        raise RuntimeError("storage failed after the insert")

    monkeypatch.setattr(service.NotificationIntake, "by_transaction_ids", fail_after_insert)
    response = await police.http.post("/api/v1/notifications:batch", json={"notifications": [residence(county.code)]})
    assert response.status_code == 500
    assert await _count(database, police.client_id) == 0
    monkeypatch.undo()
    again = await police.http.post("/api/v1/notifications:batch", json={"notifications": [residence(county.code)]})
    assert again.status_code == 202 and await _count(database, police.client_id) == 1


async def test_a_batch_over_1000_items_is_refused(county: County, make_client: MakeClient) -> None:
    police = await make_client("police")
    response = await police.http.post(
        "/api/v1/notifications:batch", json={"notifications": [residence(county.code)] * 1001}
    )
    assert response.status_code == 422
    assert response.json()["fields"]


@pytest.fixture
def tight_rate_limit() -> Iterator[None]:
    rate, burst = ratelimit.buckets.rate, ratelimit.buckets.burst
    ratelimit.buckets.configure(rate_per_second=0.5, burst=3)
    yield
    ratelimit.buckets.configure(rate_per_second=rate, burst=burst, pinned=False)


async def test_a_client_over_its_rate_gets_429_with_retry_after(
    county: County, make_client: MakeClient, tight_rate_limit: None
) -> None:
    police = await make_client("police")
    statuses = [
        (await police.http.post("/api/v1/notifications", json=residence(county.code))).status_code for _ in range(3)
    ]
    assert statuses == [202, 202, 202]
    limited = await police.http.post("/api/v1/notifications", json=residence(county.code))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"] == "rate_limited"
    other = await make_client("police")
    assert (await other.http.post("/api/v1/notifications", json=residence(county.code))).status_code == 202


def test_the_openapi_schema_has_a_valid_example_for_every_notification_type(app) -> None:  # type: ignore[no-untyped-def]
    from backend.intake.schemas import NOTIFICATION_ADAPTER, NotificationType

    examples = app.openapi()["paths"]["/api/v1/notifications"]["post"]["requestBody"]["content"]["application/json"][
        "examples"
    ]
    assert set(examples) == {kind.value for kind in NotificationType}
    for name, example in examples.items():
        assert NOTIFICATION_ADAPTER.validate_python(example["value"]).type == name
