from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from backend.core.input import CountyCode as CountyCodeText
from backend.core.input import Text
from backend.core.schemas import InputSchema, OutputSchema

CountyCode = Annotated[CountyCodeText, Field(examples=["330106"])]


class TenantCreate(InputSchema):
    """A county to provision: its 6-digit division code (行政区划代码) and name."""

    code: CountyCode
    name: Annotated[str, Text(100, min_length=1)] = Field(examples=["西湖区"])


class TenantRead(OutputSchema):
    id: uuid.UUID
    code: str
    name: str
    active: bool
    created_at: datetime
