"""The follow-up sweep on the time-skipping test server, with the real activities against the test database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, time, timedelta, timezone

from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from backend.db.engine import Database
from backend.followups.rules import add_years
from backend.models import Agreement, AgreementKind, Case, CertificateStatus, FlowDirection, MaritalStatus, Sex
from tests.fixtures.database import TenantFactory
from tests.fixtures.identity import County
from tests.workflows.followups.conftest import Registry, Sweep
from workflows.followups import followup_activities
from workflows.followups.activities import FollowUpActivities
from workflows.followups.types import FollowUpSweepResult, PlanDueInput, PlanDueResult

CHINA = timezone(timedelta(hours=8))


def due_day(case: Case) -> date:
    """The case's due date as the county reads it (stored as the end of that day, China time)."""
    assert case.due_at is not None
    local = case.due_at.astimezone(CHINA)
    assert local.time() == time(23, 59, 59)
    return local.date()


def of(result: FollowUpSweepResult, county: County) -> PlanDueResult:
    """What the sweep did in one county."""
    found = result.for_county(county.code)
    assert found is not None, result
    return found


def keys(cases: list[Case]) -> list[str]:
    return [case.details["followup_key"] for case in cases]


class TestCertificateRenewal:
    async def test_three_year_certificate_gets_its_renewal_case_90_days_before_expiry(
        self, registry: Registry, county: County, sweep: Sweep
    ) -> None:
        woman = await registry.woman(county, "王芳")
        certificate = await registry.certificate(county, woman, issued=date(2028, 5, 10))
        expiry = date(2031, 5, 10)
        assert certificate.valid_until == expiry

        await sweep(county, as_of=expiry - timedelta(days=91))
        assert await registry.cases(county, "certificate_renewal") == []

        first = await sweep(county, as_of=expiry - timedelta(days=90))
        renewals = await registry.cases(county, "certificate_renewal")
        assert len(renewals) == 1
        assert renewals[0].primary_person_id == woman.id
        assert renewals[0].details["certificate_id"] == str(certificate.id)
        assert due_day(renewals[0]) == expiry
        assert of(first, county).opened["certificate_renewal"] == 1

        again = await sweep(county, as_of=expiry - timedelta(days=30))
        assert len(await registry.cases(county, "certificate_renewal")) == 1
        assert of(again, county).opened.get("certificate_renewal", 0) == 0

    async def test_permanent_certificate_never_gets_a_renewal_case(
        self, registry: Registry, county: County, sweep: Sweep
    ) -> None:
        sterilised = await registry.woman(county, "赵琳")
        await registry.certificate(county, sterilised, issued=date(2028, 5, 10), permanent=True)
        comparison = await registry.woman(county, "钱雪")
        await registry.certificate(county, comparison, issued=date(2028, 5, 10))

        for as_of in (date(2031, 2, 9), date(2031, 5, 11), date(2034, 5, 10), date(2040, 1, 1)):
            await sweep(county, as_of=as_of)

        assert await registry.cases(county, "certificate_renewal", sterilised) == []
        # The sweeps did run: the three-year one, issued the same day, got its reminder.
        assert len(await registry.cases(county, "certificate_renewal", comparison)) == 1

    async def test_renewed_or_revoked_certificate_gets_no_reminder_its_successor_does(
        self, registry: Registry, county: County, sweep: Sweep
    ) -> None:
        woman = await registry.woman(county, "孙丽")
        old = await registry.certificate(county, woman, issued=date(2028, 5, 10), status=CertificateStatus.renewed)
        new = await registry.certificate(county, woman, issued=date(2031, 3, 1), renews=old)
        revoked_holder = await registry.woman(county, "周敏")
        await registry.certificate(county, revoked_holder, issued=date(2028, 5, 10), status=CertificateStatus.revoked)

        await sweep(county, as_of=date(2031, 4, 1))
        await sweep(county, as_of=date(2034, 1, 1))

        renewals = await registry.cases(county, "certificate_renewal")
        assert [case.details["certificate_id"] for case in renewals] == [str(new.id)]
        assert due_day(renewals[0]) == date(2034, 3, 1)


class TestCertificateInspection:
    async def test_inspection_case_appears_once_a_year(self, registry: Registry, county: County, sweep: Sweep) -> None:
        woman = await registry.woman(county, "吴静", arrived=date(2029, 9, 1))
        certificate = await registry.certificate(county, woman, issued=date(2030, 3, 1))
        await registry.inspection(county, certificate, date(2030, 6, 1))
        due = date(2031, 6, 1)  # 365 days after the last inspection

        await sweep(county, as_of=due - timedelta(days=31))
        assert await registry.cases(county, "certificate_inspection") == []

        await sweep(county, as_of=due - timedelta(days=30))
        await sweep(county, as_of=due - timedelta(days=10))  # same window: nothing new
        inspections = await registry.cases(county, "certificate_inspection")
        assert [due_day(case) for case in inspections] == [due]

        # Next year, with no inspection recorded in between: the next occurrence gets its own case.
        next_due = due + timedelta(days=365)
        await sweep(county, as_of=next_due - timedelta(days=30))
        inspections = await registry.cases(county, "certificate_inspection")
        assert [due_day(case) for case in inspections] == [due, next_due]
        assert len(set(keys(inspections))) == 2

    async def test_recorded_inspection_moves_the_next_one_a_year_on(
        self, registry: Registry, county: County, sweep: Sweep
    ) -> None:
        woman = await registry.woman(county, "郑洁", arrived=date(2029, 9, 1))
        certificate = await registry.certificate(county, woman, issued=date(2030, 3, 1))
        await registry.inspection(county, certificate, date(2030, 6, 1))
        await sweep(county, as_of=date(2031, 5, 15))
        await registry.inspection(county, certificate, date(2031, 5, 20))  # the officer did the inspection

        await sweep(county, as_of=date(2031, 6, 2))  # the old occurrence's window: nothing new
        await sweep(county, as_of=date(2032, 4, 20))  # 30 days before 2031-05-20 + 365
        assert [due_day(case) for case in await registry.cases(county, "certificate_inspection")] == [
            date(2031, 6, 1),
            date(2032, 5, 19),
        ]

    async def test_never_inspected_certificate_is_due_on_arrival_and_outflow_holders_are_not_inspected_here(
        self, registry: Registry, county: County, sweep: Sweep
    ) -> None:
        arrived = await registry.woman(county, "冯梅", arrived=date(2031, 1, 20))
        await registry.certificate(county, arrived, issued=date(2030, 11, 5))
        away = await registry.woman(county, "陈红", flow=FlowDirection.outflow)
        await registry.certificate(county, away, issued=date(2030, 11, 5))

        await sweep(county, as_of=date(2031, 1, 25))

        inspections = await registry.cases(county, "certificate_inspection")
        assert [case.primary_person_id for case in inspections] == [arrived.id]
        assert due_day(inspections[0]) == date(2031, 1, 20)
        assert inspections[0].details["first_inspection"] is True


class TestCheckRounds:
    async def _year_of_sweeps(self, sweep: Sweep, county: County, year: int) -> None:
        for month in range(1, 13):
            await sweep(county, as_of=date(year, month, 1))

    async def test_key_subject_gets_four_rounds_a_year_and_an_ordinary_subject_two(
        self, registry: Registry, county: County, sweep: Sweep
    ) -> None:
        key = await registry.woman(county, "褚燕", key_subject=True)
        ordinary = await registry.woman(county, "卫兰")
        within = await registry.woman(county, "蒋萍", flow=FlowDirection.within_county)
        not_planned = [
            await registry.woman(county, "沈月", marital=MaritalStatus.unmarried),
            await registry.woman(county, "韩霞", born=date(1981, 1, 1)),  # 50 in 2031
            await registry.woman(county, "杨柳", born=None),  # age unknown
            await registry.woman(county, "朱丹", flow=FlowDirection.outflow),  # checked where she lives
            await registry.woman(county, "秦刚", sex=Sex.male),
        ]

        await self._year_of_sweeps(sweep, county, 2031)
        await sweep(county, as_of=date(2031, 12, 31))

        key_rounds = await registry.cases(county, "pregnancy_check_round", key)
        assert [due_day(case) for case in key_rounds] == [
            date(2031, 3, 31),
            date(2031, 6, 30),
            date(2031, 9, 30),
            date(2031, 12, 31),
        ]
        assert [case.details["round"] for case in key_rounds] == [1, 2, 3, 4]
        ordinary_rounds = await registry.cases(county, "pregnancy_check_round", ordinary)
        assert [due_day(case) for case in ordinary_rounds] == [date(2031, 6, 30), date(2031, 12, 31)]
        assert len(await registry.cases(county, "pregnancy_check_round", within)) == 2
        for person in not_planned:
            assert await registry.cases(county, "pregnancy_check_round", person) == [], person.name

    async def test_tenant_override_of_three_rounds_changes_the_count(
        self, registry: Registry, county: County, tenant_factory: TenantFactory, sweep: Sweep
    ) -> None:
        await registry.rules(county, {"check_rounds_per_year": 3})
        ordinary = await registry.woman(county, "许静")
        key = await registry.woman(county, "何琴", key_subject=True)
        default_county = await registry.county(tenant_factory, "默认县")
        default_ordinary = await registry.woman(default_county, "吕萍")

        for month in range(1, 13):
            await sweep(county, default_county, as_of=date(2031, month, 1))

        assert [due_day(case) for case in await registry.cases(county, "pregnancy_check_round", ordinary)] == [
            date(2031, 4, 30),
            date(2031, 8, 31),
            date(2031, 12, 31),
        ]
        assert len(await registry.cases(county, "pregnancy_check_round", key)) == 4
        assert len(await registry.cases(default_county, "pregnancy_check_round", default_ordinary)) == 2


class TestMailBackNotice:
    async def test_notice_opens_one_month_before_the_quarter_ends_for_out_migrant_women(
        self, registry: Registry, county: County, sweep: Sweep
    ) -> None:
        away = await registry.woman(county, "施娟", flow=FlowDirection.outflow)
        here = await registry.woman(county, "张蓉")

        await sweep(county, as_of=date(2031, 2, 28))
        assert await registry.cases(county, "contraception_report") == []

        await sweep(county, as_of=date(2031, 3, 1))
        await sweep(county, as_of=date(2031, 3, 20))
        await sweep(county, as_of=date(2031, 5, 31))  # Q2's notice is not out yet
        notices = await registry.cases(county, "contraception_report")
        assert [(case.primary_person_id, due_day(case)) for case in notices] == [(away.id, date(2031, 3, 31))]
        assert notices[0].details["task"] == "mail_back_check_report"
        assert notices[0].details["quarter"] == "2031-Q1"

        await sweep(county, as_of=date(2031, 6, 1))
        notices = await registry.cases(county, "contraception_report")
        assert [due_day(case) for case in notices] == [date(2031, 3, 31), date(2031, 6, 30)]
        assert await registry.cases(county, "contraception_report", here) == []
        assert await registry.cases(county, "pregnancy_check_round", away) == []


class TestPostpartumVisit:
    async def test_visit_due_42_days_after_the_birth(self, registry: Registry, county: County, sweep: Sweep) -> None:
        mother = await registry.woman(county, "曹敏")
        await registry.child(county, mother, date(2030, 1, 5), order=1)
        await registry.child(county, mother, date(2031, 3, 10), order=2)
        twins = await registry.woman(county, "严丽")
        await registry.child(county, twins, date(2031, 3, 10), order=1)
        await registry.child(county, twins, date(2031, 3, 10), order=2)
        away = await registry.woman(county, "华芳", flow=FlowDirection.outflow)
        await registry.child(county, away, date(2031, 3, 10))
        visit_due = date(2031, 4, 21)  # 2031-03-10 + 42 days

        await sweep(county, as_of=visit_due - timedelta(days=8))
        assert await registry.cases(county, "follow_up_visit") == []

        await sweep(county, as_of=visit_due - timedelta(days=7))
        await sweep(county, as_of=visit_due + timedelta(days=5))
        visits = await registry.cases(county, "follow_up_visit")
        assert {case.primary_person_id for case in visits} == {mother.id, twins.id}
        assert len(visits) == 2
        assert {due_day(case) for case in visits} == {visit_due}
        assert {case.details["child_birth_date"] for case in visits} == {"2031-03-10"}

    async def test_a_birth_recorded_long_after_the_visit_was_due_opens_nothing(
        self, registry: Registry, county: County, sweep: Sweep
    ) -> None:
        mother = await registry.woman(county, "金凤")
        await registry.child(county, mother, date(2031, 1, 1))
        await sweep(county, as_of=date(2031, 1, 1) + timedelta(days=42 + 31))
        assert await registry.cases(county, "follow_up_visit") == []


class TestCountyRules:
    async def test_switched_off_county_or_case_type_opens_nothing(
        self, registry: Registry, county: County, tenant_factory: TenantFactory, sweep: Sweep
    ) -> None:
        await registry.rules(county, {}, enabled=False)
        await registry.woman(county, "邹红", key_subject=True)
        no_visits = await registry.county(tenant_factory, "不随访县")
        await registry.disable_case_type(no_visits, "follow_up_visit")
        mother = await registry.woman(no_visits, "喻梅")
        await registry.child(no_visits, mother, date(2031, 3, 10))

        result = await sweep(county, no_visits, as_of=date(2031, 4, 20))

        assert of(result, county).enabled is False
        assert await registry.cases(county) == []
        assert await registry.cases(no_visits, "follow_up_visit") == []
        assert len(await registry.cases(no_visits, "pregnancy_check_round", mother)) == 1

    async def test_unreadable_rules_fail_that_county_only(
        self, registry: Registry, county: County, tenant_factory: TenantFactory, sweep: Sweep
    ) -> None:
        await registry.rules(county, {"check_rounds_per_year": 5})
        await registry.woman(county, "苏琳")
        fine = await registry.county(tenant_factory, "正常县")
        await registry.woman(fine, "潘雪")

        result = await sweep(county, fine, as_of=date(2031, 4, 20))

        assert [failure.tenant_code for failure in result.failed] == [county.code]
        assert "check_rounds_per_year" in result.failed[0].error
        assert await registry.cases(county) == []
        assert len(await registry.cases(fine, "pregnancy_check_round")) == 1

    async def test_person_kept_by_a_closed_unit_is_skipped_and_the_rest_planned(
        self, registry: Registry, county: County, sweep: Sweep
    ) -> None:
        stranded = await registry.woman(county, "袁媛", unit="v12")
        planned = await registry.woman(county, "邓佳", unit="v11")
        await registry.close_unit(county, "v12")

        result = await sweep(county, as_of=date(2031, 4, 20))

        assert of(result, county).skipped == 1
        assert await registry.cases(county, person=stranded) == []
        assert len(await registry.cases(county, person=planned)) == 1


class TestIsolationAndIdempotence:
    async def test_sweep_of_one_county_never_opens_cases_in_another(
        self, registry: Registry, county: County, tenant_factory: TenantFactory, sweep: Sweep
    ) -> None:
        other = await registry.county(tenant_factory, "邻县")
        ours = await registry.woman(county, "葛梅", key_subject=True)
        theirs = await registry.woman(other, "范丽", key_subject=True)

        await sweep(county, as_of=date(2031, 4, 20))
        assert len(await registry.cases(county)) == 1
        assert await registry.cases(other) == []

        await sweep(county, other, as_of=date(2031, 4, 20))
        assert [case.primary_person_id for case in await registry.cases(county)] == [ours.id]
        assert [case.primary_person_id for case in await registry.cases(other)] == [theirs.id]
        assert {case.number[:6] for case in await registry.cases(other)} == {other.code}

    async def test_overlapping_sweeps_open_each_case_once(
        self, registry: Registry, county: County, database: Database
    ) -> None:
        women = [await registry.woman(county, f"测试{index}", key_subject=index % 2 == 0) for index in range(12)]
        # Small batches, so the three runs interleave: each batch re-checks the keys under the county's lock.
        activities = FollowUpActivities(database, batch_size=2)
        plan = PlanDueInput(tenant_code=county.code, as_of=date(2031, 4, 20))

        results = await asyncio.gather(*(ActivityEnvironment().run(activities.plan_due, plan) for _ in range(3)))

        cases = await registry.cases(county, "pregnancy_check_round")
        assert sorted(str(case.primary_person_id) for case in cases) == sorted(str(woman.id) for woman in women)
        assert len(set(keys(cases))) == len(women)
        assert sum(result.opened_total for result in results) == len(women)
        assert sum(result.already_open for result in results) == 2 * len(women)


class TestWorkflowTime:
    async def test_sweep_without_a_date_plans_today_in_china_by_workflow_time(
        self, registry: Registry, county: County, time_skipping_env: WorkflowEnvironment, sweep: Sweep
    ) -> None:
        today = (await time_skipping_env.get_current_time()).astimezone(CHINA).date()
        woman = await registry.woman(county, "彭丽", born=add_years(today, -30))
        certificate = await registry.certificate(county, woman, issued=add_years(today + timedelta(days=95), -3))
        assert certificate.valid_until == today + timedelta(days=95)

        first = await sweep(county)
        # The run's date is workflow time in China (one day later if the run straddles midnight there).
        assert today <= first.as_of <= today + timedelta(days=1)
        assert await registry.cases(county, "certificate_renewal") == []

        await time_skipping_env.sleep(timedelta(days=10))
        later = await sweep(county)
        assert today + timedelta(days=10) <= later.as_of <= today + timedelta(days=11)
        renewals = await registry.cases(county, "certificate_renewal")
        assert [case.primary_person_id for case in renewals] == [woman.id]
        assert due_day(renewals[0]) == certificate.valid_until


class TestActivities:
    async def test_list_tenants_names_active_counties(self, county: County, database: Database) -> None:
        activities = followup_activities(database)
        codes = await ActivityEnvironment().run(activities[0])
        assert county.code in codes
        assert codes == sorted(codes)


class TestAgreementRenewal:
    async def test_an_agreement_with_a_person_gets_its_renewal_case_before_it_ends_unless_renewed(
        self, registry: Registry, county: County, sweep: Sweep
    ) -> None:
        woman = await registry.woman(county, "赵敏")
        ends = date(2031, 5, 10)

        def agreement(**values: object) -> Agreement:
            values = {"valid_until": ends} | values
            return Agreement(
                id=uuid.uuid4(),
                tenant_id=county.tenant.id,
                kind=AgreementKind.two_way_service,
                title="双向服务管理协议书",
                parties=[{"role": "woman", "name": "赵敏"}, {"role": "township", "name": "一镇"}],
                signed_on=date(2028, 5, 11),
                valid_from=date(2028, 5, 11),
                org_unit_code=woman.org_unit_code,
                **values,
            )

        with_person = agreement(person_id=woman.id)
        landlord_only = agreement(person_id=None)
        renewed = agreement(person_id=woman.id)
        await registry._add(county, with_person, landlord_only, renewed)
        await registry._add(county, agreement(person_id=woman.id, renews_id=renewed.id, valid_until=None))

        await sweep(county, as_of=ends - timedelta(days=31))
        assert await registry.cases(county, "agreement_renewal") == []
        result = await sweep(county, as_of=ends - timedelta(days=30))
        cases = await registry.cases(county, "agreement_renewal")
        assert [case.details["agreement_id"] for case in cases] == [str(with_person.id)]
        assert cases[0].primary_person_id == woman.id
        assert due_day(cases[0]) == ends
        assert of(result, county).opened["agreement_renewal"] == 1
        await sweep(county, as_of=ends)
        assert len(await registry.cases(county, "agreement_renewal")) == 1
