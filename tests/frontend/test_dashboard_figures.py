"""Every figure of the dashboard equals the list it links to, for every role that works cases, over the demo data
(overdue cases, cases due within three days, cases kept at a township itself)."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.demo import DemoSignIn

pytestmark = pytest.mark.demo

ROLES = ("village", "township", "township.sup", "county", "county.sup", "auditor")
FIGURE = re.compile(r'<a href="(/cases[^"]*)" data-count="(\d+)"')
TOTAL = re.compile(r'data-testid="case-total">(\d+)<')


@pytest.mark.parametrize("county", ["330106", "341225"])
@pytest.mark.parametrize("role", ROLES)
async def test_each_figure_equals_the_count_of_its_list(demo_sign_in: DemoSignIn, county: str, role: str) -> None:
    prefix = {"330106": "xh", "341225": "fn"}[county]
    client = await demo_sign_in(county, f"{prefix}.{role}")
    dashboard = await client.get("/dashboard")
    assert dashboard.status_code == 200
    figures = FIGURE.findall(dashboard.text)
    assert len(figures) >= 4
    for href, shown in figures:
        listed = await client.get(href.replace("&amp;", "&"))
        total = TOTAL.search(listed.text)
        assert total is not None, href
        assert int(total.group(1)) == int(shown), f"{role}: {href} shows {shown}, its list {total.group(1)}"


async def test_the_demo_has_cases_due_within_three_days_and_overdue(demo_sign_in: DemoSignIn) -> None:
    client = await demo_sign_in("330106", "xh.township")
    text = (await client.get("/dashboard")).text
    soon = re.search(r'data-testid="soon-count">(\d+)<', text)
    overdue = re.search(r'data-testid="overdue-count">(\d+)<', text)
    assert soon is not None and int(soon.group(1)) >= 1
    assert overdue is not None and int(overdue.group(1)) >= 3
