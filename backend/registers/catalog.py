"""Every register by its URL name: the registry's (backend/registers/definitions.py) and village service work's
(backend/registers/village.py, backend/registers/housing.py, backend/registers/campaigns.py). The service, the API
and the pages look them up here."""

from __future__ import annotations

from typing import Any

from backend.registers import definitions
from backend.registers.campaigns import CAMPAIGN_REGISTERS
from backend.registers.definitions import Register
from backend.registers.housing import HOUSING_REGISTERS
from backend.registers.village import VILLAGE_REGISTERS

REGISTERS: dict[str, Register[Any]] = {
    **definitions.REGISTERS,
    **{register.code: register for register in (*VILLAGE_REGISTERS, *HOUSING_REGISTERS, *CAMPAIGN_REGISTERS)},
}
