"""The person page over the demo data: every field of the record, her spouse and children, her cases and
certificates, a print button; the edit form goes through the service the API's PATCH uses, each refusal at its
field and nothing written, a record changed meanwhile refused."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.fixtures.demo import Demo, DemoSignIn

pytestmark = pytest.mark.demo

# An active 西湖 resident with a spouse, a child, a case and a certificate (the demo's couples have all four).
FAMILY = """
SELECT p.id FROM persons p
WHERE p.tenant_id = current_setting('app.tenant_id')::uuid AND p.status = 'active'
  AND p.spouse_id IS NOT NULL AND p.marital_status IS NOT NULL AND p.flow_date IS NOT NULL
  AND EXISTS (SELECT 1 FROM person_children c WHERE c.person_id = p.id)
  AND EXISTS (SELECT 1 FROM case_subjects s WHERE s.person_id = p.id)
  AND EXISTS (SELECT 1 FROM certificates c WHERE c.person_id = p.id)
ORDER BY p.name LIMIT 1
"""


def _value(demo: Demo, sql: str, **params: object) -> Any:
    """One value in 西湖's context, read on the demo's own loop."""
    return demo.run(demo.scalar("330106", sql, **params))


def _form(page: str) -> dict[str, str]:
    """The edit form's inputs and selected options, as the browser would send them."""
    values = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page))
    for name, options in re.findall(r'<select[^>]*name="([a-z_]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        values[name] = chosen.group(1) if chosen else ""
    return values


async def test_the_person_page_shows_her_whole_record_family_cases_and_certificates(
    demo: Demo, demo_sign_in: DemoSignIn
) -> None:
    person_id = uuid.UUID(str(_value(demo, FAMILY)))
    spouse_name, landlord, marital = [
        _value(demo, f"SELECT {column} FROM persons WHERE id = :p", p=person_id)
        for column in (
            "(SELECT name FROM persons s WHERE s.id = persons.spouse_id)",
            "landlord_or_employer",
            "marital_status",
        )
    ]
    case_number = _value(
        demo,
        "SELECT number FROM cases WHERE id IN (SELECT case_id FROM case_subjects WHERE person_id = :p)",
        p=person_id,
    )
    certificate = _value(demo, "SELECT number FROM certificates WHERE person_id = :p", p=person_id)
    child = _value(demo, "SELECT birth_date FROM person_children WHERE person_id = :p", p=person_id)
    officer = await demo_sign_in("330106", "xh.county")
    page = (await officer.get(f"/persons/{person_id}")).text
    marital_label = {
        "first_marriage": "初婚",
        "remarried": "再婚",
        "divorced": "离婚",
        "widowed": "丧偶",
        "unmarried": "未婚",
    }
    assert marital_label[marital] in re.search(r'data-testid="person-marital">([^<]*)<', page).group(1)  # type: ignore[union-attr]
    assert re.search(r'data-testid="person-flow-date">\d{4}-\d\d-\d\d<', page)
    assert (landlord or "") in re.search(r'data-testid="person-landlord">([^<]*)<', page).group(1)  # type: ignore[union-attr]
    assert f">{spouse_name}</a>" in page and str(child) in page
    assert f">{case_number}</a>" in page and f">{certificate}</a>" in page
    assert "data-print" in page and 'href="/persons/' + str(person_id) + '/edit"' in page
    officer.cookies.set("lang", "en")
    english = (await officer.get(f"/persons/{person_id}")).text
    assert "Spouse and children" in english and "配偶和子女" not in english


async def test_editing_a_person_saves_through_the_service_and_refuses_at_the_field(
    demo: Demo, demo_sign_in: DemoSignIn
) -> None:
    person_id = uuid.UUID(str(_value(demo, FAMILY)))
    officer = await demo_sign_in("330106", "xh.county")
    form = _form((await officer.get(f"/persons/{person_id}/edit")).text)
    assert form["name"] and form["version"] and form["org_unit_code"]

    def landlord() -> str | None:
        return _value(demo, "SELECT landlord_or_employer FROM persons WHERE id = :p", p=person_id)

    before = landlord()
    # A wrong phone number: refused at its field, the typed values kept, nothing written.
    refused = await officer.post(
        f"/persons/{person_id}/edit", data={**form, "phone": "12", "landlord_or_employer": "西溪印象城"}
    )
    assert refused.status_code == 422
    assert 'id="e-phone"' in refused.text and 'value="西溪印象城"' in refused.text
    assert landlord() == before
    # A record changed since the form was read: refused, nothing written.
    stale = await officer.post(
        f"/persons/{person_id}/edit",
        data={**form, "version": str(int(form["version"]) - 1), "landlord_or_employer": "西溪印象城"},
    )
    assert stale.status_code == 422 and "数据已被他人修改" in stale.text
    assert landlord() == before
    # Saved: the page shows it, and the change is audited as the API's PATCH is.
    saved = await officer.post(f"/persons/{person_id}/edit", data={**form, "landlord_or_employer": "西溪印象城"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/persons/{person_id}?done=edited"
    assert landlord() == "西溪印象城"
    page = (await officer.get(saved.headers["location"])).text
    assert "信息已修改" in page and "西溪印象城" in page
    audited = _value(
        demo,
        "SELECT count(*) FROM audit_events WHERE entity_id = :p AND action = 'person.update'",
        p=str(person_id),
    )
    assert audited >= 1


async def test_a_phone_shown_masked_and_sent_back_unchanged_is_left_as_it_was(
    demo: Demo, demo_sign_in: DemoSignIn
) -> None:
    """A village coordinator (no person.read_identifiers) sees the phone masked in the edit form."""
    person_id = _value(
        demo,
        "SELECT id FROM persons WHERE tenant_id = current_setting('app.tenant_id')::uuid AND status = 'active'"
        " AND org_unit_code = '330106001001' AND phone_hash IS NOT NULL ORDER BY name LIMIT 1",
    )
    coordinator = await demo_sign_in("330106", "xh.village")
    form = _form((await coordinator.get(f"/persons/{person_id}/edit")).text)
    assert "*" in form["phone"]
    before = _value(demo, "SELECT phone_hash FROM persons WHERE id = :p", p=person_id)
    saved = await coordinator.post(f"/persons/{person_id}/edit", data={**form, "flow_origin_destination": "安徽阜南"})
    assert saved.status_code == 303
    assert _value(demo, "SELECT phone_hash FROM persons WHERE id = :p", p=person_id) == before
    assert _value(demo, "SELECT flow_origin_destination FROM persons WHERE id = :p", p=person_id) == "安徽阜南"
