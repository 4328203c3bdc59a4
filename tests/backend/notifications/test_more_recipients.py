"""The recipient rules of the sweep's and the other domains' events: a certificate's yearly inspection and an
expiring agreement (the follow-up sweep's opening of their cases), a person import finished, a statistical report
published. Each: exactly the people the rule names; a sibling township's and another county's people are not."""

from __future__ import annotations

from datetime import date, timedelta

from backend.core.context import SYSTEM_ACTOR, actor_var
from backend.db.engine import Database
from backend.db.tenancy import set_tenant
from backend.followups.opening import make_due, planner_principal
from backend.followups.rules import FollowUpKind
from backend.followups.service import open_followups
from tests.backend.notifications.conftest import add_person, told
from tests.backend.persons.factories import make_id
from tests.backend.persons.test_import import row, to_csv, upload
from tests.backend.verification.conftest import TwoCounties
from tests.fixtures.identity import County, SignIn

EVERYONE = ("t1.officer", "t1.sup", "t2.officer", "t2.sup", "v11.coord", "county.sup")


def _who(notified: dict[str, list[str]]) -> set[str]:
    return {username for username, titles in notified.items() if titles}


async def _sweep_opens(database: Database, county: County, kind: FollowUpKind, unit: str) -> str:
    """The follow-up sweep's opening of one due follow-up of `kind` for a person of `unit`; the case number."""
    person = await add_person(database, county, "甲", unit=unit)
    due = make_due(
        kind, person.id, "2026", (person.id, person.name, person.org_unit_code), date.today() + timedelta(30), {}
    )
    actor_var.set(SYSTEM_ACTOR)
    async with database.sessionmaker() as session, session.begin():
        await set_tenant(session, county.tenant.id)
        outcome = await open_followups(session, planner_principal(county.tenant), [due])
        assert outcome.opened == {kind: 1}
    return person.name


async def test_a_certificate_inspection_due_tells_the_persons_township_officers(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    await _sweep_opens(database, a, FollowUpKind.certificate_inspection, "v11")
    notified = await told(sign_in, a, *EVERYONE)
    assert _who(notified) == {"t1.officer"}
    assert "婚育证明年度查验" in notified["t1.officer"][0] and "甲" not in notified["t1.officer"][0]
    assert _who(await told(sign_in, b, *EVERYONE)) == set()


async def test_an_expiring_agreement_tells_the_officers_of_its_unit(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    await _sweep_opens(database, a, FollowUpKind.agreement_renewal, "t2")
    notified = await told(sign_in, a, *EVERYONE)
    assert _who(notified) == {"t2.officer"}
    assert "协议即将到期" in notified["t2.officer"][0]
    assert _who(await told(sign_in, b, *EVERYONE)) == set()


async def test_other_followups_tell_nobody_yet(people: TwoCounties, sign_in: SignIn, database: Database) -> None:
    await _sweep_opens(database, people.a, FollowUpKind.returned_migrant_visit, "v11")
    assert _who(await told(sign_in, people.a, *EVERYONE)) == set()


async def test_a_finished_import_tells_the_user_who_started_it(people: TwoCounties, sign_in: SignIn) -> None:
    a, b = people.a, people.b
    coordinator = await sign_in(a, "v11.coord")
    response = await upload(coordinator, to_csv([row(a, "孙丽", make_id(sex="female"))]))
    assert response.status_code == 200, response.text
    dry = await upload(coordinator, to_csv([row(a, "钱雪", make_id(sex="female"))]), dry_run="true")
    assert dry.status_code == 200, dry.text  # a dry run imports nothing and tells nobody
    notified = await told(sign_in, a, *EVERYONE)
    assert _who(notified) == {"v11.coord"}
    assert notified["v11.coord"] == [
        "人员导入完成：新建1、更新0、未导入0 / import finished: 1 created, 0 updated, 0 rejected"
    ]
    assert _who(await told(sign_in, b, *EVERYONE)) == set()


async def test_a_published_report_tells_the_supervisors_of_the_units_it_covers(
    people: TwoCounties, sign_in: SignIn
) -> None:
    a, b = people.a, people.b
    county_supervisor = await sign_in(a, "county.sup")
    township = await county_supervisor.post(
        "/api/v1/reports/month/publish", json={"period": "2026-03", "unit": a.units["t1"]}
    )
    assert township.status_code == 201, township.text
    notified = await told(sign_in, a, *EVERYONE)
    assert _who(notified) == {"t1.sup"}  # not the publisher, not the sibling township's supervisor
    assert "2026-03" in notified["t1.sup"][0]
    county = await county_supervisor.post("/api/v1/reports/month/publish", json={"period": "2026-03"})
    assert county.status_code == 201, county.text
    notified = await told(sign_in, a, *EVERYONE)
    assert _who(notified) == {"t1.sup", "t2.sup"}
    assert len(notified["t1.sup"]) == 2
    assert _who(await told(sign_in, b, *EVERYONE)) == set()
