"""Sending outflow/inflow notices (流入登记通报, 离开通报) to the registration county, on the shared verification
record. The persons service sends them as part of a registration, an import or a departure; filing them on the
receiving side is backend/verification/flow_notices.py.

When county A registers an inflow person whose household registration lies in county B (another tenant of this
instance), A's request writes, in the same transaction, a notice (kind `notice`, question type
`inflow_registered`) addressed to B's registration township, carrying only the minimum subject data: name, ID
number, residence county and township, arrival date. When A marks the person as departed (moved on or returned
home), a second notice (`inflow_left`) follows. Both are audited on A's chain under the notice's correlation id.
When B is not on the platform nothing is sent (the officer may send a letter): A's audit records that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend.audit import service as audit
from backend.calendar.service import load_calendar
from backend.core.clock import china_day, utc_now
from backend.core.divisions import county_of
from backend.db.engine import Database
from backend.models import Channel, FlowDirection, Person, QuestionType, VerificationKind
from backend.persons.identifiers import resident_id_of
from backend.tenants.directory import route_division
from backend.verification import records
from backend.verification.repository import VerificationRepository

FlowEvent = Literal["inflow_registered", "inflow_left"]
HEADER = "X-Flow-Notice"


@dataclass
class FlowNotice:
    """What happened to the notice: `sent` (a row in B's inbox) or `off_platform` (nothing sent, recorded)."""

    outcome: Literal["sent", "off_platform"]
    correlation_id: str
    county_code: str

    def header(self) -> str:
        """The value of the API's `X-Flow-Notice` header: outcome; correlation id; the registration county."""
        return f"{self.outcome}; {self.correlation_id}; {self.county_code}"


def _database_of(session: AsyncSession) -> Database:
    """The session's own engine: the other county is looked up in a short transaction of its own, outside this
    county's."""
    engine = session.bind
    return Database(engine=engine, sessionmaker=async_sessionmaker(engine, expire_on_commit=False))  # type: ignore[arg-type]


async def notify_registration_place(
    session: AsyncSession, person: Person, event: FlowEvent, on: date | None, created_by: str
) -> FlowNotice | None:
    """Notify the person's registration county of an inflow registration or departure in this county; None when
    there is nobody to notify (not an inflow person, no registration township, or it is this county)."""
    code = person.registration_division_code
    if person.flow_direction != FlowDirection.inflow or not code or len(code) < 9:
        return None
    route = await route_division(_database_of(session), code)
    repository = VerificationRepository(session)
    if route.tenant_id == repository.tenant_id or (route.on_platform and route.township_unit_id is None):
        return None
    county_code = county_of(person.org_unit_code)
    responder = records.addressed_to(route, code)
    now = utc_now()
    arrival = on or person.flow_date or china_day(now)
    correlation_id = records.correlation_id("TB", county_code, now)
    question_type = QuestionType(event)
    if not route.on_platform:
        # Nothing travels automatically: the officer may send a letter. A's chain records that it was not sent.
        await audit.record_about(
            session,
            "person",
            person,
            "verification.notice_not_sent",
            {
                "question_type": [None, question_type.value],
                "responder_county_code": [None, route.county_code],
                "responder_unit_code": [None, responder["responder_unit_code"]],
                "on_platform": [None, False],
            },
            reason="户籍地不在本平台，未自动通报，可函告 / the registration county is not on the platform: not sent",
            correlation_id=correlation_id,
        )
        return FlowNotice("off_platform", correlation_id, route.county_code)
    requester = await records.requested_by(session, county_code, person.org_unit_code)
    unit_code, unit_name = requester["requester_unit_code"], requester["requester_unit_name"]
    verb = "流入登记 / registered as inflow" if event == "inflow_registered" else "离开（注销流入） / left"
    date_label = "流入日期 / arrived" if event == "inflow_registered" else "离开日期 / left on"
    row = records.new_request(
        await load_calendar(session),
        resident_id=resident_id_of(person),
        arrived_at=now,
        tenant_id=repository.tenant_id,
        kind=VerificationKind.notice,
        correlation_id=correlation_id,
        case_id=None,
        **requester,
        **responder,
        subject_name=person.name,
        attachment_document_ids=[],
        channel=Channel.platform,
        question_type=question_type,
        question=(
            f"{verb}: {person.name}; 现居住地 / residence: {county_code} {unit_name} ({unit_code}); "
            f"{date_label}: {arrival.isoformat()}"
        ),
        **records.left_on_time(now),
        created_by=created_by,
    )
    repository.add(row)
    await session.flush()
    await records.opened(
        session,
        row,
        "verification.notice",
        unit_code,
        {
            "person_id": person.id,
            "question_type": question_type.value,
            "responder_county_code": row.responder_county_code,
            "responder_unit_code": row.responder_unit_code,
            "arrival_date": arrival.isoformat(),
        },
    )
    return FlowNotice("sent", correlation_id, route.county_code)
