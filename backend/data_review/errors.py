"""Typed errors of the data review, each carrying its HTTP status."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class EntryReviewNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("待审核条目不存在 / Entry under review not found")


class EntryDecided(Conflict):
    def __init__(self, state: str) -> None:
        labels = {"confirmed": "已确认", "rejected": "已退回"}
        super().__init__(
            f"该条目{labels.get(state, state)}，不能再次审核 / The entry was already {state}", code="ENTRY_DECIDED"
        )


class RecheckNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("抽查清单不存在 / Re-check list not found")


class RecheckDrawn(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "该村本月的抽查清单已抽取 / This village's list of the month was already drawn", code="RECHECK_DRAWN"
        )


class RecheckItemDone(Conflict):
    def __init__(self) -> None:
        super().__init__("该条目已记录抽查结果 / This entry's finding was already recorded", code="RECHECK_ITEM_DONE")


class NotAVillage(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "抽查清单按村（居）抽取 / A re-check list is drawn per village",
            [FieldError(("body", "org_unit_code"), "请选择村（居）/ choose a village")],
        )


class FutureMonth(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "不能抽取以后月份的清单 / A list cannot be drawn for a month to come",
            [FieldError(("body", "month"), "月份不能晚于本月 / the month is after this one")],
        )
