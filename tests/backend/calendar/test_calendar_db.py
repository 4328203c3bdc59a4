"""The working-day calendar in the database: the seeded official schedule, county holidays per tenant, the
admin import of a State Council notice, row-level security, and the migration itself.

Imports of future years run in the rolled-back `session`, each test with a year of its own (2031-2035), so the
shared test database keeps only what the migration seeded.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.repository import AuditRepository
from backend.audit.service import verify_chain
from backend.calendar import DayKind, DueDate, NoticeImportError, SpecialDay
from backend.calendar.errors import (
    CountyHolidayExists,
    CountyHolidayInPast,
    CountyHolidayNotFound,
    NoticeDatesTaken,
    OfficialYearAlreadyPublished,
)
from backend.calendar.official import official_published_years, official_special_days
from backend.calendar.schemas import CalendarDayRead, CountyHolidayCreate, CountyHolidayRead, OfficialImportResult
from backend.calendar.service import (
    add_county_holiday,
    due_date,
    import_official_notice,
    list_calendar_days,
    list_county_holidays,
    load_calendar,
    remove_county_holiday,
    year_warning,
)
from backend.db.engine import Database
from backend.db.tenancy import set_platform_context, set_tenant
from backend.models import Tenant
from tests.fixtures.database import TenantFactory

CALENDAR_TABLES = ("official_calendar_years", "official_calendar_days", "county_holidays")
TODAY = date(2026, 1, 5)  # a Monday; county holidays are added "from then on"


def notice_csv(rows: list[tuple[str, str, str]], source: str = "国办发明电（测试）") -> str:
    return "date,kind,name,source\n" + "".join(f"{day},{kind},{name},{source}\n" for day, kind, name in rows)


def days(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=offset)).isoformat() for offset in range((end - start).days + 1)]


# A fake notice for 2031: National Day 10-01..10-07 with make-up Sunday 09-28 and Saturday 10-11.
NOTICE_2031 = notice_csv(
    [
        ("2031-01-01", "public_holiday", "元旦"),
        ("2031-09-28", "makeup_workday", "国庆节"),
        *((day, "public_holiday", "国庆节") for day in days("2031-10-01", "2031-10-07")),
        ("2031-10-11", "makeup_workday", "国庆节"),
    ]
)


async def import_events(session: AsyncSession, tenant: Tenant, year: int) -> list[Any]:
    await set_tenant(session, tenant.id)
    return await AuditRepository(session).list_for_entity("official_calendar_year", str(year))


async def official_days_dated(session: AsyncSession, first: date, last: date) -> int:
    result = await session.execute(
        text("SELECT count(*) FROM official_calendar_days WHERE date BETWEEN :first AND :last"),
        {"first": first, "last": last},
    )
    return int(result.scalar_one())


# --- the seeded official schedule ----------------------------------------------------------------------


class TestSeededSchedule:
    async def test_the_migration_seeded_every_day_and_year_the_package_knows(self, session: AsyncSession) -> None:
        calendar = await load_calendar(session)
        rows = (
            await session.execute(
                # Only what the migration seeded: other tests import later years' notices through the API.
                text(
                    "SELECT date, kind, name, name_en, source FROM official_calendar_days "
                    "WHERE source LIKE 'chinesecalendar%' ORDER BY date"
                )
            )
        ).all()

        assert [SpecialDay(row.date, DayKind(row.kind), row.name, row.source, row.name_en) for row in rows] == (
            sorted(official_special_days(), key=lambda day: day.date)
        )
        assert calendar.published_years >= frozenset(official_published_years())

    async def test_2026_is_published_with_its_national_day_and_makeup_saturday(self, session: AsyncSession) -> None:
        calendar = await load_calendar(session)
        listed = {(day.date, day.kind, day.name) for day in await list_calendar_days(session, 2026)}

        assert calendar.is_published(2026)
        assert (date(2026, 10, 1), DayKind.PUBLIC_HOLIDAY, "国庆节") in listed
        assert (date(2026, 2, 28), DayKind.MAKEUP_WORKDAY, "春节") in listed
        assert calendar.is_working_day(date(2026, 10, 1)) is False
        assert calendar.is_working_day(date(2026, 2, 28)) is True

    async def test_seven_working_days_from_2026_02_12_end_on_the_makeup_saturday(self, session: AsyncSession) -> None:
        assert await due_date(session, date(2026, 2, 12), 7) == DueDate(date(2026, 2, 28), provisional=False)

    async def test_december_new_years_day_days_are_seeded_under_the_next_years_notice(
        self, session: AsyncSession
    ) -> None:
        rows = (
            await session.execute(
                text(
                    "SELECT date, notice_year FROM official_calendar_days "
                    "WHERE date BETWEEN '2018-12-29' AND '2019-01-01' ORDER BY date"
                )
            )
        ).all()

        assert [(row.date, row.notice_year) for row in rows] == [
            (date(2018, 12, 29), 2019),
            (date(2018, 12, 30), 2019),
            (date(2018, 12, 31), 2019),
            (date(2019, 1, 1), 2019),
        ]

    async def test_no_year_warning_before_november(self, session: AsyncSession) -> None:
        assert await year_warning(session, date(2026, 10, 31)) is None

    async def test_admins_are_warned_about_next_year_from_november_first(self, session: AsyncSession) -> None:
        expected = None if 2027 in official_published_years() else 2027

        assert await year_warning(session, date(2026, 11, 1)) == expected


class TestCalendarCache:
    @pytest.fixture
    def statements(self, database: Database) -> Iterator[list[str]]:
        executed: list[str] = []

        def record(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
            executed.append(statement)

        event.listen(database.engine.sync_engine, "before_cursor_execute", record)
        yield executed
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)

    async def test_the_official_part_costs_one_query_once_cached(
        self, session: AsyncSession, tenant_factory: TenantFactory, statements: list[str]
    ) -> None:
        tenant = await tenant_factory()
        await load_calendar(session)
        statements.clear()
        await load_calendar(session)
        assert len(statements) == 1  # the version of the official schedule

        await set_tenant(session, tenant.id)
        statements.clear()
        await load_calendar(session)
        assert len(statements) == 1  # the version with the county's holidays (one statement)

    async def test_a_county_holiday_counts_from_the_next_load_of_a_cached_calendar(
        self, session: AsyncSession, tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        await set_tenant(session, tenant.id)
        assert await due_date(session, date(2026, 2, 12), 7) == DueDate(date(2026, 2, 28), False)
        assert await due_date(session, date(2026, 2, 12), 7) == DueDate(date(2026, 2, 28), False)  # cached
        await add_county_holiday(session, date(2026, 2, 26), "县庆", "某县人民政府令（测试）", today=TODAY)
        assert await due_date(session, date(2026, 2, 12), 7) == DueDate(date(2026, 3, 2), False)


# --- county holidays -------------------------------------------------------------------------------------


class TestCountyHolidays:
    async def test_a_county_holiday_shifts_its_countys_due_date_only(
        self, session: AsyncSession, tenant_factory: TenantFactory
    ) -> None:
        tenant_a, tenant_b = await tenant_factory(), await tenant_factory()
        await set_tenant(session, tenant_a.id)
        await add_county_holiday(session, date(2026, 2, 26), "县庆", "某县人民政府令（测试）", today=TODAY)

        # Thu 02-26 is off in county A: Fri 02-27 (5), Sat 02-28 make-up (6), Mon 03-02 (7).
        assert await due_date(session, date(2026, 2, 12), 7) == DueDate(date(2026, 3, 2), False)
        await set_tenant(session, tenant_b.id)
        assert await due_date(session, date(2026, 2, 12), 7) == DueDate(date(2026, 2, 28), False)
        assert await list_county_holidays(session) == []
        assert (await session.execute(text("SELECT count(*) FROM county_holidays"))).scalar_one() == 0

    async def test_adding_and_removing_a_county_holiday_is_audited(
        self, session: AsyncSession, tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        await set_tenant(session, tenant.id)
        holiday = await add_county_holiday(session, date(2026, 3, 3), "三月三", "某县人民政府令第3号", today=TODAY)
        assert [day.date for day in await list_county_holidays(session, 2026)] == [date(2026, 3, 3)]
        assert (date(2026, 3, 3), DayKind.COUNTY_HOLIDAY, "三月三") in {
            (day.date, day.kind, day.name) for day in await list_calendar_days(session, 2026)
        }

        await remove_county_holiday(session, date(2026, 3, 3), today=TODAY)

        events = await AuditRepository(session).list_for_entity("county_holiday", str(holiday.id))
        assert [(event.action, event.org_unit_code, event.changes) for event in events] == [
            (
                "calendar.county_holiday.add",
                tenant.code,
                {"date": [None, "2026-03-03"], "name": [None, "三月三"], "source": [None, "某县人民政府令第3号"]},
            ),
            (
                "calendar.county_holiday.remove",
                tenant.code,
                {"date": ["2026-03-03", None], "name": ["三月三", None], "source": ["某县人民政府令第3号", None]},
            ),
        ]
        assert await list_county_holidays(session) == []
        assert (await verify_chain(session)).ok

    async def test_a_date_that_already_is_a_county_holiday_is_refused(
        self, session: AsyncSession, tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        await set_tenant(session, tenant.id)
        await add_county_holiday(session, date(2026, 3, 3), "三月三", "令", today=TODAY)

        with pytest.raises(CountyHolidayExists) as raised:
            await add_county_holiday(session, date(2026, 3, 3), "三月三", "令", today=TODAY)
        assert raised.value.status_code == 409
        assert raised.value.detail == "2026-03-03 已是本县增设假日 / 2026-03-03 is already a county holiday"

    async def test_removing_a_date_that_is_not_a_county_holiday_is_refused(
        self, session: AsyncSession, tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        await set_tenant(session, tenant.id)

        with pytest.raises(CountyHolidayNotFound) as raised:
            await remove_county_holiday(session, date(2026, 3, 3), today=TODAY)
        assert raised.value.status_code == 404
        assert raised.value.detail == "2026-03-03 不是本县增设假日 / 2026-03-03 is not a county holiday"

    async def test_past_days_cannot_be_added_or_removed_but_today_can(
        self, session: AsyncSession, tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        await set_tenant(session, tenant.id)
        yesterday = TODAY - timedelta(days=1)

        with pytest.raises(CountyHolidayInPast) as raised:
            await add_county_holiday(session, yesterday, "县庆", "令", today=TODAY)
        assert raised.value.status_code == 422
        assert raised.value.detail.startswith("2026-01-04 早于今天 2026-01-05")
        assert [field.loc for field in raised.value.fields] == [("body", "date")]
        await add_county_holiday(session, TODAY, "县庆", "令", today=TODAY)
        with pytest.raises(CountyHolidayInPast):
            await remove_county_holiday(session, TODAY, today=TODAY + timedelta(days=1))
        assert [day.date for day in await list_county_holidays(session)] == [TODAY]

    async def test_a_county_cannot_insert_a_holiday_for_another_county(
        self, database: Database, tenant_factory: TenantFactory
    ) -> None:
        tenant_a, tenant_b = await tenant_factory(), await tenant_factory()
        async with database.sessionmaker() as db_session:
            with pytest.raises(ProgrammingError, match="row-level security"):
                async with db_session.begin():
                    await set_tenant(db_session, tenant_a.id)
                    await db_session.execute(
                        text(
                            "INSERT INTO county_holidays (id, tenant_id, date, name, source) "
                            "VALUES (:id, :tenant_id, '2026-03-03', '县庆', '令')"
                        ),
                        {"id": uuid.uuid4(), "tenant_id": tenant_b.id},
                    )


# --- the official schedule is written by the platform only -----------------------------------------------


class TestOfficialScheduleSecurity:
    @pytest.mark.parametrize(
        ("statement", "parameters"),
        [
            (
                "INSERT INTO official_calendar_days (id, date, kind, name, source, notice_year) "
                "VALUES (:id, '2026-03-09', 'public_holiday', '伪造', '无', 2026)",
                {"id": uuid.uuid4()},
            ),
            ("INSERT INTO official_calendar_years (year, source) VALUES (2040, '无')", {}),
        ],
    )
    async def test_the_app_role_cannot_write_the_official_schedule_outside_the_platform_context(
        self, database: Database, tenant_factory: TenantFactory, statement: str, parameters: dict[str, Any]
    ) -> None:
        tenant = await tenant_factory()
        async with database.sessionmaker() as db_session:
            with pytest.raises(ProgrammingError, match="row-level security"):
                async with db_session.begin():
                    await set_tenant(db_session, tenant.id)  # a county's scope is no licence either
                    await db_session.execute(text(statement), parameters)

    async def test_the_app_role_deletes_nothing_outside_the_platform_context(self, session: AsyncSession) -> None:
        deleted = await session.execute(text("DELETE FROM official_calendar_days WHERE date = '2026-10-01'"))

        assert deleted.rowcount == 0  # type: ignore[attr-defined]
        assert await official_days_dated(session, date(2026, 10, 1), date(2026, 10, 1)) == 1

    async def test_the_app_role_cannot_update_official_days_even_in_the_platform_context(
        self, session: AsyncSession
    ) -> None:
        await set_platform_context(session)
        with pytest.raises(DBAPIError, match="permission denied"):
            await session.execute(text("UPDATE official_calendar_days SET name = 'x' WHERE date = '2026-10-01'"))


# --- importing a State Council notice -----------------------------------------------------------------------


class TestOfficialImport:
    async def test_importing_a_new_year_publishes_it_and_makes_its_due_dates_final(
        self, session: AsyncSession, tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        # Tue 2031-09-30 + 5: counted Monday-to-Friday while 2031 is unpublished.
        assert await due_date(session, date(2031, 9, 30), 5) == DueDate(date(2031, 10, 7), provisional=True)

        result = await import_official_notice(session, NOTICE_2031, "csv")

        # 10-01..10-07 off: Wed 10-08 (1), Thu (2), Fri (3), Sat 10-11 make-up (4), Mon 10-13 (5).
        assert await due_date(session, date(2031, 9, 30), 5) == DueDate(date(2031, 10, 13), provisional=False)
        assert (await load_calendar(session)).is_published(2031)
        assert (
            result.year,
            result.days_added,
            result.days_removed,
            result.public_holidays,
            result.makeup_workdays,
            result.newly_published,
            result.affected_from,
        ) == (2031, 10, 0, 8, 2, True, date(2031, 1, 1))
        assert result.published_years_changed == (2031,)
        assert result.tenants_notified >= 1
        assert OfficialImportResult.model_validate(result).replaced is False
        # The import leaves the transaction as it found it: no tenant, no platform context.
        assert session.info.get("tenant_id") is None
        assert (await session.execute(text("SELECT count(*) FROM audit_events"))).scalar_one() == 0
        with pytest.raises(DBAPIError, match="row-level security"):
            async with session.begin_nested():
                await session.execute(text("INSERT INTO official_calendar_years (year, source) VALUES (2041, 'x')"))

        events = await import_events(session, tenant, 2031)
        assert [(event.action, event.org_unit_code) for event in events] == [("calendar.official_import", tenant.code)]
        assert events[0].changes["year"] == [None, 2031]
        assert events[0].changes["makeup_workdays"] == [None, ["2031-09-28 国庆节", "2031-10-11 国庆节"]]
        assert (await verify_chain(session)).ok

    async def test_a_published_year_is_refused_unless_replaced(
        self, session: AsyncSession, tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        first = notice_csv([(day, "public_holiday", "劳动节") for day in days("2032-05-01", "2032-05-05")])
        # The correction moves the make-up day: Tue 05-04 is a working day again, Sat 05-08 a make-up day.
        corrected = notice_csv(
            [
                *((day, "public_holiday", "劳动节") for day in days("2032-05-01", "2032-05-03")),
                ("2032-05-08", "makeup_workday", "劳动节"),
            ],
            source="国办发明电（更正）",
        )
        await import_official_notice(session, first, "csv")
        assert await due_date(session, date(2032, 4, 30), 1) == DueDate(date(2032, 5, 6), False)

        with pytest.raises(OfficialYearAlreadyPublished) as raised:
            await import_official_notice(session, corrected, "csv")
        assert raised.value.status_code == 409
        assert raised.value.code == "CALENDAR_YEAR_PUBLISHED"
        assert raised.value.detail.startswith("2032年的放假安排已发布")

        result = await import_official_notice(session, corrected, "csv", replace=True)

        assert (result.days_added, result.days_removed, result.newly_published, result.source) == (
            4,
            5,
            False,
            "国办发明电（更正）",
        )
        assert result.published_years_changed == ()
        assert [(day.date, day.kind) for day in await list_calendar_days(session, 2032)] == [
            *((date(2032, 5, day), DayKind.PUBLIC_HOLIDAY) for day in (1, 2, 3)),
            (date(2032, 5, 8), DayKind.MAKEUP_WORKDAY),
        ]
        assert await due_date(session, date(2032, 4, 30), 1) == DueDate(date(2032, 5, 4), False)
        events = await import_events(session, tenant, 2032)
        assert len(events) == 2
        assert events[1].changes["source"] == ["国办发明电（测试）", "国办发明电（更正）"]
        assert events[1].changes["makeup_workdays"] == [[], ["2032-05-08 劳动节"]]

    async def test_a_file_with_bad_rows_changes_nothing(
        self, session: AsyncSession, tenant_factory: TenantFactory
    ) -> None:
        tenant = await tenant_factory()
        bad = notice_csv(
            [
                ("2033-01-01", "public_holiday", "元旦"),
                ("2033-01-32", "public_holiday", "元旦"),
                ("2033-01-03", "makeup_workday", "元旦"),
            ]
        )
        await set_tenant(session, tenant.id)
        head = await AuditRepository(session).chain_head()
        assert head is not None
        last_seq = head.last_seq

        with pytest.raises(NoticeImportError) as raised:
            await import_official_notice(session, bad, "csv")

        assert [field.loc for field in raised.value.fields] == [(3, "date"), (4, "date")]
        assert not (await load_calendar(session)).is_published(2033)
        assert await official_days_dated(session, date(2033, 1, 1), date(2033, 12, 31)) == 0
        head = await AuditRepository(session).chain_head()
        assert head is not None and head.last_seq == last_seq

    async def test_a_json_notice_may_begin_new_years_day_in_the_unpublished_december_before(
        self, session: AsyncSession
    ) -> None:
        rows = [
            {"date": "2034-12-30", "kind": "makeup_workday", "name": "元旦", "source": "国办发明电（测试）"},
            *(
                {"date": day, "kind": "public_holiday", "name": "元旦", "source": "国办发明电（测试）"}
                for day in days("2034-12-31", "2035-01-02")
            ),
        ]

        result = await import_official_notice(session, json.dumps(rows, ensure_ascii=False), "json")

        assert (result.year, result.affected_from) == (2035, date(2034, 12, 30))
        calendar = await load_calendar(session)
        assert calendar.is_published(2035) and not calendar.is_published(2034)
        # Sat 2034-12-30 is worked, but the rest of 2034 is unknown: the due date stays provisional.
        assert await due_date(session, date(2034, 12, 29), 1) == DueDate(date(2034, 12, 30), True)

        # A 2034 notice may not claim a date the 2035 notice announced.
        clash = notice_csv([("2034-10-02", "public_holiday", "国庆节"), ("2034-12-30", "public_holiday", "测试")])
        with pytest.raises(NoticeDatesTaken) as raised:
            await import_official_notice(session, clash, "csv")
        assert [(field.loc, field.msg) for field in raised.value.fields] == [
            (("date", "2034-12-30"), "2034-12-30 已属于2035年的通知 / 2034-12-30 already belongs to the 2035 notice")
        ]
        assert not (await load_calendar(session)).is_published(2034)


# --- schemas ---------------------------------------------------------------------------------------------


def test_county_holiday_create_validates_at_the_edge() -> None:
    created = CountyHolidayCreate.model_validate({"date": "2026-03-03", "name": " 三月三 ", "source": "令"})
    assert (created.date, created.name) == (date(2026, 3, 3), "三月三")
    for bad in (
        {"date": "2026-03-03", "name": "", "source": "令"},
        {"date": "2026-03-03", "name": "x" * 51, "source": "令"},
        {"date": "2026-02-30", "name": "x", "source": "令"},
        {"date": "2026-03-03", "name": "x", "source": "令", "tenant_id": str(uuid.uuid4())},
    ):
        with pytest.raises(ValueError, match="validation error"):
            CountyHolidayCreate.model_validate(bad)


async def test_read_schemas_are_built_from_rows_and_special_days(
    session: AsyncSession, tenant_factory: TenantFactory
) -> None:
    tenant = await tenant_factory()
    await set_tenant(session, tenant.id)
    holiday = await add_county_holiday(session, date(2026, 3, 3), "三月三", "令", today=TODAY)

    assert CountyHolidayRead.model_validate(holiday).model_dump(exclude={"created_at"}) == {
        "id": holiday.id,
        "date": date(2026, 3, 3),
        "name": "三月三",
        "source": "令",
    }
    national_day = [day for day in await list_calendar_days(session, 2026) if day.date == date(2026, 10, 1)]
    assert CalendarDayRead.model_validate(national_day[0]).model_dump() == {
        "date": date(2026, 10, 1),
        "kind": DayKind.PUBLIC_HOLIDAY,
        "name": "国庆节",
        "name_en": "National Day",
        "source": national_day[0].source,
    }


# --- the migration ----------------------------------------------------------------------------------------


def _table_of(difference: Any) -> str:
    """The table an alembic autogenerate difference is about."""
    if isinstance(difference, list):  # column modifications come grouped: [("modify_type", schema, table, ...)]
        return str(difference[0][2])
    kind, subject = difference[0], difference[1]
    if kind in ("add_column", "remove_column"):
        return str(difference[2])
    if kind in ("add_table", "remove_table"):
        return str(subject.name)
    return str(subject.table.name)  # indexes, unique constraints, foreign keys
