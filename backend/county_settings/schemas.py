"""The county settings document and the administrator's update of it."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from backend.case_types.types import REWARD_TYPES, RURAL_REWARD_ASSISTANCE
from backend.core.input import DecimalString
from backend.core.schemas import InputSchema, OutputSchema

CENTS = Decimal("0.01")
Amount = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=12, decimal_places=2), DecimalString(12)]


class CountySettings(BaseModel):
    """What a county sets for its procedures; every field has the platform's default.

    - `reward_amounts`: 元 per year for each reward policy (case type code). The rural reward assistance defaults
      to 960 (80 元 a month, 「农村奖扶金每人每月不低于60元到80元的提标工作」 [002]); the seeds give no national figure
      for the others, so a county sets them before such rewards can be applied for.
    - `report_reward`: 元 for a verified report of 两非, 「凡舉報后經查實的,每例給予1萬元獎勵」 [000§F] (10,000).
    - `archive_retention_years`: how long a yearly archive volume (P26) is kept write-once. The seeds say only
      「妥善保存」 (kept safely), so the platform's default is 30 years and each county sets its own.
    - `village_entries_need_confirmation`: registrations and changes entered by a village coordinator wait for the
      township's confirmation before they count (三级把关, 「最后交到乡流管办审查」 [004 篇六]); off by default.
    - `recheck_share_percent`, `recheck_minimum`: the size of a village's monthly random re-check list (倒查、随机抽查
      [004 篇六]): this share of the entries changed that month, at least this many (all of them when fewer); the
      seeds give no rate, so 5 % and at least 3 are the platform's defaults.
    """

    reward_amounts: dict[str, Amount] = Field(default_factory=lambda: {RURAL_REWARD_ASSISTANCE: Decimal("960.00")})
    report_reward: Amount = Decimal("10000.00")
    archive_retention_years: int = Field(default=30, ge=1, le=100)
    village_entries_need_confirmation: bool = False
    recheck_share_percent: int = Field(default=5, ge=1, le=100)
    recheck_minimum: int = Field(default=3, ge=0, le=100)

    @field_validator("reward_amounts")
    @classmethod
    def _known_policies(cls, amounts: dict[str, Decimal]) -> dict[str, Decimal]:
        unknown = sorted(set(amounts) - set(REWARD_TYPES))
        if unknown:
            raise ValueError(f"未知的奖励项目 {', '.join(unknown)} / unknown reward policies {', '.join(unknown)}")
        return {policy: amount.quantize(CENTS) for policy, amount in amounts.items()}


class CountySettingsUpdate(InputSchema, CountySettings):
    """The county's whole settings document (a field left out takes the default), with the version read."""

    version: int | None = Field(default=None, description="the version read; required once the county saved settings")


class CountySettingsRead(OutputSchema, CountySettings):
    version: int | None = Field(description="null: never saved (the defaults apply)")
