"""The living demo holds what the README promises a newcomer within five minutes of `make run`: a few hundred people
in each county, overdue and escalated cases, cases in every stage, verification requests answered by the other
county and others late, department notifications waiting for triage, certificates to inspect and to renew,
agreements and a county holiday, all dated relative to today."""

from __future__ import annotations

import pytest

from backend.models import CaseStage
from tests.fixtures.demo import Demo

pytestmark = pytest.mark.demo

XIHU, FUNAN = "330106", "341225"
HERE = "tenant_id = current_setting('app.tenant_id')::uuid"


def count(demo: Demo, county: str, table: str, where: str = "true") -> int:
    return int(demo.run(demo.scalar(county, f"SELECT count(*) FROM {table} WHERE {HERE} AND {where}")))


def test_each_county_has_a_few_hundred_people_with_valid_ids(demo: Demo) -> None:
    for county in (XIHU, FUNAN):
        assert 200 <= count(demo, county, "persons") <= 400
        assert count(demo, county, "persons", "resident_id_hash IS NULL") == 0


def test_the_same_people_are_registered_in_both_counties(demo: Demo) -> None:
    shared = demo.run(
        demo.scalar(
            XIHU,
            f"SELECT count(*) FROM persons WHERE {HERE} AND flow_direction = 'inflow' "
            "AND registration_division_code LIKE '341225%'",
        )
    )
    assert shared >= 100


def test_overdue_and_escalated_cases_exist_in_both_counties(demo: Demo) -> None:
    for county in (XIHU, FUNAN):
        assert count(demo, county, "cases", "overdue AND stage <> 'closed'") >= 2, county
        assert count(demo, county, "case_alerts", "kind = 'escalation' AND level = 3") >= 1, county
    # Overdue in 西湖's first township, where the demo's township officer works.
    assert count(demo, XIHU, "cases", "overdue AND stage <> 'closed' AND org_unit_code LIKE '330106001%'") >= 3


def test_cases_stand_in_every_stage(demo: Demo) -> None:
    for stage in CaseStage:
        assert count(demo, XIHU, "cases", f"stage = '{stage.value}'") >= 1, stage
    assert count(demo, XIHU, "cases", "suspended_at IS NOT NULL") >= 1
    assert count(demo, XIHU, "cases", "extension_used") >= 1


def test_verification_requests_answered_by_the_other_county_and_late_ones(demo: Demo) -> None:
    other = {XIHU: FUNAN, FUNAN: XIHU}
    for county in (XIHU, FUNAN):
        sent = f"kind = 'request' AND responder_county_code = '{other[county]}'"
        assert count(demo, county, "verification_requests", f"{sent} AND state = 'answered'") >= 1, county
        assert (
            count(demo, county, "verification_requests", f"{sent} AND state = 'pending' AND answer_due_at < now()") >= 1
        )
        assert (
            count(demo, county, "verification_requests", f"{sent} AND state = 'pending' AND answer_due_at > now()") >= 1
        )
    # 西湖's flow notices: most acknowledged by 阜南, this week's waiting.
    notices = "kind = 'notice' AND question_type = 'inflow_registered'"
    assert count(demo, XIHU, "verification_requests", f"{notices} AND state = 'answered'") >= 100
    assert count(demo, XIHU, "verification_requests", f"{notices} AND state = 'pending'") >= 1


def test_department_notifications_wait_for_triage(demo: Demo) -> None:
    for county in (XIHU, FUNAN):
        waiting = (
            "decision IS NULL AND case_id IN (SELECT id FROM cases WHERE case_type = 'department_notification' "
            "AND stage <> 'closed')"
        )
        assert count(demo, county, "intake_triages", waiting) >= 2, county
    assert count(demo, XIHU, "cases", "case_type = 'department_notification' AND overdue") >= 1


def test_certificates_to_inspect_and_to_renew_agreements_and_holidays(demo: Demo) -> None:
    assert count(demo, XIHU, "certificates") >= 40
    never_inspected = (
        "id NOT IN (SELECT certificate_id FROM certificate_inspections) AND issue_date < now() - interval '1 year'"
    )
    assert count(demo, XIHU, "certificates", never_inspected) >= 1
    assert count(demo, FUNAN, "certificates", "valid_until < now() + interval '60 days'") >= 1
    for county in (XIHU, FUNAN):
        assert count(demo, county, "agreements") >= 2
        assert count(demo, county, "county_holidays", "date > now()") == 1
