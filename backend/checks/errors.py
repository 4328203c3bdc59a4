"""Typed errors of the check rounds, each carrying its HTTP status; messages "中文 / English"."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class CheckRoundNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("检查轮次不存在 / Check round not found")


class CheckResultRejected(InvalidInput):
    """A result that cannot be recorded; every problem at its field (422)."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__("检查结果有误，未保存 / The check result is invalid; nothing was saved", problems)


class CheckResultRecorded(Conflict):
    def __init__(self) -> None:
        super().__init__("本轮检查结果已登记 / This round's result is already recorded", code="RESULT_RECORDED")


class RoundVoid(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "本轮已作废（对象已离开或记录已合并），不能登记结果 / This round is void (she left or her record was "
            "merged); no result can be recorded",
            code="ROUND_VOID",
        )


def problem(field: str, zh: str, en: str) -> FieldError:
    """One problem of a result at its field of the body."""
    return FieldError(("body", field), f"{zh} / {en}")
