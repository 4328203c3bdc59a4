"""Every page text is translatable, and the English catalog translates all of it."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from frontend.i18n import LOCALE_DIR
from frontend.rendering import FRONTEND_DIR

MSGID = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")


def _template_msgids() -> set[str]:
    found: set[str] = set()
    for template in (FRONTEND_DIR / "templates").rglob("*.html"):
        found |= {match.group(2) for match in MSGID.finditer(template.read_text(encoding="utf-8"))}
    return found


def test_every_template_text_has_an_english_translation() -> None:
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file, locale="en")
    translated = {message.id for message in catalog if message.id and message.string}
    assert _template_msgids() - translated == set()
