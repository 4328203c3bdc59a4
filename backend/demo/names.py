"""Realistic people for the demo, from a fixed seed: common surnames and given names, valid resident ID numbers
(居民身份证号码: the registration county's real division code, the birth date, a sequence whose parity is the sex,
and the GB 11643 check character), mobile numbers, and addresses in the two demo counties.

Everything here is pure: the same seed gives the same people, so the README can name who to look for.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from backend.persons.resident_id import check_character

SEED = 2026
T = TypeVar("T")

# The most common surnames, roughly by frequency (a surname drawn earlier in the list is drawn more often).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤"
)
FEMALE_GIVEN = "秀英华丽芳娟敏静燕玲红霞梅兰萍琴艳婷雪慧莉倩颖洁晶佳欣悦雅琳月凤桂云春晓玉美丹蕾璐瑶"
MALE_GIVEN = "伟强军磊洋勇杰涛明超刚平辉鹏飞斌波宇浩凯健俊帆旭宁龙林峰建国海东志新成亮军涛斌良"

# Where the people come from: real division codes (GB/T 2260) of the registration counties.
FUNAN = "341225"
XIHU = "330106"
OTHER_ORIGINS = (
    ("341221", "临泉县"),
    ("341222", "太和县"),
    ("341226", "颍上县"),
    ("411528", "息县"),
    ("411526", "潢川县"),
)
ELSEWHERE = (("320506", "江苏省苏州市吴中区"), ("440306", "广东省深圳市宝安区"), ("330110", "浙江省杭州市余杭区"))

XIHU_STREETS = (
    "文三路",
    "文二路",
    "学院路",
    "教工路",
    "天目山路",
    "古墩路",
    "西溪路",
    "保俶路",
    "曙光路",
    "黄龙路",
    "翠苑街",
    "文一西路",
    "紫荆花路",
)
XIHU_EMPLOYERS = (
    "杭州文新餐饮管理有限公司",
    "杭州古荡湾物流有限公司",
    "杭州西溪服装有限公司",
    "浙江翠苑物业服务有限公司",
    "杭州保俶建筑装饰工程有限公司",
    "杭州曙光家政服务有限公司",
    "杭州天目山路超市",
    "杭州黄龙电子商务有限公司",
)
FUNAN_EMPLOYERS = ("阜南县柳编工艺品厂", "阜南县鹿城镇农业合作社", "阜南县会龙镇食品厂", "王家坝镇个体经营")


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """One generated person: her name, sex, birth date and ID number, and where she is registered."""

    name: str
    sex: str  # "female" | "male"
    birth_date: date
    resident_id: str
    phone: str


class PeopleFactory:
    """Draws people from the fixed seed; ID sequences never repeat within one factory."""

    def __init__(self, seed: int = SEED) -> None:
        self.random = random.Random(seed)
        self._used_ids: set[str] = set()
        self._used_phones: set[str] = set()

    def choice(self, items: Sequence[T]) -> T:
        return self.random.choice(items)

    def surname(self) -> str:
        # A rough Zipf: the first surnames of the list are far more common than the last ones.
        index = min(int(self.random.paretovariate(1.2)) - 1, len(SURNAMES) - 1)
        return SURNAMES[index] if self.random.random() < 0.6 else self.random.choice(SURNAMES)

    def given_name(self, sex: str) -> str:
        characters = FEMALE_GIVEN if sex == "female" else MALE_GIVEN
        length = 2 if self.random.random() < 0.7 else 1
        given = "".join(self.random.choice(characters) for _ in range(length))
        return given if len(set(given)) == len(given) else given[0]

    def resident_id(self, region: str, birth_date: date, sex: str) -> str:
        """A valid 18-character ID number of someone born on `birth_date` and first registered in `region`."""
        while True:
            sequence = self.random.randrange(0, 500) * 2 + (1 if sex == "male" else 0)
            first_17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
            number = first_17 + check_character(first_17)
            if number not in self._used_ids:
                self._used_ids.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = "1" + self.random.choice("3578") + "".join(str(self.random.randrange(10)) for _ in range(9))
            if number not in self._used_phones:
                self._used_phones.add(number)
                return number

    def person(self, region: str, sex: str, today: date, *, age: tuple[int, int] = (21, 44)) -> DemoPerson:
        """A person of `sex` aged within `age` on `today`, first registered in `region`."""
        birth_date = today - timedelta(days=self.random.randrange(age[0] * 365, age[1] * 365))
        return DemoPerson(
            name=self.surname() + self.given_name(sex),
            sex=sex,
            birth_date=birth_date,
            resident_id=self.resident_id(region, birth_date, sex),
            phone=self.phone(),
        )

    def spouse_of(self, person: DemoPerson, region: str, today: date) -> DemoPerson:
        """Her husband (or his wife): a couple of years apart, of the other sex."""
        sex = "male" if person.sex == "female" else "female"
        birth_date = person.birth_date + timedelta(days=self.random.randrange(-4 * 365, 3 * 365))
        birth_date = min(birth_date, today - timedelta(days=21 * 365))
        return DemoPerson(
            name=self.surname() + self.given_name(sex),
            sex=sex,
            birth_date=birth_date,
            resident_id=self.resident_id(region, birth_date, sex),
            phone=self.phone(),
        )

    def child_name(self, surname_of: str) -> tuple[str, str]:
        """(name, sex) of a child carrying the parent's surname."""
        sex = self.random.choice(("female", "male"))
        return surname_of[0] + self.given_name(sex), sex

    def xihu_address(self) -> str:
        building, unit, room = self.random.randrange(1, 30), self.random.randrange(1, 4), self.random.randrange(1, 7)
        return f"{self.choice(XIHU_STREETS)}{self.random.randrange(1, 300)}号{building}幢{unit}单元{room}0{unit}室"

    def village_address(self, township: str, village: str) -> str:
        return f"{township}{village}{self.random.randrange(1, 12)}组{self.random.randrange(1, 60)}号"
