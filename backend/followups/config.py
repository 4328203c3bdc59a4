"""A county's follow-up rules (随访与三查频次): read by the sweep, changed by the county on its settings page.

The rules are `FollowUpRules` (backend/followups/rules.py): the shipped defaults, with the county's override in
its `case_type_configs` row of code `followup_rules` holding only the keys it changes. `save_rules` replaces the
override with the keys that differ from the defaults (optimistic lock on the row's version) and audits the change;
`reset_rules` goes back to the defaults.

Functions flush, never commit.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.case_types.repository import CaseTypeConfigRepository
from backend.case_types.service import effective_case_types
from backend.core.errors import FieldError, StaleVersion
from backend.followups.errors import FollowUpRulesConflict, FollowUpRulesRejected, FollowUpRulesVersionRequired
from backend.followups.rules import (
    CASE_TYPE_FOR_KIND,
    RULES_CONFIG_CODE,
    FollowUpKind,
    FollowUpRules,
    rules_from_override,
)
from backend.followups.schemas import FollowUpRulesRead, FollowUpRulesUpdate
from backend.models import CaseTypeConfig

CONFIGURE_ACTION = "followup_rules.configure"
ENTITY_TYPE = "followup_rules"
DEFAULTS = FollowUpRules()


async def load_rules(session: AsyncSession) -> FollowUpRules | None:
    """The county's rules (defaults with its `followup_rules` override); None when it switched follow-up off.

    Raises InvalidFollowUpRules when the saved override cannot be read.
    """
    row = await CaseTypeConfigRepository(session).by_code(RULES_CONFIG_CODE)
    if row is None:
        return rules_from_override(None)
    if row.enabled is False:
        return None
    return rules_from_override(row.overrides)


async def rules_or_defaults(session: AsyncSession) -> FollowUpRules:
    """The county's rules for reading a setting (the grace days of its check rounds): the defaults when it
    switched follow-up off."""
    return await load_rules(session) or DEFAULTS


def enabled_kinds(rules: FollowUpRules, enabled_case_types: set[str]) -> set[FollowUpKind]:
    """The kinds switched on by the rules whose case type the county has not disabled."""
    switched_on = {
        FollowUpKind.certificate_inspection: rules.inspection_enabled,
        FollowUpKind.certificate_renewal: rules.renewal_enabled,
        FollowUpKind.check_round: rules.check_rounds_enabled,
        FollowUpKind.mail_back_notice: rules.mail_back_enabled,
        FollowUpKind.postpartum_visit: rules.postpartum_visit_enabled,
        FollowUpKind.agreement_renewal: rules.agreement_renewal_enabled,
        FollowUpKind.pill_user_visit: rules.pill_user_visits_enabled,
        FollowUpKind.post_procedure_visit: rules.post_procedure_visits_enabled,
        FollowUpKind.returned_migrant_visit: rules.returned_migrant_visits_enabled,
        FollowUpKind.missed_checks_visit: rules.check_rounds_enabled,
    }
    return {kind for kind, on in switched_on.items() if on and CASE_TYPE_FOR_KIND[kind] in enabled_case_types}


async def enabled_case_type_codes(session: AsyncSession) -> set[str]:
    """The case types the county has enabled (shipped defaults merged with its case-type overrides)."""
    return {code for code, definition in (await effective_case_types(session)).items() if definition.enabled}


def _read(rules: FollowUpRules, row: CaseTypeConfig | None) -> FollowUpRulesRead:
    overridden = sorted((row.overrides or {}).keys()) if row is not None else []
    return FollowUpRulesRead(
        **rules.model_dump(),
        enabled=not (row is not None and row.enabled is False),
        overridden_fields=overridden,
        version=row.version if row is not None else None,
    )


async def get_rules(session: AsyncSession) -> FollowUpRulesRead:
    """The county's rules as the settings page shows them (an unreadable override reads as the defaults)."""
    row = await CaseTypeConfigRepository(session).by_code(RULES_CONFIG_CODE)
    try:
        rules = rules_from_override(row.overrides if row is not None else None)
    except ValueError:
        rules = DEFAULTS
    return _read(rules, row)


def _validated(values: dict[str, Any]) -> FollowUpRules:
    try:
        return FollowUpRules.model_validate(values)
    except ValidationError as error:
        raise FollowUpRulesRejected(
            [FieldError(("body", *map(str, problem["loc"])), _message(problem)) for problem in error.errors()]
        ) from None


def _message(problem: Any) -> str:
    return f"取值不合要求 / {problem['msg']}"


async def save_rules(session: AsyncSession, principal: Principal, update: FollowUpRulesUpdate) -> FollowUpRulesRead:
    """Replace the county's override with the given rules (only what differs from the defaults is stored);
    the version read is required once the county has a row. Audited with the keys that changed."""
    values = update.model_dump(exclude={"version", "enabled"})
    rules = _validated(values)
    overrides = {
        key: value
        for key, value in rules.model_dump(mode="json").items()
        if value != DEFAULTS.model_dump(mode="json")[key]
    }
    repository = CaseTypeConfigRepository(session)
    row = await repository.by_code(RULES_CONFIG_CODE, for_update=True)
    if row is not None and update.version is None:
        raise FollowUpRulesVersionRequired()
    if row is not None and update.version != row.version:
        raise StaleVersion(current={"version": row.version, "overrides": row.overrides, "enabled": row.enabled})
    if row is None and update.version is not None:
        raise StaleVersion(current={"version": None, "overrides": {}, "enabled": None})
    enabled = None if update.enabled else False
    before = {"enabled": row.enabled, **(row.overrides or {})} if row is not None else {"enabled": None}
    if row is None:
        row = CaseTypeConfig(
            id=uuid.uuid4(),
            tenant_id=repository.tenant_id,
            code=RULES_CONFIG_CODE,
            enabled=enabled,
            overrides=overrides,
        )
        repository.add(row)
    else:
        row.enabled, row.overrides = enabled, overrides
    await repository.flush_unique("uq_case_type_configs_tenant_id_code", FollowUpRulesConflict)
    changes = audit.diff(before, {"enabled": enabled, **overrides})
    if changes:
        await audit.record(
            session,
            action=CONFIGURE_ACTION,
            entity_type=ENTITY_TYPE,
            entity_id=RULES_CONFIG_CODE,
            org_unit_code=principal.tenant_code,
            changes=changes,
        )
    return _read(rules, row)
