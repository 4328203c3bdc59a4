"""Pinyin-aware name keys (姓名检索键) for duplicate suggestions and search.

`name_search_keys("张三")` and `name_search_keys("Zhang San")` give the same pinyin key `zhangsan`, so a
person typed once in characters and once in letters is still suggested as a possible duplicate.

Surnames (姓) get their surname reading rather than pypinyin's most common reading of the character:
曾 is *zeng* (not ceng), 单 *shan*, 解 *xie*, 仇 *qiu*, 区 *ou*. Because a clerk may still have typed
another reading in letters, every reading pypinyin knows for the surname character (its heteronyms)
is kept in `pinyin_variants`; the given name (名) uses pypinyin's phrase-aware reading only.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product
from typing import Literal

from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict

NameScript = Literal["han", "latin", "mixed", "empty"]

# Single-character surnames whose surname reading is not the character's everyday reading, or
# whose everyday reading pypinyin might pick from context. Written as pypinyin writes them (ü as v).
# fmt: off
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
    "盖": "ge", "乐": "yue", "缪": "miao", "覃": "qin", "种": "chong", "翟": "zhai", "员": "yun",
    "召": "shao", "秘": "bi", "隗": "wei", "繁": "po", "宓": "mi", "谌": "chen", "眭": "sui",
    "折": "she", "厍": "she", "句": "gou", "柏": "bai", "祭": "zhai", "都": "du",
    "能": "nai", "莘": "shen", "贲": "ben", "费": "fei", "颉": "xie", "薄": "bo", "乜": "nie",
    "尉": "wei", "蔚": "yu", "纪": "ji", "过": "guo", "重": "chong", "褚": "chu", "沈": "shen",
    "任": "ren", "石": "shi", "华": "hua", "葛": "ge", "燕": "yan", "应": "ying", "朝": "chao",
    "那": "na", "宁": "ning", "卜": "bu", "车": "che",
    "阚": "kan", "殷": "yin", "吕": "lv", "曲": "qu", "叶": "ye", "万": "wan", "於": "yu",
}

# Compound surnames (复姓) with their readings; only taken as a surname when a given name follows.
COMPOUND_SURNAME_READINGS: dict[str, tuple[str, str]] = {
    "欧阳": ("ou", "yang"), "司马": ("si", "ma"), "诸葛": ("zhu", "ge"), "上官": ("shang", "guan"),
    "尉迟": ("yu", "chi"), "万俟": ("mo", "qi"), "长孙": ("zhang", "sun"), "澹台": ("tan", "tai"),
    "皇甫": ("huang", "fu"), "公孙": ("gong", "sun"), "慕容": ("mu", "rong"), "东方": ("dong", "fang"),
    "夏侯": ("xia", "hou"), "宇文": ("yu", "wen"), "司徒": ("si", "tu"), "独孤": ("du", "gu"),
    "南宫": ("nan", "gong"), "呼延": ("hu", "yan"), "端木": ("duan", "mu"), "令狐": ("ling", "hu"),
    "轩辕": ("xuan", "yuan"), "钟离": ("zhong", "li"), "宗政": ("zong", "zheng"), "濮阳": ("pu", "yang"),
    "太史": ("tai", "shi"), "申屠": ("shen", "tu"), "公冶": ("gong", "ye"), "闻人": ("wen", "ren"),
    "赫连": ("he", "lian"), "鲜于": ("xian", "yu"), "闾丘": ("lv", "qiu"), "亓官": ("qi", "guan"),
    "司空": ("si", "kong"), "乐正": ("yue", "zheng"), "谷梁": ("gu", "liang"), "拓跋": ("tuo", "ba"),
    "百里": ("bai", "li"), "东郭": ("dong", "guo"), "西门": ("xi", "men"), "第五": ("di", "wu"),
    "左丘": ("zuo", "qiu"), "仲孙": ("zhong", "sun"), "羊舌": ("yang", "she"), "梁丘": ("liang", "qiu"),
    "段干": ("duan", "gan"), "漆雕": ("qi", "diao"), "颛孙": ("zhuan", "sun"), "巫马": ("wu", "ma"),
    "公西": ("gong", "xi"), "司寇": ("si", "kou"), "宰父": ("zai", "fu"),
}
# fmt: on

# Dots written between the parts of transliterated names (e.g. 阿依古丽·买买提), unified to U+00B7.
_NAME_DOTS = re.compile("[·・•‧∙.･]")
_WHITESPACE = re.compile(r"\s+")
_LATIN_RUN = re.compile(r"[a-z]+")
_HAN_OR_LATIN_RUN = re.compile(r"[a-z]+|[^a-z ]+")
# Passport spelling of ü after l/n (LYU, NYU) → pypinyin's v.
_PASSPORT_U_UMLAUT = {"lyu": "lv", "nyu": "nv", "lyue": "lve", "nyue": "nve"}


@dataclass(frozen=True, slots=True)
class NameKeys:
    """Search keys for one name.

    - `normalized`: the name as typed, full-width → half-width, spaces removed (Han) or collapsed and
      lower-cased (Latin), dots in transliterated names unified to `·`
    - `pinyin`: toneless pinyin, lower case, no spaces (`zhangsan`); ü is written `v` as pypinyin does
    - `initials`: first letter of every syllable (`zs`)
    - `pinyin_variants`: `pinyin` plus the other readings a clerk might have typed: every heteronym of
      the surname, and ü written as `u`
    - `script`: `han`, `latin`, `mixed` (both) or `empty`
    """

    normalized: str
    pinyin: str
    initials: str
    pinyin_variants: frozenset[str]
    script: NameScript


def _is_han(character: str) -> bool:
    codepoint = ord(character)
    return (
        0x4E00 <= codepoint <= 0x9FFF
        or 0x3400 <= codepoint <= 0x4DBF
        or 0x20000 <= codepoint <= 0x3134F
        or 0xF900 <= codepoint <= 0xFAFF
        or character == "〇"
    )


def _is_latin_letter(character: str) -> bool:
    return (character.isascii() and character.isalpha()) or character in "üÜ"


@functools.cache
def _pinyin_syllables() -> frozenset[str]:
    """Every toneless syllable pypinyin knows, minus the vowelless interjections (hm, ng, ...)."""
    syllables: set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            syllable = to_normal(reading, v_to_u=False)
            if syllable.isascii() and syllable.isalpha() and set(syllable) & set("aeiouv"):
                syllables.add(syllable)
    return frozenset(syllables | _PASSPORT_U_UMLAUT.keys())


def _segment(token: str) -> list[str] | None:
    """Split a run of letters into pinyin syllables, longest syllable first, backtracking when a
    split leads nowhere; None when the run is not pinyin at all (e.g. `smith`)."""
    syllables = _pinyin_syllables()

    @functools.cache
    def from_position(start: int) -> tuple[str, ...] | None:
        if start == len(token):
            return ()
        for end in range(min(len(token), start + 6), start, -1):
            if token[start:end] in syllables:
                rest = from_position(end)
                if rest is not None:
                    return (token[start:end], *rest)
        return None

    found = from_position(0)
    return list(found) if found is not None else None


def _latin_syllables(run: str) -> list[str]:
    """Syllables of a run of Latin letters; a run that is not pinyin stays one 'syllable'."""
    segmented = _segment(run)
    if segmented is None:
        return [run]
    return [_PASSPORT_U_UMLAUT.get(syllable, syllable) for syllable in segmented]


def normalise_name(name: str) -> str:
    """Full-width → half-width (NFKC). Names with characters lose every space and have the dots of
    transliterated names unified to `·`; names in letters keep single spaces and are lower-cased."""
    text = unicodedata.normalize("NFKC", name).strip()
    if any(_is_han(character) for character in text):
        return _WHITESPACE.sub("", _NAME_DOTS.sub("·", text))
    return _WHITESPACE.sub(" ", text).lower()


def _script(text: str) -> NameScript:
    has_han = any(_is_han(character) for character in text)
    has_latin = any(_is_latin_letter(character) for character in text)
    if has_han and has_latin:
        return "mixed"
    if has_han:
        return "han"
    if has_latin:
        return "latin"
    return "empty"


def _split_surname(text: str) -> tuple[str, str]:
    """(surname, given name) of a Han name; compound surnames only when a given name follows."""
    if len(text) >= 3 and text[:2] in COMPOUND_SURNAME_READINGS:
        return text[:2], text[2:]
    return text[:1], text[1:]


def _han_syllables(text: str) -> list[str]:
    return lazy_pinyin(text, style=Style.NORMAL, errors="ignore")


def _surname_readings(surname: str) -> tuple[list[str], list[list[str]]]:
    """(the surname reading, every reading per character for the variants)."""
    if surname in COMPOUND_SURNAME_READINGS:
        primary = list(COMPOUND_SURNAME_READINGS[surname])
    else:
        primary = [SURNAME_READINGS.get(surname) or "".join(_han_syllables(surname))]
    alternatives = [
        sorted(
            {reading}
            | {
                heteronym
                for heteronym in pinyin(character, style=Style.NORMAL, heteronym=True)[0]
                if heteronym.isascii() and heteronym.isalpha()
            }
        )
        for character, reading in zip(surname, primary, strict=True)
    ]
    return primary, alternatives


def _with_u_for_v(keys: Iterable[str]) -> frozenset[str]:
    keys = list(keys)
    return frozenset(keys) | frozenset(key.replace("v", "u") for key in keys)


def _mixed_syllables(text: str) -> list[str]:
    """Syllables of text mixing characters and letters, in order: Han via pypinyin, letters segmented."""
    syllables: list[str] = []
    for run in _HAN_OR_LATIN_RUN.findall(_latin_letters(text)):
        if _is_han(run[0]):
            syllables.extend(_han_syllables(run))
        else:
            syllables.extend(_latin_syllables(run))
    return syllables


def _latin_letters(text: str) -> str:
    """Lower-cased, ü → v, every character that is neither a Latin letter nor Han turned into a space."""
    lowered = text.lower().replace("u:", "v").replace("ü", "v")
    return "".join(character if "a" <= character <= "z" or _is_han(character) else " " for character in lowered)


def name_search_keys(name: str) -> NameKeys:
    """Search keys for a person's name typed in characters (`张三`), letters (`Zhang San`, `ZHANG  san`)
    or full-width letters (`Ｚｈａｎｇ Ｓａｎ`). Names in characters and their pinyin get equal `pinyin`."""
    normalized = normalise_name(name)
    script = _script(normalized)
    if script == "empty":
        return NameKeys(normalized, "", "", frozenset(), script)
    if script == "latin":
        runs = _LATIN_RUN.findall(_latin_letters(normalized))
        syllables = [syllable for run in runs for syllable in _latin_syllables(run)]
        key = "".join(syllables)
        return NameKeys(normalized, key, "".join(s[0] for s in syllables), _with_u_for_v([key]), script)
    if script == "mixed" or "·" in normalized:
        # Letters mixed in, or a transliterated name: there is no Han surname to read specially.
        syllables = _mixed_syllables(normalized) if script == "mixed" else _han_syllables(normalized)
        key = "".join(syllables)
        return NameKeys(normalized, key, "".join(s[0] for s in syllables), _with_u_for_v([key]), script)
    surname, given_name = _split_surname(normalized)
    surname_primary, surname_alternatives = _surname_readings(surname)
    given_syllables = _han_syllables(given_name)
    syllables = surname_primary + given_syllables
    given_key = "".join(given_syllables)
    variants = ["".join(readings) + given_key for readings in product(*surname_alternatives)]
    key = "".join(syllables)
    return NameKeys(normalized, key, "".join(s[0] for s in syllables), _with_u_for_v([key, *variants]), script)


def names_match(a: str, b: str) -> bool:
    """Whether two names may be the same person's, for duplicate suggestions (not identity).

    Two names in characters match when they are equal or sound the same (equal `pinyin`, so a
    homophone picked by the input method still matches). When either is in letters, it matches if
    its pinyin is among the other's `pinyin_variants` (so `Zhang San` matches 张三 and `Ceng Fan`
    still matches 曾凡). Empty names match nothing.
    """
    keys_a, keys_b = name_search_keys(a), name_search_keys(b)
    if not keys_a.pinyin or not keys_b.pinyin:
        return False
    if keys_a.script == "han" and keys_b.script == "han":
        return keys_a.normalized == keys_b.normalized or keys_a.pinyin == keys_b.pinyin
    return bool(keys_a.pinyin_variants & keys_b.pinyin_variants)
