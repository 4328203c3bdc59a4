"""Page text catalogs: zh-CN is the source language of the templates; English comes from a .po catalog.

The .po file is compiled in memory at start-up, so there is no build step and no binary in the repository.
"""

from __future__ import annotations

import io
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "zh_CN"
SUPPORTED_LOCALES = ("zh_CN", "en")
LOCALE_COOKIE = "lang"


@lru_cache
def translations(locale: str) -> NullTranslations:
    """Catalog for a locale; zh_CN (the template language) needs none."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def negotiate_locale(cookie_value: str | None) -> str:
    """Chinese unless the user chose English with the language switch (a cookie).

    The browser's Accept-Language is deliberately ignored: office PCs often run English-language browsers
    for staff who work in Chinese.
    """
    return cookie_value if cookie_value in SUPPORTED_LOCALES else DEFAULT_LOCALE
