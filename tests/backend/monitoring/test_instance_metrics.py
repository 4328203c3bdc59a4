"""The figures an operator alerts on, read from the database the way the worker's /metrics reads them:
open and overdue cases per county, the outbox backlog and its oldest age per kind, department notifications
and callbacks by status; labels carry codes and enum values only, never personal data."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from backend.authz.vocabulary import Role
from backend.core.clock import utc_now
from backend.core.metrics import INSTANCE_GAUGES
from backend.db.engine import Database, create_engine
from backend.devservices import postgres
from backend.monitoring.service import refresh_instance_metrics
from tests.backend.persons.factories import person_body
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County, SignIn, add_user, build_county


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


async def _open_case(officer: httpx.AsyncClient, county: County) -> str:
    person = await officer.post("/api/v1/persons", json=person_body(county))
    assert person.status_code == 201, person.text
    case = await officer.post(
        "/api/v1/cases",
        json={
            "case_type": "inflow_registration",
            "org_unit_code": county.units["v11"],
            "subjects": [{"person_id": person.json()["id"]}],
        },
    )
    assert case.status_code == 201, case.text
    return str(case.json()["id"])


@pytest.fixture
async def county(database: Database, tenant_factory: TenantFactory) -> County:
    county = await build_county(database, tenant_factory)
    await add_user(database, county, "officer", "t1", [(Role.township_officer, "t1")])
    return county


async def _superuser(database_urls: postgres.DatabaseUrls, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(database_urls.superuser, pool_size=1)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(sql), params)
            return [tuple(row) for row in result.all()] if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_open_and_overdue_cases_are_counted_per_county(
    database: Database, database_urls: postgres.DatabaseUrls, county: County, sign_in: SignIn
) -> None:
    officer = await sign_in(county, "officer")
    await _open_case(officer, county)
    late = await _open_case(officer, county)
    await _superuser(
        database_urls, "UPDATE cases SET due_at = :due WHERE id = :id", due=utc_now() - timedelta(days=1), id=late
    )
    await refresh_instance_metrics(database)
    assert sample("liuguan_cases_open", county=county.code) == 2
    assert sample("liuguan_cases_overdue", county=county.code) == 1


async def test_the_outbox_backlog_and_its_oldest_age_are_published_per_kind(
    database: Database, database_urls: postgres.DatabaseUrls, county: County, sign_in: SignIn
) -> None:
    officer = await sign_in(county, "officer")
    await _open_case(officer, county)  # records a case.start message; no relay runs in this test
    await _superuser(
        database_urls,
        "UPDATE outbox_messages SET created_at = now() - interval '2 hours' "
        "WHERE tenant_id = :tenant AND processed_at IS NULL",
        tenant=county.tenant.id,
    )
    await refresh_instance_metrics(database)
    assert (sample("liuguan_outbox_pending_messages", kind="case.start") or 0) >= 1
    assert (sample("liuguan_outbox_oldest_pending_age_seconds", kind="case.start") or 0) >= 7200

    await _superuser(
        database_urls,
        "UPDATE outbox_messages SET processed_at = now() WHERE tenant_id = :tenant AND processed_at IS NULL",
        tenant=county.tenant.id,
    )
    await refresh_instance_metrics(database)
    [(still_pending,)] = await _superuser(
        database_urls, "SELECT count(*) FROM outbox_messages WHERE kind = 'case.start' AND processed_at IS NULL"
    )
    # Drained: the figure follows the table, and a kind with nothing pending has no series at all.
    assert sample("liuguan_outbox_pending_messages", kind="case.start") == (still_pending or None)


async def test_notifications_and_callbacks_by_status_match_the_tables(
    database: Database, database_urls: postgres.DatabaseUrls
) -> None:
    await refresh_instance_metrics(database)
    # Counted as the superuser, who bypasses row-level security: the worker (in platform context) sees all.
    for table, metric in (
        ("intake_notifications", "liuguan_intake_notifications"),
        ("intake_webhook_deliveries", "liuguan_callback_deliveries"),
    ):
        for status, count in await _superuser(database_urls, f"SELECT status, count(*) FROM {table} GROUP BY status"):
            assert sample(metric, status=str(status)) == count


async def test_labels_carry_only_codes_and_enum_values(database: Database, county: County, sign_in: SignIn) -> None:
    officer = await sign_in(county, "officer")
    await _open_case(officer, county)
    await refresh_instance_metrics(database)
    for gauge in INSTANCE_GAUGES:
        for metric in gauge.collect():
            for series in metric.samples:
                assert set(series.labels) <= {"kind", "status", "county"}
                if "county" in series.labels:
                    assert re.fullmatch(r"\d{6}", series.labels["county"])
                for value in series.labels.values():
                    assert re.fullmatch(r"[a-z_.0-9]+", value), value
