"""Pinyin name keys: characters and letters meet on one key; surnames read as surnames."""

from __future__ import annotations

import pytest

from backend.persons.names import NameKeys, name_search_keys, names_match, normalise_name


def test_chinese_name_keys() -> None:
    assert name_search_keys("张三") == NameKeys(
        normalized="张三",
        pinyin="zhangsan",
        initials="zs",
        pinyin_variants=frozenset({"zhangsan"}),
        script="han",
    )


@pytest.mark.parametrize("typed", ["Zhang San", "ZHANG  san", "zhang san", " Zhang\tSan ", "Ｚｈａｎｇ　Ｓａｎ"])
def test_latin_spelling_gives_the_same_pinyin_as_the_characters(typed: str) -> None:
    keys = name_search_keys(typed)
    assert keys.pinyin == name_search_keys("张三").pinyin == "zhangsan"
    assert keys.initials == "zs"
    assert keys.normalized == "zhang san"
    assert keys.script == "latin"


def test_latin_spelling_without_a_space_is_split_into_syllables() -> None:
    assert name_search_keys("Zhangsan").initials == "zs"


@pytest.mark.parametrize("typed", ["张 三", "张　三", " 张三 "])
def test_spaces_and_full_width_spaces_are_removed_from_chinese_names(typed: str) -> None:
    assert normalise_name(typed) == "张三"
    assert name_search_keys(typed).pinyin == "zhangsan"


def test_full_width_letters_in_a_chinese_name_become_half_width() -> None:
    assert normalise_name("王Ａ") == "王A"


@pytest.mark.parametrize(
    ("name", "pinyin", "initials"),
    [
        ("曾国藩", "zengguofan", "zgf"),
        ("单田芳", "shantianfang", "stf"),
        ("解缙", "xiejin", "xj"),
        ("仇英", "qiuying", "qy"),
        ("区志", "ouzhi", "oz"),
        ("朴树", "piaoshu", "ps"),
        ("查良镛", "zhaliangyong", "zly"),
    ],
)
def test_polyphonic_surname_is_read_as_a_surname(name: str, pinyin: str, initials: str) -> None:
    keys = name_search_keys(name)
    assert (keys.pinyin, keys.initials) == (pinyin, initials)


@pytest.mark.parametrize(("name", "other_reading"), [("曾凡", "cengfan"), ("单雄", "danxiong"), ("解放", "jiefang")])
def test_other_readings_of_the_surname_are_kept_as_variants(name: str, other_reading: str) -> None:
    assert other_reading in name_search_keys(name).pinyin_variants


def test_variants_differ_only_in_the_surname() -> None:
    variants = name_search_keys("曾国藩").pinyin_variants
    assert len(variants) > 1
    assert all(variant.endswith("guofan") for variant in variants)


@pytest.mark.parametrize(
    ("name", "pinyin", "initials"),
    [("欧阳修", "ouyangxiu", "oyx"), ("尉迟恭", "yuchigong", "ycg"), ("万俟卨", "moqixie", "mqx")],
)
def test_compound_surname(name: str, pinyin: str, initials: str) -> None:
    keys = name_search_keys(name)
    assert (keys.pinyin, keys.initials) == (pinyin, initials)


def test_compound_surname_in_letters_matches_characters() -> None:
    assert name_search_keys("Ouyang Xiu").initials == "oyx"
    assert names_match("欧阳修", "Ouyang Xiu")


@pytest.mark.parametrize("typed", ["Lyu Bu", "LÜ Bu", "Lv Bu", "Lu Bu"])
def test_u_umlaut_spellings_match(typed: str) -> None:
    assert name_search_keys("吕布").pinyin == "lvbu"
    assert names_match("吕布", typed)


def test_transliterated_names_unify_their_dots() -> None:
    assert normalise_name("阿依古丽・买买提") == normalise_name("阿依古丽 · 买买提") == "阿依古丽·买买提"
    assert names_match("阿依古丽•买买提", "阿依古丽·买买提")


def test_non_pinyin_latin_name_is_kept_as_letters() -> None:
    keys = name_search_keys("Smith")
    assert (keys.pinyin, keys.initials) == ("smith", "s")


def test_empty_name_has_empty_keys() -> None:
    keys = name_search_keys("   ")
    assert (keys.pinyin, keys.initials, keys.script) == ("", "", "empty")


def test_chinese_and_latin_spelling_match() -> None:
    assert names_match("张三", "Zhang San")
    assert names_match("ZHANG  san", "张三")


def test_surname_reading_in_letters_matches() -> None:
    assert names_match("曾凡", "Zeng Fan")


def test_everyday_reading_of_the_surname_in_letters_still_matches() -> None:
    assert names_match("曾凡", "Ceng Fan")


def test_homophones_in_characters_match() -> None:
    assert names_match("张三", "章三")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("张三", "李四"),
        ("张三", "Zhang Shan"),
        ("Zhang San", "Zhang Shan"),
        ("单雄", "丹雄"),
        ("", ""),
        ("张三", ""),
    ],
)
def test_different_names_do_not_match(a: str, b: str) -> None:
    assert not names_match(a, b)
