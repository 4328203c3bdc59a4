"""The triage case a routed department notification opens (部门通报核实)."""

from __future__ import annotations

TRIAGE_CASE_TYPE = "department_notification"
