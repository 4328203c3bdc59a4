"""A person's delivery preferences (通知设置): per notification kind, which channels besides in-app (always on);
the e-mail address and mobile number those need (the number stored as ciphertext, shown masked); quiet hours in
China time, during which deliveries wait for the end of the window (the bell shows at once); for supervisors
(who may assign cases) a daily digest instead: one message per channel at 08:30 China time on the next working
day of the county's calendar (official schedule with 调休 and county holidays)."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import service as audit
from backend.authz.principal import Principal
from backend.authz.vocabulary import Action
from backend.calendar.workdays import WorkingDayCalendar
from backend.core.clock import CHINA, utc_now
from backend.core.crypto import personal_data_cipher
from backend.core.errors import FieldError, InvalidInput
from backend.models import NotificationPreference
from backend.notifications.delivery.channels import ChannelKind
from backend.notifications.delivery.repository import DeliveryRepository
from backend.notifications.delivery.schemas import PreferencesRead, PreferencesUpdate
from backend.notifications.errors import NotificationNotFound

PHONE_CONTEXT = "notification_preferences.phone"


def _user_id(principal: Principal) -> uuid.UUID:
    if principal.kind != "user":
        raise NotificationNotFound()
    return uuid.UUID(principal.id)


def phone_of(row: NotificationPreference) -> str | None:
    if row.phone_ciphertext is None:
        return None
    return personal_data_cipher().decrypt(row.phone_ciphertext, context=PHONE_CONTEXT)


def _read(row: NotificationPreference | None) -> PreferencesRead:
    if row is None:
        return PreferencesRead(channels={}, email=None, phone=None, quiet_start=None, quiet_end=None)
    phone = phone_of(row)
    return PreferencesRead(
        channels=row.channels,
        email=row.email,
        phone=f"{phone[:3]}****{phone[-4:]}" if phone else None,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        digest=row.digest,
    )


async def read_preferences(session: AsyncSession, principal: Principal) -> PreferencesRead:
    return _read(await DeliveryRepository(session).preference(_user_id(principal)))


async def update_preferences(session: AsyncSession, principal: Principal, update: PreferencesUpdate) -> PreferencesRead:
    """Replace the caller's preferences; a phone left out keeps the saved one (SMS needs one). Audited."""
    user_id = _user_id(principal)
    repository = DeliveryRepository(session)
    row = await repository.preference(user_id, for_update=True)
    if update.digest and not principal.holds(Action.case_assign):
        raise InvalidInput(
            "只有负责人可以选择每日汇总 / only supervisors may choose the daily digest",
            [
                FieldError(
                    ("body", "digest"), "只有负责人可以选择每日汇总 / only supervisors may choose the daily digest"
                )
            ],
        )
    sms_chosen = any(ChannelKind.sms in channels for channels in update.channels.values())
    if sms_chosen and update.phone is None and (row is None or row.phone_ciphertext is None):
        raise InvalidInput(
            "请填写手机号码 / give a mobile number",
            [FieldError(("body", "phone"), "选择了短信通知，请填写手机号码 / SMS chosen: give a mobile number")],
        )
    before = _read(row).model_dump(mode="json")
    if row is None:
        row = NotificationPreference(id=uuid.uuid4(), tenant_id=repository.tenant_id, user_id=user_id)
        repository.add(row)
    row.channels = {
        kind.value: sorted({channel.value for channel in channels if channel != ChannelKind.in_app})
        for kind, channels in update.channels.items()
    }
    row.email = update.email
    if update.phone is not None:
        row.phone_ciphertext = personal_data_cipher().encrypt(update.phone, context=PHONE_CONTEXT)

    row.quiet_start, row.quiet_end = update.quiet_start, update.quiet_end
    row.digest = update.digest
    row.updated_at = utc_now()
    await repository.flush()
    after = _read(row)
    changes = audit.diff(before, after.model_dump(mode="json"))
    if changes:
        await audit.record(
            session,
            action="notification_preferences.update",
            entity_type="notification_preferences",
            entity_id=user_id,
            changes=changes,
        )
    return after


def after_quiet_hours(moment: datetime, quiet_start: time | None, quiet_end: time | None) -> datetime:
    """When a delivery made at `moment` may go: `moment`, or the end of the quiet window it falls in (China
    time; a window may span midnight, 22:00–07:00)."""
    if quiet_start is None or quiet_end is None:
        return moment
    local = moment.astimezone(CHINA)
    now = local.time()
    if quiet_start < quiet_end:
        inside = quiet_start <= now < quiet_end
        end_day = local.date()
    else:  # spans midnight
        inside = now >= quiet_start or now < quiet_end
        end_day = local.date() + timedelta(days=1) if now >= quiet_start else local.date()
    if not inside:
        return moment
    return datetime.combine(end_day, quiet_end, tzinfo=CHINA)


DIGEST_AT = time(8, 30)


def next_digest(calendar: WorkingDayCalendar, moment: datetime) -> datetime:
    """The first 08:30 China time on a working day strictly after `moment`."""
    local = moment.astimezone(CHINA)
    day = local.date() if local.time() < DIGEST_AT else local.date() + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, DIGEST_AT, tzinfo=CHINA)
