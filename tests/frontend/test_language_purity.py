"""One language per page: every page of the pages router, opened by every demo role that may open it over the demo
data, in Chinese and in English, shows no text of the other language, but for the proper names and records the
people typed (a catalogue read from the demo counties' rows: names, places, addresses, numbers, what a department
or an officer wrote).

The text checked is what a reader meets: the visible text and the labels that assistive technology reads out
(aria-label, title, alt, placeholder), leaving out elements marked as another language (the language switch).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy import text

from backend.db.tenancy import set_tenant
from backend.intake.submit import decrypt_payload
from backend.persons.divisions import division_table
from backend.registers.catalog import REGISTERS
from tests.fixtures.demo import Demo, DemoSignIn

pytestmark = pytest.mark.demo

XIHU, FUNAN = "330106", "341225"
ROLES = ("village", "township", "township.sup", "county", "county.sup", "auditor", "admin")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Latin text that belongs on a Chinese page: the product's name, file formats, and the identifier words of
# numbers people read out (a case number's prefix is data and goes through the catalogue).
LATIN_ON_CHINESE_PAGES = frozenset({"Liuguan", "PDF", "Excel", "CSV", "XLSX", "JPEG", "PNG", "TIFF", "ID"})
READ_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder")
# A machine code shown on hover beside its name (an audit action `user.login`, a scope `intake:police`): the issue
# asks for names with their codes on hover, and a code belongs to no language.
MACHINE_CODE = re.compile(r"[a-z0-9_]+(?:[.:][a-z0-9_]+)+")
SKIPPED_TAGS = frozenset({"script", "style"})
VOID_TAGS = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "col", "wbr", "area", "base"})


class ReaderText(HTMLParser):
    """The text a reader of the page meets, in the page's own language."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.page_lang = ""
        self._stack: list[tuple[str, bool]] = []  # (tag, outside the page's language or skipped)

    def _hidden(self) -> bool:
        return any(hidden for _, hidden in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.page_lang = values.get("lang", "")
        other_language = bool(values.get("lang")) and tag != "html" and values["lang"] != self.page_lang
        if tag not in VOID_TAGS:
            self._stack.append((tag, other_language or tag in SKIPPED_TAGS))
        if not self._hidden() and not other_language:
            self.parts.extend(
                values[name]
                for name in READ_ATTRIBUTES
                if values.get(name) and not (name == "title" and MACHINE_CODE.fullmatch(values[name]))
            )

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            open_tag, _ = self._stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._hidden():
            self.parts.append(data)


def reader_text(html: str) -> str:
    parser = ReaderText()
    parser.feed(html)
    return "\n".join(parser.parts)


DATA_TEXTS = (
    "SELECT name FROM persons UNION SELECT name_pinyin FROM persons UNION SELECT registration_address FROM persons",
    "SELECT residence_address FROM persons UNION SELECT flow_origin_destination FROM persons",
    "SELECT landlord_or_employer FROM persons UNION SELECT notes FROM persons UNION SELECT name FROM person_children",
    "SELECT name FROM org_units UNION SELECT display_name FROM users UNION SELECT username FROM users",
    "SELECT name FROM tenants UNION SELECT name FROM api_clients UNION SELECT client_id FROM api_clients",
    "SELECT number FROM cases UNION SELECT subject_name FROM cases UNION SELECT outcome_reason FROM cases",
    "SELECT number FROM certificates UNION SELECT issuing_unit_name FROM certificates",
    "SELECT notes FROM certificate_inspections UNION SELECT proxy_name FROM certificates",
    "SELECT subject_name FROM verification_requests UNION SELECT requester_unit_name FROM verification_requests",
    "SELECT responder_unit_name FROM verification_requests UNION SELECT correlation_id FROM verification_requests",
    "SELECT question FROM verification_requests UNION SELECT answer FROM verification_requests",
    "SELECT close_reason FROM verification_requests UNION SELECT evidence FROM verification_requests",
    "SELECT title FROM agreements UNION SELECT party->>'name' FROM agreements, jsonb_array_elements(parties) party",
    "SELECT name FROM county_holidays UNION SELECT source FROM county_holidays",
    "SELECT number FROM issued_documents UNION SELECT issuing_unit_name FROM issued_documents",
    "SELECT actor_label FROM audit_events WHERE actor_kind IN ('user', 'api_client')",
    "SELECT correlation_id FROM audit_events",
    # What officers typed as reasons (the system's own reasons are catalogue entries on the pages).
    "SELECT reason FROM audit_events WHERE actor_kind = 'user' AND reason NOT LIKE '%/ %'",
    "SELECT name FROM official_calendar_days",
    # A case's title is stored as written when it was opened, by an officer or by the nightly sweep (in Chinese,
    # e.g. 产后随访（产后42天）：name); registers that list cases show it as data.
    "SELECT title FROM cases",
)


async def _rows(demo: Demo) -> set[str]:
    texts: set[str] = set()
    async with demo.database.sessionmaker() as session, session.begin():
        for tenant_id in demo.tenant_ids.values():
            await set_tenant(session, tenant_id)
            for statement in DATA_TEXTS:
                texts |= {str(value) for value in (await session.execute(text(statement))).scalars() if value}
            # What the departments sent (names, addresses, offices, their record numbers), stored encrypted.
            payloads = (await session.execute(text("SELECT payload_encrypted FROM intake_triages"))).scalars()
            for payload in payloads:
                # Not the message's own field values (its type, a sex): those are shown as catalogue labels.
                texts |= {item for item in _strings(decrypt_payload(payload)) if not re.fullmatch(r"[a-z_]+", item)}
    return texts


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _catalogue(demo: Demo) -> list[str]:
    """The proper names and typed records the pages may show as they are, longest first."""
    texts: set[str] = {division.name for division in division_table().values()}
    texts |= {f"{division.province}{division.prefecture}{division.name}" for division in division_table().values()}
    texts |= demo.run(_rows(demo))
    return sorted((text for text in texts if text.strip()), key=len, reverse=True)


def _strip(page: str, catalogue: Iterable[str]) -> str:
    for allowed in catalogue:
        if allowed in page:
            page = page.replace(allowed, " ")
    return page


def foreign_text(html: str, locale: str, catalogue: list[str]) -> list[str]:
    """The other language's words left on the page once the catalogue's names and records are taken out."""
    shown = _strip(reader_text(html), catalogue)
    if locale == "en":
        return sorted(set(HAN.findall(shown)))
    return sorted({word for word in LATIN_WORD.findall(shown) if word not in LATIN_ON_CHINESE_PAGES})


def _first(demo: Demo, county: str, sql: str) -> str:
    found = demo.run(demo.scalar(county, sql))
    assert found is not None, sql
    return str(found)


def _urls(demo: Demo, county: str) -> list[str]:
    """Every page of the pages router, with the demo's records for its path parameters and its main filters."""
    here = "tenant_id = current_setting('app.tenant_id')::uuid"
    case = _first(demo, county, f"SELECT id FROM cases WHERE {here} AND overdue ORDER BY number LIMIT 1")
    triage = _first(
        demo, county, f"SELECT id FROM cases WHERE {here} AND case_type = 'department_notification' LIMIT 1"
    )
    closed = _first(demo, county, f"SELECT id FROM cases WHERE {here} AND stage = 'closed' LIMIT 1")
    person = _first(
        demo, county, f"SELECT id FROM persons WHERE {here} AND spouse_id IS NOT NULL ORDER BY name LIMIT 1"
    )
    certificate = _first(demo, county, f"SELECT id FROM certificates WHERE {here} LIMIT 1")
    agreement = _first(demo, county, f"SELECT id FROM agreements WHERE {here} LIMIT 1")
    user = _first(demo, county, f"SELECT id FROM users WHERE {here} AND username LIKE '%.township' LIMIT 1")
    return [
        "/",
        "/dashboard",
        "/password",
        "/cases",
        "/cases?due=overdue",
        "/cases?open=0&stage=closed",
        "/cases/new",
        f"/cases/{case}",
        f"/cases/{triage}",
        f"/cases/{closed}",
        "/persons",
        "/persons/new",
        "/persons/new?direction=outflow",
        f"/persons/{person}",
        f"/persons/{person}/edit",
        "/certificates",
        "/certificates?inspection_due=1",
        f"/certificates/{certificate}",
        "/agreements",
        "/agreements/new",
        f"/agreements/{agreement}",
        "/registers",
        *(f"/registers/{code}" for code in REGISTERS),
        "/verification/inbox",
        "/verification/inbox?state=all",
        "/verification/outbox",
        "/triage",
        "/audit",
        "/admin/org",
        "/admin/users",
        f"/admin/users/{user}",
        "/admin/case-types",
        "/admin/case-types/first_child_registration",
        "/admin/calendar",
        "/admin/clients",
    ]


async def _page(client: httpx.AsyncClient, url: str, locale: str) -> httpx.Response:
    client.cookies.set("lang", locale)
    return await client.get(url, headers={"Accept": "text/html"})


@pytest.mark.parametrize("county", [XIHU, FUNAN])
async def test_every_page_speaks_one_language(demo: Demo, demo_sign_in: DemoSignIn, county: str) -> None:
    catalogue = _catalogue(demo)
    urls = _urls(demo, county)
    prefix = {XIHU: "xh", FUNAN: "fn"}[county]
    leaks: dict[str, list[str]] = {}
    opened: set[str] = set()
    for role in ROLES:
        client = await demo_sign_in(county, f"{prefix}.{role}")
        for url in urls:
            for locale in ("zh_CN", "en"):
                response = await _page(client, url, locale)
                if response.status_code != 200:
                    continue
                opened.add(url)
                found = foreign_text(response.text, locale, catalogue)
                if found:
                    leaks[f"{role} {locale} {url}"] = found[:12]
        client.cookies.set("lang", "zh_CN")
    assert set(urls) - opened == set(), "pages no demo role could open"
    assert leaks == {}, "\n".join(f"{page}: {words}" for page, words in sorted(leaks.items()))
