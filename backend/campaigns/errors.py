"""Typed errors of clean-up campaigns, each carrying its HTTP status; messages "中文 / English"."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class CampaignNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("清查活动不存在 / Campaign not found")


class CampaignItemNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("清查对象不存在 / Campaign entry not found")


class CampaignRejected(InvalidInput):
    """A plan, a finding or an arrival that cannot be recorded; every problem at its field (422)."""

    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__("清查登记有误，未保存 / The entry is invalid; nothing was saved", problems)


class FindingRecorded(Conflict):
    def __init__(self) -> None:
        super().__init__("该对象的走访结果已登记 / This entry's finding is already recorded", code="FINDING_RECORDED")


class CampaignClosed(Conflict):
    def __init__(self) -> None:
        super().__init__("清查活动已结束 / The campaign is closed", code="CAMPAIGN_CLOSED")


def problem(field: str, zh: str, en: str) -> FieldError:
    """One problem of a body at its field."""
    return FieldError(("body", field), f"{zh} / {en}")
