"""Figures per village summed up the org tree for the rate pages (三查, 随访, 免费服务): a village's count also
counts for its township and the county, but only for the units the caller reads whole — a township total made of
the one village a coordinator can see would be shown as the township's and mislead."""

from __future__ import annotations

from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.core.divisions import ancestry


class UnitRollup:
    """Which units' totals a unit's figure joins, for a caller and an action, within `narrowed_to` (a subtree
    the caller chose; None for all of its reach)."""

    def __init__(self, principal: Principal, action: Action, narrowed_to: str | None = None) -> None:
        self._principal = principal
        self._action = action
        self._narrowed_to = narrowed_to
        self._whole: dict[str, bool] = {}

    def units_of(self, unit: str) -> list[str]:
        """The unit and those of its ancestors inside the narrowed subtree that the caller reads whole."""
        joined = []
        for code in ancestry(unit):
            if self._narrowed_to is not None and len(code) < len(self._narrowed_to):
                continue
            if code not in self._whole:
                self._whole[code] = self._principal.can(self._action, code)
            if self._whole[code]:
                joined.append(code)
        return joined
