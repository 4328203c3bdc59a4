"""Reading and changing a county's settings of the accountable procedures.

Every reader calls `county_settings(session)`: the saved document over the defaults, read per call (a change is
seen by the next request). A saved document that no longer validates (an older rule set) falls back to the
defaults, logged. Changing it replaces the whole document (fields left out take the default), with the version
read (optimistic locking) and an audit event of what changed. Flushes, never commits.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.core.errors import StaleVersion
from backend.county_settings.errors import SettingsConflict, SettingsVersionRequired
from backend.county_settings.repository import CountySettingRepository
from backend.county_settings.schemas import CountySettings, CountySettingsRead, CountySettingsUpdate
from backend.models import CountySetting

log = logging.getLogger(__name__)


def _settings(row: CountySetting | None) -> CountySettings:
    if row is None:
        return CountySettings()
    try:
        return CountySettings.model_validate(row.settings)
    except ValidationError:
        log.warning("unreadable county settings; using the defaults")
        return CountySettings()


async def county_settings(session: AsyncSession) -> CountySettings:
    """This county's settings: what it saved over the defaults."""
    return _settings(await CountySettingRepository(session).current())


async def read_settings(session: AsyncSession) -> CountySettingsRead:
    """The settings with the saved row's version (null when never saved)."""
    row = await CountySettingRepository(session).current()
    return CountySettingsRead(**_settings(row).model_dump(), version=row.version if row else None)


async def update_settings(
    session: AsyncSession, principal: Principal, update: CountySettingsUpdate
) -> CountySettingsRead:
    """Replace the county's settings with `update` (the version read is required once saved), audited."""
    repository = CountySettingRepository(session)
    row = await repository.current(for_update=True)
    if row is not None and update.version is None:
        raise SettingsVersionRequired()
    if row is not None and update.version != row.version:
        raise StaleVersion(current={"version": row.version, **row.settings})
    if row is None and update.version is not None:
        raise StaleVersion(current={"version": None})
    document: dict[str, Any] = CountySettings.model_validate(update.model_dump(exclude={"version"})).model_dump(
        mode="json"
    )
    before = _settings(row).model_dump(mode="json")
    if row is None:
        row = CountySetting(id=uuid.uuid4(), tenant_id=repository.tenant_id, settings=document)
        repository.add(row)
    else:
        row.settings = document
    await repository.flush_unique("uq_county_settings_tenant_id", SettingsConflict)
    changes = audit.diff(before, document)
    if changes:
        await audit.record(
            session,
            action="county_settings.update",
            entity_type=CountySettingRepository.entity_type,
            entity_id=principal.tenant_code or "",
            org_unit_code=principal.tenant_code,
            changes=changes,
        )
    return CountySettingsRead(**_settings(row).model_dump(), version=row.version)
