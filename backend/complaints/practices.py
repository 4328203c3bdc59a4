"""The prohibited practices a complaint may name (seeds-spec P18), and finding them in its words.

「不得擅自增设流动人口收费项目,提高收费标准或搭车收费、乱收费;无正当理由不得拒绝或拖延办理流动人口有关生育证明或生育审批
手续;无正当理由不得强行要求流动人口返回户籍地进行避孕节育情况检查」 [004 篇三]; deposits on departure (押金) are named
as a major source of complaints [003 篇三]. A complaint naming one is flagged: the officer may tick them, and the
words of the complaint are searched for them as well, so none goes unflagged for want of a tick.
"""

from __future__ import annotations

PRACTICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "forced_return": (
        "强行要求返回户籍地查环查孕 / forced return to the registration place for checks",
        ("返回户籍地", "回户籍地", "回原籍", "回老家"),
    ),
    "extra_fees": (
        "擅自收费、乱收费、收取押金 / extra or unauthorised fees, deposits",
        ("收费", "乱收费", "押金", "罚款", "交钱"),
    ),
    "refusal_without_reason": (
        "无正当理由拒绝或拖延办理 / refusal or delay without a reason",
        ("拒绝办理", "不给办", "不予办理", "拖延", "推诿"),
    ),
}


def named_practices(chosen: list[str], *texts: str) -> list[str]:
    """The practices ticked or named in `texts`, in the order of PRACTICES."""
    words = " ".join(texts)
    found = set(chosen) | {code for code, (_, keys) in PRACTICES.items() if any(key in words for key in keys)}
    return [code for code in PRACTICES if code in found]


def label(code: str) -> str:
    return PRACTICES[code][0]
