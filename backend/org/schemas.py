from __future__ import annotations

import uuid

from backend.core.schemas import OutputSchema
from backend.models import OrgUnitKind


class OrgUnitRead(OutputSchema):
    id: uuid.UUID
    code: str
    parent_code: str | None
    name: str
    kind: OrgUnitKind
    active: bool
