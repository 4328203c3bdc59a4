"""The dashboard's tiles and the to-do list agree: a county with items of every kind, and for each user each tile's
figure equals the number of that kind's items on the to-do page and in the API (and the 分给我的案件 tile the case
list it opens). Both read one condition per kind (backend/todo/repository.py)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from backend.db.engine import Database
from backend.models import CaseStage
from tests.backend.todo.conftest import add_case, add_triage, send_request, sign, todo
from tests.backend.verification.conftest import TwoCounties
from tests.fixtures.identity import SignIn

TILE = re.compile(r'data-todo="(\w+)"><span class="number" data-testid="[\w-]+">(\d+)<')
KIND = re.compile(r'data-testid="todo-item" data-kind="(\w+)"')
CASE_TOTAL = re.compile(r'data-testid="case-total">(\d+)<')


async def test_each_dashboard_tile_equals_the_to_do_lists_count_of_its_kind(
    people: TwoCounties, sign_in: SignIn, database: Database
) -> None:
    a, b = people.a, people.b
    # Of every kind, in both townships, assigned and not, overdue and not.
    for assignee, due in (("t1.officer", timedelta(days=-1)), ("t1.officer", timedelta(days=4)), ("t2.officer", None)):
        await add_case(database, a, "complaint", assignee=assignee, due_in=due or timedelta(days=2))
    await add_case(database, a, "complaint", assignee="t1.officer", stage=CaseStage.closed)
    late = timedelta(days=-6)
    await add_case(database, a, "complaint", unit="v11", due_in=late, escalation_level=2, assignee="t1.officer")
    await add_case(database, a, "complaint", unit="t2", due_in=late, escalation_level=3)
    await add_triage(database, a, "t1")
    await add_triage(database, a, "t2")
    await add_triage(database, a, "t1", assignee="t1.sup")
    for case_type in ("certificate_inspection", "agreement_renewal", "follow_up_visit"):
        await add_case(database, a, case_type, unit="v11")
    await add_case(database, a, "certificate_renewal", unit="t2")
    reward = await add_case(database, a, "only_child_reward", unit="v11", stage=CaseStage.audit, assignee="v11.coord")
    await sign(database, a, reward, "investigate", "v11.coord", "verification")
    sender = await sign_in(b, "t1.officer")
    for target in ("t1", "t1", "t2"):
        await send_request(sender, b.units["v11"], a.units[target])

    compared = 0
    for username in ("t1.officer", "t1.sup", "t2.officer", "v11.coord", "county.sup"):
        client = await sign_in(a, username)
        listed = await todo(client)
        dashboard = (await client.get("/dashboard")).text
        tiles = {kind: int(figure) for kind, figure in TILE.findall(dashboard)}
        page = (await client.get("/todo")).text
        on_page = Counter(KIND.findall(page))
        assert tiles.pop("total") == listed["total"] == sum(on_page.values()), username
        for kind, count in listed["counts"].items():
            assert on_page[kind] == count, f"{username}: {kind}"
            assert tiles.get(kind, 0) == count, f"{username}: tile {kind}"  # a kind with nothing waiting has no tile
            compared += count
        cases = CASE_TOTAL.search((await client.get("/cases?assignee=me")).text)
        assert cases is not None and int(cases.group(1)) == listed["counts"]["case"], username
    assert compared >= 12  # the county has items of every kind for these people
    officer = (await todo(await sign_in(a, "t1.officer")))["counts"]
    assert officer == {"case": 3, "escalated": 0, "inbox": 2, "triage": 1, "followup": 3, "signoff": 0, "unassigned": 0}
    assert (await todo(await sign_in(a, "t1.sup")))["counts"] == {
        "case": 1,
        "escalated": 1,
        "inbox": 0,
        "triage": 0,
        "followup": 0,
        "signoff": 1,
        "unassigned": 0,
    }
    # The rung-3 case in t2 nobody took: the county supervisor's as escalated, t2's officer's to take.
    assert (await todo(await sign_in(a, "t2.officer")))["counts"]["unassigned"] == 1
