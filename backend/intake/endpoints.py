"""Department notification API: submit (one or a batch), status, callbacks, reconciliation; the officer's
triage of the cases they open; the platform operator's holding queue and dead-letter list."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, Request, Response, status

from backend.authz.dependencies import declares
from backend.authz.vocabulary import Action
from backend.core.errors import FieldError
from backend.core.input import Code, Text
from backend.core.routing import API_V1
from backend.db.session import SessionDep
from backend.intake import reconciliation, routing, service, submit, webhooks
from backend.intake.auth import IntakeOperate, IntakeReadStatus, TriageRead, TriageWrite, submit_transaction
from backend.intake.errors import InvalidNotification
from backend.intake.schemas import (
    EXAMPLES,
    AcceptedItem,
    BatchRequest,
    BatchResponse,
    HeldNotificationRead,
    Notification,
    NotificationDeliveryRead,
    NotificationStatusRead,
    ReconciliationRow,
    TriageDecision,
    WebhookRegistered,
    WebhookRegistration,
)
from backend.intake.schemas import TriageRead as TriageBody
from backend.registers.definitions import Cell
from backend.registers.rendering import XlsxRegisterWriter

router = APIRouter(prefix=API_V1, tags=["intake"])
platform_router = APIRouter(prefix=f"{API_V1}/platform/intake", tags=["platform"])

IdempotencyKey = Annotated[
    Annotated[str, Text(100)] | None,
    Header(alias="Idempotency-Key", description="The sender's key for this request (stored)"),
]
Month = Annotated[str, Code(r"^20[0-9]{2}-(0[1-9]|1[0-2])$", 7), Query(examples=["2026-11"])]

SINGLE_EXAMPLES = {name: {"summary": name, "value": value} for name, value in EXAMPLES.items()}
BATCH_EXAMPLES = {
    "mixed": {
        "summary": "two police notifications (each client sends its own department's types)",
        "value": {"notifications": [EXAMPLES["residence_registered"], EXAMPLES["residence_permit_issued"]]},
    }
}


def _status_read(notification: Any) -> NotificationStatusRead:
    return NotificationStatusRead(
        id=notification.id,
        transaction_id=notification.transaction_id,
        type=notification.notification_type,
        status=notification.status,
        county_code=notification.county_code,
        township_code=notification.township_code,
        case_number=notification.case_number,
        rejection_reason=notification.rejection_reason,
        received_at=notification.received_at,
        routed_at=notification.routed_at,
        decided_at=notification.decided_at,
    )


# The two submit routes run on the lean transaction of backend/intake/auth.py (no session
# dependency): the permission, the client's context and the commit-before-response happen there.
@router.post(
    "/notifications",
    response_model=AcceptedItem,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit one notification",
)
@declares(Action.intake_submit)
async def submit_notification(
    request: Request,
    notification: Annotated[Notification, Body(openapi_examples=SINGLE_EXAMPLES)],
    idempotency_key: IdempotencyKey = None,
) -> AcceptedItem:
    async with submit_transaction(request) as (store, principal):
        return await submit.submit_one(store, principal, notification, idempotency_key)


@router.post(
    "/notifications:batch",
    response_model=BatchResponse,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit up to 1,000 notifications; bad items are reported by index, the rest accepted",
)
@declares(Action.intake_submit)
async def submit_batch(
    request: Request,
    batch: Annotated[BatchRequest, Body(openapi_examples=BATCH_EXAMPLES)],
    idempotency_key: IdempotencyKey = None,
) -> BatchResponse:
    async with submit_transaction(request) as (store, principal):
        return await submit.submit(store, principal, batch.notifications, idempotency_key)


@router.get("/notifications/{notification_id}", response_model=NotificationStatusRead, summary="Status")
async def notification_status(
    session: SessionDep, principal: IntakeReadStatus, notification_id: uuid.UUID
) -> NotificationStatusRead:
    return _status_read(await submit.notification_for_client(session, principal, notification_id))


@router.put("/intake/webhook", response_model=WebhookRegistered, summary="Register the status callback URL")
async def register_webhook(
    session: SessionDep, principal: IntakeReadStatus, registration: WebhookRegistration
) -> WebhookRegistered:
    secret = await webhooks.register_webhook(session, principal, registration.url)
    return WebhookRegistered(
        url=registration.url,
        secret=secret,
        signature_header=webhooks.SIGNATURE_HEADER,
        timestamp_header=webhooks.TIMESTAMP_HEADER,
    )


def _reconciliation_response(rows: list[ReconciliationRow], month: str, output: str) -> Any:
    if output == "json":
        return rows
    headers = ["部门 department", "客户端 client", "月份 month", "收到 received", "已分流 routed"]
    headers += ["已采纳 accepted", "已退回 rejected", "待处理 pending", "暂存 held"]
    writer = XlsxRegisterWriter(f"部门通报对账 {month}", f"对账{month}", headers, [14, 28, 10, 10, 10, 10, 10, 10, 10])
    table: list[list[Cell]] = []
    for row in rows:
        table.append([row.department, row.client_id, row.month, row.received, row.routed])
        table[-1].extend([row.accepted, row.rejected, row.pending, row.held])
    writer.write_rows(table)
    content = writer.finish().read()
    return Response(
        content=content,
        media_type=writer.media_type,
        headers={"Content-Disposition": f'attachment; filename="intake-reconciliation-{month}.xlsx"'},
    )


@router.get(
    "/intake/reconciliation",
    response_model=list[ReconciliationRow],
    summary="My monthly reconciliation (JSON or XLSX)",
)
async def my_reconciliation(
    session: SessionDep,
    principal: IntakeReadStatus,
    month: Month,
    output: Annotated[Literal["json", "xlsx"], Query(alias="format")] = "json",
) -> Any:
    rows = await reconciliation.reconciliation(session, month, principal.id)
    return _reconciliation_response(rows, month, output)


@router.get(
    "/intake/triages/{case_id}",
    response_model=TriageBody,
    summary="A triage case's notification (ID numbers in full for holders of person.read_identifiers, audited)",
)
async def read_triage(session: SessionDep, principal: TriageRead, case_id: uuid.UUID) -> TriageBody:
    triage, payload = await service.read_triage(session, principal, case_id)
    return _triage_body(triage, payload)


def _masked(triage: Any) -> dict[str, Any]:
    """The answer to a decision shows the notification with the ID numbers masked; the read view
    (GET /intake/triages/{case_id}) shows them in full to those who may, audited."""
    return service.masked_payload(submit.decrypt_payload(triage.payload_encrypted))


def _triage_body(triage: Any, payload: dict[str, Any], follow_ups: list[Any] | None = None) -> TriageBody:
    return TriageBody(
        case_id=triage.case_id,
        notification_id=triage.notification_id,
        type=triage.notification_type,
        department=triage.department,
        payload=payload,
        matches=triage.matches,
        verified_at=triage.verified_at,
        decision=triage.decision,
        decision_reason=triage.decision_reason,
        follow_up_case_ids=[case.id for case in follow_ups or []],
    )


@router.post("/intake/triages/{case_id}/verify", response_model=TriageBody, summary="Verify (核实)")
async def verify_triage(session: SessionDep, principal: TriageWrite, case_id: uuid.UUID) -> TriageBody:
    triage = await service.verify(session, principal, case_id)
    return _triage_body(triage, _masked(triage))


@router.post("/intake/triages/{case_id}/accept", response_model=TriageBody, summary="Accept into the registry")
async def accept_triage(session: SessionDep, principal: TriageWrite, case_id: uuid.UUID) -> TriageBody:
    triage, follow_ups = await service.accept(session, principal, case_id)
    return _triage_body(triage, _masked(triage), follow_ups)


@router.post("/intake/triages/{case_id}/reject", response_model=TriageBody, summary="Reject with a reason")
async def reject_triage(
    session: SessionDep, principal: TriageWrite, case_id: uuid.UUID, decision: TriageDecision
) -> TriageBody:
    if decision.reason is None:
        raise InvalidNotification([FieldError(("body", "reason"), "须说明理由 / a reason is required")])
    triage = await service.reject(session, principal, case_id, decision.reason)
    return _triage_body(triage, _masked(triage))


@platform_router.get("/held", response_model=list[HeldNotificationRead], summary="Holding queue")
async def held(
    session: SessionDep,
    _: IntakeOperate,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[HeldNotificationRead]:
    return [
        HeldNotificationRead(
            id=row.id,
            client_id=row.client_id,
            department=row.department,
            type=row.notification_type,
            county_code=row.county_code,
            division_code=row.division_code,
            status=row.status,
            received_at=row.received_at,
        )
        for row in await routing.held_notifications(session, offset=offset, limit=limit)
    ]


@platform_router.post("/held/release", summary="Route the holding queue again (after a county joined)")
async def release_held(session: SessionDep, _: IntakeOperate) -> dict[str, int]:
    return {"released": await routing.release_held(session)}


@platform_router.get(
    "/reconciliation", response_model=list[ReconciliationRow], summary="Every department's reconciliation"
)
async def platform_reconciliation(
    session: SessionDep,
    _: IntakeOperate,
    month: Month,
    output: Annotated[Literal["json", "xlsx"], Query(alias="format")] = "json",
) -> Any:
    return _reconciliation_response(await reconciliation.reconciliation(session, month, None), month, output)


@platform_router.get("/dead-letters", response_model=list[NotificationDeliveryRead], summary="Callbacks that gave up")
async def dead_letters(session: SessionDep, _: IntakeOperate) -> list[NotificationDeliveryRead]:
    return [NotificationDeliveryRead.model_validate(row) for row in await webhooks.dead_letters(session)]


@platform_router.post("/dead-letters/{delivery_id}/resend", response_model=NotificationDeliveryRead, summary="Resend")
async def resend(session: SessionDep, _: IntakeOperate, delivery_id: uuid.UUID) -> NotificationDeliveryRead:
    return NotificationDeliveryRead.model_validate(await webhooks.resend(session, delivery_id))
