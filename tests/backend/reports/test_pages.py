"""The supervision pages over HTTP (the browser journeys are in tests/frontend/e2e/test_journey_reports.py): each
page answers with the figures the services compute, forms refuse bad input at their field and keep nothing."""

from __future__ import annotations

import re

from tests.backend.reports.scenario import Scripted
from tests.fixtures.identity import SignIn

MARCH = "period_kind=month&period=2026-03"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def test_the_cockpit_page_shows_each_figure_with_a_link_to_its_rows(scripted: Scripted, sign_in: SignIn) -> None:
    client = await sign_in(scripted.a, "county.sup")
    page = await client.get(f"/kpis?{MARCH}", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert "信息反馈率" in page.text and "60.0%" in page.text and "未达标" in page.text
    shortfall = re.search(r'href="(/kpis/feedback_rate/rows\?[^"]*part=rest)"', page.text)
    assert shortfall and f"unit={scripted.a.code}" in shortfall.group(1) and "period=2026-03" in shortfall.group(1)
    assert '<script src="/static/vendor/echarts.min.js" defer></script>' in page.text
    assert "<script>" not in page.text and "style=" not in page.text  # no inline script or style (CSP)
    rows = await client.get(f"/kpis/feedback_rate/rows?unit={scripted.a.code}&{MARCH}&part=rest")
    assert rows.status_code == 200
    for name in ("q4", "q6"):
        assert scripted.requests[name].correlation_id in rows.text
    assert scripted.requests["q1"].correlation_id not in rows.text
    bad = await client.get("/kpis?period_kind=month&period=March")
    assert bad.status_code == 422 and "期间格式应如 2026-03" in bad.text


async def test_the_data_quality_rows_pages_open_the_review(scripted: Scripted, sign_in: SignIn) -> None:
    client = await sign_in(scripted.a, "county.sup")
    page = await client.get(f"/kpis?{MARCH}", headers={"Accept": "text/html"})
    assert "信息入库率" in page.text and "数据准确率" in page.text
    entries = await client.get(f"/kpis/data_entry/rows?unit={scripted.a.code}&{MARCH}&part=rest")
    assert entries.status_code == 200, entries.text
    assert "录入编号" in entries.text and "甲五" in entries.text and "甲一" not in entries.text
    for name in ("e2", "e3"):
        assert f'href="/entry-reviews/{scripted.entries[name].id}"' in entries.text
    findings = await client.get(f"/kpis/data_accuracy/rows?unit={scripted.a.code}&{MARCH}&part=rest")
    assert findings.status_code == 200, findings.text
    assert "复核编号" in findings.text and f'href="/rechecks/{scripted.findings["k2"].list_id}"' in findings.text


async def test_the_report_page_publishes_and_refuses_a_correction_without_reason(
    scripted: Scripted, sign_in: SignIn
) -> None:
    client = await sign_in(scripted.a, "county.sup")
    page = await client.get("/reports?kind=month&period=2026-03")
    assert page.status_code == 200 and "甲县合计" in page.text and "导出 Excel" in page.text
    form = {"csrf_token": _csrf(page.text), "kind": "month", "period": "2026-03", "unit": scripted.a.code}
    published = await client.post("/reports/publish", data=form)
    assert published.status_code == 303 and published.headers["location"].startswith("/reports/published/")
    frozen = await client.get(published.headers["location"])
    assert frozen.status_code == 200 and "第1版" in frozen.text and "报表已发布" in frozen.text
    again = await client.post("/reports/publish", data=form)
    assert again.status_code == 422 and "更正须说明理由" in again.text


async def test_the_assessment_pages_score_publish_and_contest(scripted: Scripted, sign_in: SignIn) -> None:
    a, b = scripted.a, scripted.b
    a_sup = await sign_in(a, "county.sup")
    page = await a_sup.get("/assessments?year=2026")
    assert page.status_code == 200 and "乙县" in page.text and "77.4" in page.text
    detail = await a_sup.get(f"/assessments/2026/given/{b.code}")
    assert (
        detail.status_code == 200
        and scripted.requests["s3"].correlation_id in detail.text
        and "某某" not in detail.text
    )
    published = await a_sup.post(f"/assessments/2026/given/{b.code}/publish", data={"csrf_token": _csrf(detail.text)})
    assert published.status_code == 303
    b_sup = await sign_in(b, "county.sup")
    result = await b_sup.get(published.headers["location"])
    assert result.status_code == 200 and "提出异议" in result.text
    refused = await b_sup.post(
        f"{published.headers['location'].split('?')[0]}/contests",
        data={"csrf_token": _csrf(result.text), "item": "feedback_rate", "reason": ""},
    )
    assert refused.status_code == 422 and "必填" in refused.text
    scheme = await a_sup.post(
        "/assessments/2026/scheme", data={"csrf_token": _csrf(page.text), "weight_feedback_rate": "50"}
    )
    assert scheme.status_code == 422 and "合计须为100" in scheme.text


async def test_the_targets_page_saves_a_target(scripted: Scripted, sign_in: SignIn) -> None:
    admin = await sign_in(scripted.a, "admin")
    page = await admin.get("/kpis/targets")
    assert page.status_code == 200 and ">恢复默认</button>" not in page.text
    saved = await admin.post(
        "/kpis/targets/feedback_rate", data={"csrf_token": _csrf(page.text), "target_percent": "85"}
    )
    assert saved.status_code == 303
    shown = await admin.get("/kpis/targets")
    assert "≥ 85.0%" in shown.text and ">恢复默认</button>" in shown.text
    refused = await admin.post(
        "/kpis/targets/feedback_rate", data={"csrf_token": _csrf(page.text), "target_percent": "150"}
    )
    assert refused.status_code == 422
