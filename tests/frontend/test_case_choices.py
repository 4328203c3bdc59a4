"""Reassignment offers only people who can hold cases of the unit (a role with case.write on it or above): never the
county's administrator or auditor, never an officer of another township."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.demo import DemoSignIn

pytestmark = pytest.mark.demo

OPTION = re.compile(r'<option value="[0-9a-f-]{36}"[^>]*>[^<（]*（([a-z0-9.]+)）</option>')
NOT_WORKERS = {"xh.admin", "xh.auditor"}


async def test_the_case_page_and_the_bulk_form_offer_only_case_workers(demo_sign_in: DemoSignIn) -> None:
    supervisor = await demo_sign_in("330106", "xh.township.sup")
    listing = (await supervisor.get("/cases?org_unit=330106001001")).text
    bulk = set(OPTION.findall(listing))
    # Where the supervisor assigns (北山街道): its coordinators and officers, and the county's officers above it.
    assert {"xh.village", "xh.township", "xh.county"} <= bulk
    assert not bulk & (NOT_WORKERS | {"xh.township.xixi"})
    case_link = re.search(r'href="/cases/([0-9a-f-]{36})"', listing)
    assert case_link is not None
    page = (await supervisor.get(f"/cases/{case_link.group(1)}")).text
    offered = set(OPTION.findall(page))
    assert {"xh.township", "xh.county"} <= offered
    assert not offered & (NOT_WORKERS | {"xh.township.xixi", "xh.village2"})
