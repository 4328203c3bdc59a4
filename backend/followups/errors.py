"""Typed errors of follow-up work: the county's rules and the visits recorded, each carrying its HTTP status."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class FollowUpRulesRejected(InvalidInput):
    def __init__(self, problems: list[FieldError]) -> None:
        super().__init__(
            "随访与三查频次设置有误，未保存 / The follow-up rules are invalid; nothing was saved", problems
        )


class FollowUpRulesVersionRequired(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "修改已有设置须提供版本号 / Give the version you read to change the existing rules",
            [FieldError(("body", "version"), "必填 / required")],
        )


class FollowUpRulesConflict(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "设置已被他人同时修改，请刷新后重试 / Someone else changed the rules at the same time; reload and retry",
            code="STALE_VERSION",
        )


class FollowUpNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("随访不存在 / Follow-up not found")


class VisitRejected(InvalidInput):
    """A visit that cannot be recorded: the problem at its field (422)."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}", [FieldError(("body", field), f"{zh} / {en}")])


class VisitAlreadyRecorded(Conflict):
    def __init__(self) -> None:
        super().__init__("本次随访已记录 / This visit is already recorded", code="VISIT_RECORDED")
