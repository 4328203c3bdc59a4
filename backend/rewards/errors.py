"""Typed errors of the rewards domain, each carrying its HTTP status."""

from __future__ import annotations

from backend.core.errors import Conflict, FieldError, InvalidInput, NotFound


class RewardNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("奖励扶助申报不存在 / Reward application not found")


class InvalidReward(InvalidInput):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__("奖励扶助申报有误 / Invalid reward application", [FieldError(("body", field), reason)])


class NotEligible(InvalidInput):
    """Every condition of the policy the registry shows unmet, one entry each (`body.eligibility.<code>`)."""

    def __init__(self, failing: list[tuple[str, str, str]]) -> None:
        super().__init__(
            "不符合奖励扶助条件，未受理 / The conditions of the policy are not met; nothing was recorded",
            [FieldError(("body", "eligibility", code), f"{label}：{found}") for code, label, found in failing],
        )


class PayeeNotEntitled(InvalidInput):
    """The payee is not an entitled parent (「独生子女奖励金由非独生子女父母代领,领取不规范,应予纠正」)."""

    def __init__(self, field: str = "payee_id") -> None:
        super().__init__(
            "领取人不符合规定 / The payee is not entitled",
            [
                FieldError(
                    ("body", field),
                    "领取人须为符合条件的父母本人，不得由他人代领 / the payee must be an entitled parent; nobody else "
                    "may collect it",
                )
            ],
        )


class RewardNotGranted(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "奖励扶助尚未批准，不能发放 / The reward is not granted: nothing can be paid", code="REWARD_NOT_GRANTED"
        )
