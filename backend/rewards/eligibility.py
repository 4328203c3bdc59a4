"""Who is entitled to a reward policy, read from the registry (children, marriage, sterilisation records).

Pure: the service loads the couple and their children, these functions name every condition and whether it holds,
so a refusal names each failing one. What the registry cannot show (an only child's death or disability, a rural
household registration, surgery complications) is the investigator's to verify, attested with her signature
(backend/case_types/procedures.py).

The conditions, by policy:
- **独生子女父母奖励** (only-child parents' reward): the applicant is married, and the couple has exactly one child
  on record.
- **农村计划生育家庭奖励扶助** (rural FP family reward assistance, 「农村奖扶金每人每月不低于60元到80元」 [002]): the
  applicant is 60 or older in the year applied for; the couple has one child, or two children who are both daughters
  and then a sterilisation is recorded for one of the couple.
- **计划生育家庭特别扶助** (FP family special assistance): one child on record (the only child, whose death or
  disability the investigator verifies), and the woman of the couple is 49 or older in the year.

Who may be paid (「独生子女奖励金由非独生子女父母代领,领取不规范,应予纠正」 [001#10]): the only-child reward goes to
either parent of the couple; the rural and special assistance are paid per person, to the applicant alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from backend.case_types.types import ONLY_CHILD_REWARD, RURAL_REWARD_ASSISTANCE, SPECIAL_ASSISTANCE
from backend.models import ContraceptionMeasure, MaritalStatus, Person, PersonChild, Sex

MARRIED = frozenset({MaritalStatus.first_marriage, MaritalStatus.remarried})
PAID_TO_EITHER_PARENT = frozenset({ONLY_CHILD_REWARD})


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of a policy: its code, what it asks (中文 / English), whether it holds, and what the registry
    showed."""

    code: str
    label: str
    met: bool
    found: str


@dataclass(frozen=True, slots=True)
class Couple:
    applicant: Person
    spouse: Person | None
    children: list[PersonChild]


def _age(person: Person, year: int) -> int | None:
    return year - person.birth_date.year if person.birth_date is not None else None


def _married(couple: Couple) -> Condition:
    status = couple.applicant.marital_status
    return Condition(
        "married",
        "申请人已婚 / the applicant is married",
        status in MARRIED,
        f"婚姻状况：{status.value if status else '无记录'} / marital status: {status.value if status else 'no record'}",
    )


def _children_found(couple: Couple) -> str:
    daughters = sum(1 for child in couple.children if child.sex == Sex.female)
    count = len(couple.children)
    return f"登记子女{count}人（女孩{daughters}人）/ {count} children on record ({daughters} girls)"


def _one_child(couple: Couple) -> Condition:
    return Condition(
        "one_child",
        "夫妻只有一个子女 / the couple has one child",
        len(couple.children) == 1,
        _children_found(couple),
    )


def _aged(person: Person | None, years: int, year: int, who: tuple[str, str], code: str) -> Condition:
    age = _age(person, year) if person is not None else None
    found = f"{year}年{age}周岁 / {age} in {year}" if age is not None else "出生日期无记录 / no birth date on record"
    return Condition(
        code, f"{who[0]}年满{years}周岁 / {who[1]} is {years} or older", age is not None and age >= years, found
    )


def _one_child_or_two_daughters(couple: Couple) -> list[Condition]:
    children = couple.children
    two_daughters = len(children) == 2 and all(child.sex == Sex.female for child in children)
    conditions = [
        Condition(
            "one_child_or_two_daughters",
            "只有一个子女或两个女孩 / one child, or two daughters",
            len(children) == 1 or two_daughters,
            _children_found(couple),
        )
    ]
    if two_daughters:
        sterilised = [
            person.name
            for person in (couple.applicant, couple.spouse)
            if person is not None and person.contraception_measure == ContraceptionMeasure.sterilisation
        ]
        conditions.append(
            Condition(
                "sterilisation",
                "两个女孩的，夫妻一方已落实绝育措施 / with two daughters, one of the couple is sterilised",
                bool(sterilised),
                f"绝育记录：{'、'.join(sterilised) or '无'} / "
                f"sterilisation on record: {', '.join(sterilised) or 'none'}",
            )
        )
    return conditions


def _woman(couple: Couple) -> Person | None:
    return next((p for p in (couple.applicant, couple.spouse) if p is not None and p.sex == Sex.female), None)


def conditions(policy: str, couple: Couple, year: int) -> list[Condition]:
    """Every condition of `policy` for the couple in `year`, each met or not."""
    if policy == ONLY_CHILD_REWARD:
        return [_married(couple), _one_child(couple)]
    if policy == RURAL_REWARD_ASSISTANCE:
        return [
            _aged(couple.applicant, 60, year, ("申请人", "the applicant"), "aged_60"),
            *_one_child_or_two_daughters(couple),
        ]
    if policy == SPECIAL_ASSISTANCE:
        return [_one_child(couple), _aged(_woman(couple), 49, year, ("女方", "the woman"), "woman_aged_49")]
    raise ValueError(f"not a reward policy: {policy}")


def entitled_payees(policy: str, couple: Couple) -> list[Person]:
    """Who may be paid: either parent of the couple for the only-child reward, the applicant alone otherwise."""
    if policy in PAID_TO_EITHER_PARENT and couple.spouse is not None:
        return [couple.applicant, couple.spouse]
    return [couple.applicant]


def as_of(year: int) -> date:
    """The reference day of a year's conditions (ages are counted by year of birth)."""
    return date(year, 12, 31)
