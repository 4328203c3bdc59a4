"""Jinja2 rendering for server-side pages, with the request's locale.

`render(request, template, context, form=view)` shows a form's values and errors (frontend/forms.py);
`fragment="name"` answers an HTMX request aimed at the element `#name` with the template's block of that name
alone, and any other request with the whole page (so the page works without JavaScript as well). Every
template has the components of templates/macros.html as `m`, blocks rendered alone included.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.clock import CHINA
from backend.core.errors import FieldError
from backend.persons.divisions import division_name
from backend.registers import campaigns as campaign_registers
from backend.registers import housing as housing_registers
from backend.registers import labels
from backend.registers import village as village_registers
from backend.submissions.service import new_token
from frontend.forms import FormView
from frontend.i18n import LOCALE_COOKIE, negotiate_locale, translations

FRONTEND_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=FRONTEND_DIR / "templates")
COMPONENTS = "macros.html"  # the form fields, tables, pager and labels every page uses


def page_query(params: dict[str, str], page: int) -> str:
    """The current list's query string on another page."""
    kept = {key: value for key, value in params.items() if key not in ("page", "reassigned")}
    return urlencode({**kept, "page": page})


# "中文 / English": the slash before the first Latin word that follows Chinese text ("…（2026-12-01）/ case …" too).
_BILINGUAL_SEPARATOR = re.compile(r"\s*/\s+(?=[A-Za-z(\"'“])")
_HAN = re.compile(r"[\u3400-\u9fff]")


def bilingual(message: object, locale: str) -> str:
    """Service messages read "中文 / English": show the half in the page's language (a text with no such halves,
    like what an officer typed, as it is)."""
    text = str(message)
    separator = _BILINGUAL_SEPARATOR.search(text)
    if separator is None or not _HAN.search(text[: separator.start()]):
        return text
    return text[separator.end() :] if locale == "en" else text[: separator.start()]


def _register_terms() -> list[str]:
    """The labels the registers write into their cells (backend/registers/labels.py), longest first."""
    terms = {labels.PERMANENT, labels.YES, labels.NO}
    for table in (labels.SEX, labels.MARITAL_STATUS, labels.CONTRACEPTION, labels.PERSON_STATUS):
        terms |= set(table.values())
    for other in (labels.CERTIFICATE_STATUS, labels.CASE_STAGE, labels.CASE_OUTCOME, labels.SUBJECT_PART):
        terms |= set(other.values())
    # The village service registers' label tables (kinds, methods, findings: module-level dicts of labels).
    for module in (village_registers, housing_registers, campaign_registers):
        for table in vars(module).values():
            if isinstance(table, dict) and table and all(isinstance(label, str) for label in table.values()):
                terms |= {label for label in table.values() if _HAN.search(label)}
    return sorted(terms, key=len, reverse=True)


REGISTER_TERMS = _register_terms()
_CHILDREN = re.compile(r"(\d+)孩")
_PUNCTUATION = {"，": ", ", "、": ", ", "（": " (", "）": ")"}


def register_cell(value: object, locale: str, gettext: Any) -> str:
    """A register cell in the page's language: the registers are printed in Chinese, so on an English page their
    labels (初婚，1孩; 有效; 张三（配偶）) are put in English term by term, names left as they are."""
    text = str(value)
    if locale != "en" or not _HAN.search(text):
        return text
    text = _CHILDREN.sub(lambda match: f"{match.group(1)} {gettext('孩')}", text)
    for term in REGISTER_TERMS:
        if term in text:
            text = text.replace(term, gettext(term))
    for chinese, english in _PUNCTUATION.items():
        text = text.replace(chinese, english)
    return text.strip()


templates.env.filters["page_query"] = page_query
templates.env.filters["bilingual"] = bilingual
templates.env.filters["register_cell"] = register_cell
templates.env.filters["place"] = lambda code: division_name(str(code)) or str(code)
templates.env.filters["regex_last_date"] = lambda text: (re.findall(r"\d{4}-\d{2}-\d{2}", str(text)) or [""])[-1]


# The navigation: (path, zh-CN label, the action that shows it). Labels are translated in base.html.
NAVIGATION: tuple[tuple[str, str, Action | None], ...] = (
    ("/dashboard", "工作台", None),
    ("/todo", "我的待办", None),
    ("/cases", "案件", Action.case_read),
    ("/persons", "人员", Action.person_read),
    ("/certificates", "婚育证明", Action.person_read),
    ("/agreements", "责任书与协议", Action.document_read),
    ("/complaints", "投诉举报", Action.case_read),
    ("/entrustments", "委托", Action.case_write),
    ("/rewards", "奖励扶助", Action.case_read),
    ("/info-queries", "信息查询登记", Action.person_read_identifiers),
    ("/registers", "台账", Action.person_read),
    ("/entry-reviews", "数据审核", Action.person_read),
    ("/rechecks", "抽查", Action.person_read),
    ("/checks", "三查", Action.service_read),
    ("/followups", "随访", Action.service_read),
    ("/contraceptives", "避孕药具", Action.service_read),
    ("/free-services", "免费服务", Action.service_read),
    ("/housing", "出租房屋", Action.service_read),
    ("/campaigns", "清理清查", Action.service_read),
    ("/kpis", "指标", Action.report_read),
    ("/reports", "报表", Action.report_read),
    ("/assessments", "考核", Action.assessment_read),
    ("/verification/inbox", "协查", Action.verification_answer),
    ("/triage", "部门通报", Action.case_write),
    ("/audit", "审计", Action.audit_read),
    ("/archive", "年度归档", Action.archive_manage),
    ("/admin/org", "组织机构", Action.users_manage),
    ("/admin/users", "用户与角色", Action.users_manage),
    ("/admin/case-types", "案件类型", Action.config_manage),
    ("/admin/calendar", "节假日", Action.config_manage),
    ("/admin/followup-rules", "随访与三查频次", Action.config_manage),
    ("/admin/free-service-items", "免费服务项目", Action.config_manage),
    ("/admin/data-review", "数据审核设置", Action.config_manage),
    ("/kpis/targets", "指标目标", Action.kpi_configure),
    ("/admin/clients", "接口客户端", Action.clients_manage),
    ("/admin/delivery", "投递渠道", Action.config_manage),
    ("/admin/delivery/failed", "投递失败", Action.config_manage),
)


def navigation(principal: Principal | None) -> list[tuple[str, str]]:
    """The menu entries this user may open: a coordinator never sees admin pages, an admin sees no cases."""
    if principal is None or principal.kind != "user":
        return []
    return [(path, label) for path, label, action in NAVIGATION if action is None or principal.holds(action)]


def fragment_requested(request: Request, fragment: str) -> bool:
    """Whether this is an HTMX request that swaps the element `#fragment` (and nothing else of the page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == fragment
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int | None = None,
    headers: dict[str, str] | None = None,
    form: FormView | None = None,
    fragment: str | None = None,
) -> HTMLResponse:
    """The page `template` in the request's language, with the form's values and errors when `form` is given
    (and its status, unless `status_code` says otherwise); only the block `fragment` for an HTMX swap of it."""
    locale = negotiate_locale(request.cookies.get(LOCALE_COOKIE))
    catalog = translations(locale)
    # The environment is shared; the catalog is installed per render so concurrent requests in different
    # languages each get their own through the context-bound functions below.
    page_context = {
        "request": request,
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "_": catalog.gettext,
        "gettext": catalog.gettext,
        "ngettext": catalog.ngettext,
        "principal": getattr(request.state, "principal", None),
        "nav": navigation(getattr(request.state, "principal", None)),
        "current_path": request.url.path,
        "china_tz": CHINA,
        # A one-time token for the forms that issue something (`m.once()`, backend/submissions/service.py).
        "form_token": new_token(),
        **(form.context() if form is not None else {}),
        **(context or {}),
    }
    page_context["m"] = templates.get_template(COMPONENTS).make_module(page_context)
    code = status_code if status_code is not None else form.status_code if form is not None else 200
    if fragment is not None and fragment_requested(request, fragment):
        page = templates.get_template(template)
        html = "".join(page.blocks[fragment](page.new_context({"request": request, **page_context})))
        return HTMLResponse(html, status_code=code, headers=headers)
    return templates.TemplateResponse(request, template, page_context, status_code=code, headers=headers)


def render_error_page(
    request: Request, status_code: int, detail: str, fields: list[FieldError], *, headers: dict[str, str] | None
) -> HTMLResponse:
    return render(
        request,
        "errors/error.html",
        {"status_code": status_code, "detail": detail, "fields": fields},
        status_code=status_code,
        headers=headers,
    )


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=FRONTEND_DIR / "static"), name="static")
